"""Serve: publish a model as an OpenAI-compatible API, show its key once, list servers with how to call them."""
import streamlit as st

from ui.common import flash, lang, model_name, named, show_flash, t, workspace
from workbench import jobs
from workbench.i18n import STRINGS, in_language
from workbench.model_convert import ModelError
from workbench.models import list_models
from workbench.serve import ServeError, key_export, list_servers, restart_server, snippets, start_server, stop_server
from workbench.serve.jobs import is_public

ws = workspace()


def start_form() -> None:
    """Model, host, port, Start; on success the key is shown in this run only (it is kept nowhere)."""
    models = {m.id: m for m in list_models(ws) if m.available}
    if not models:
        st.info(t("serve.no_models"))
        return
    runs_first = sorted(models, key=lambda m: models[m].kind != "run")
    cols = st.columns([5, 3, 2])
    model = cols[0].selectbox(t("serve.model"), runs_first, key="serve_model", help=t("serve.model_help"),
                              format_func=model_name(ws))
    host = cols[1].text_input(t("serve.host"), value="127.0.0.1", key="serve_host", help=t("serve.host_help"))
    port = cols[2].number_input(t("serve.port"), min_value=0, max_value=65535, value=0, step=1, key="serve_port")
    if is_public(host.strip()):
        st.warning(t("serve.public_warning", host=host.strip()))
    if not st.button(t("serve.start"), type="primary", key="serve_start"):
        return
    try:
        with st.spinner(t("serve.starting")):
            job_id, key, url = start_server(ws, model, host.strip(), int(port))
    except (ServeError, ModelError, ValueError) as error:
        st.error(str(error))
        return
    st.success(t("serve.started", model=model, url=url))
    st.warning(t("serve.key_once"), icon="🔑")
    st.code(key_export(key), language="bash")
    st.caption(t("serve.key_label"))


def state_name(state: str) -> str:
    """A server's state in the user's language: serving, stopped, or the job's own state word."""
    return t(f"serve.state.{state}") if f"serve.state.{state}" in STRINGS else named("job.state", state)


def server_card(server) -> None:
    with st.container(border=True):
        cols = st.columns([4, 4, 2, 2])
        cols[0].markdown(f"**{t('serve.model')}**  \n`{server.model}`")
        cols[1].markdown(f"**{t('serve.url')}**  \n`{server.base_url or '–'}`")
        cols[2].markdown(f"**{t('serve.state')}**  \n{state_name(server.state)}")
        if server.state in jobs.ACTIVE and cols[3].button(t("serve.stop"), key=f"serve_stop_{server.job_id}"):
            stop_server(ws, server.job_id)
            flash(t("serve.stopped", model=server.model, job=server.job_id))
            st.rerun()  # the list shows it stopped; the message above it says so
        if server.state in ("interrupted", "cancelled", "failed") and cols[3].button(
                t("serve.restart"), key=f"serve_restart_{server.job_id}", help=t("serve.restart_help")):
            try:
                with st.spinner(t("serve.starting")):
                    url = restart_server(ws, server.job_id)
            except (ServeError, ModelError, ValueError) as error:
                st.error(str(error))
            else:
                flash(t("serve.restarted", model=server.model, url=url))
                st.rerun()
        if server.message:
            st.caption(in_language(server.message, lang()))
        if server.base_url and server.state == "running":
            with st.expander(t("serve.how")):
                code = snippets(server.base_url, server.model)
                st.caption(t("serve.python"))
                st.code(code["python"], language="python")
                st.caption(t("serve.curl"))
                st.code(code["curl"], language="bash")


def server_list() -> None:
    """Running (and interrupted) servers; stopped ones behind the toggle, and said so when they are all hidden."""
    st.subheader(t("serve.servers"))
    show_flash()  # after Stop or Restart: above the list that shows it
    cols = st.columns([3, 1])
    show_finished = cols[0].toggle(t("serve.show_finished"), key="serve_show_finished")
    cols[1].button(t("serve.refresh"), key="serve_refresh")
    every = list_servers(ws)
    servers = [s for s in every if show_finished or s.state in (*jobs.ACTIVE, "interrupted")]
    if not servers:
        hidden = len(every) - len(servers)
        st.caption(t("serve.none_running", count=hidden) if hidden else t("serve.none"))
    for server in servers:
        server_card(server)


st.title(t("serve.title"))
st.caption(t("serve.caption"))
start_form()
server_list()
