"""Shared page pieces: the workspace handle, language, problem tables, version pickers, job status."""
from __future__ import annotations

import os
from functools import partial

import pandas as pd
import streamlit as st

from workbench import jobs, models
from workbench.i18n import LANGUAGES, STRINGS, duration, in_language, save_language, saved_language
from workbench.i18n import t as translate
from workbench.problems import problems_table
from workbench.workspace import Workspace


@st.cache_resource(show_spinner=False)
def _open_workspace(root: str) -> Workspace:
    return Workspace(root)  # recovery (dead jobs, temp files) runs once per app process


# Streamlit drops a widget's state on a run that does not draw it, and a page switch (st.switch_page, a page
# link, the sidebar) starts with no widget state at all. So the sidebar's choices are also kept under keys no
# widget owns, and copied back into the widget keys before the widgets are drawn.
LANG_KEPT, WORKSPACE_KEPT = "ui_lang", "ui_workspace_root"


def workspace() -> Workspace:
    root = (st.session_state.get("workspace_root") or st.session_state.get(WORKSPACE_KEPT)
            or os.environ.get("WORKBENCH_WORKSPACE", "workspace"))
    return _open_workspace(str(root))


def lang() -> str:
    """The UI language: the sidebar select's value, else the one kept this session, else the tab's URL
    (?lang=en survives a reload), else the workspace's last choice, else WORKBENCH_LANG."""
    for value in (st.session_state.get("lang"), st.session_state.get(LANG_KEPT)):
        if value in LANGUAGES:
            return value
    return _starting_language()


def _starting_language() -> str:
    asked = st.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    saved = saved_language(workspace().root)
    if saved:
        return saved
    default = os.environ.get("WORKBENCH_LANG", "zh")
    return default if default in LANGUAGES else "zh"


def _language_chosen() -> None:
    """The user picked a language in the select: keep it for this session and remember it for the next."""
    chosen = st.session_state["lang"]
    st.session_state[LANG_KEPT] = chosen
    try:
        save_language(workspace().root, chosen)
    except OSError:
        pass  # a read-only workspace: the choice still holds for this session and this tab (?lang=)


def sidebar_settings() -> None:
    """The language select and the workspace folder, with values that survive page switches and reloads."""
    current = lang()
    st.session_state[LANG_KEPT] = current
    if st.session_state.get("lang") not in LANGUAGES:
        st.session_state["lang"] = current  # after a page switch: the select shows what the page renders in
    if st.query_params.get("lang") != current:
        st.query_params["lang"] = current  # per tab, and a reload keeps it
    st.selectbox(t("side.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                 on_change=_language_chosen)
    if not st.session_state.get("workspace_root"):
        st.session_state["workspace_root"] = (st.session_state.get(WORKSPACE_KEPT)
                                              or os.environ.get("WORKBENCH_WORKSPACE", "workspace"))
    st.session_state[WORKSPACE_KEPT] = st.text_input(t("side.workspace"), key="workspace_root")


def t(key: str, **values) -> str:
    return translate(key, lang(), **values)


def model_name(ws, with_id: bool = True):
    """A picker's format_func for model ids and endpoint names: a local model or a run shows its label first
    ("huanhuan@2 · smollm2-135m-instruct · 11-24 02:41 · local:run-…"), so a run is not a bare id;
    `with_id=False`: the label alone (the choice itself when it has none)."""
    labels = {m.id: m.label for m in models.list_models(ws)}

    def name(choice: str) -> str:
        label = labels.get(choice.removeprefix("local:")) if choice else None
        if not label or label == choice:
            return choice
        return f"{label} · {choice}" if with_id else label

    return name


def named(prefix: str, value: str) -> str:
    """A stored name in the user's language, t(f"{prefix}.{value}") (a version's operation "op.split", a metric
    "metric.rouge-1"); a name without a string shows as it is stored."""
    return t(f"{prefix}.{value}") if f"{prefix}.{value}" in STRINGS else value


def show_problems(problems, height: int = 300) -> None:
    """Problems as a table in the user's language (text only, never HTML)."""
    if not problems:
        st.success(t("common.no_problems"))
        return
    frame = problems_table(problems)
    message = "message_zh" if lang() == "zh" else "message_en"
    other = "message_en" if lang() == "zh" else "message_zh"
    st.dataframe(frame[["severity", "file", "line", "row", "field", message, other]],
                 hide_index=True, width="stretch", height=height)


def saved(new_version, key: str, next_page: tuple[str, str] | None = None) -> None:
    """After a save: select the new version, keep the message across the rerun, rerun."""
    # The selector is set on the next run, before it is drawn: popping its state alone leaves the browser
    # showing (and sending back) the old version, so the next save would start from a stale one.
    st.session_state[f"{key}_select_version"] = (new_version.dataset_id, new_version.number)
    st.session_state["flash"] = (t("common.saved_version", ref=new_version.ref), next_page)
    st.rerun()


def show_flash() -> None:
    if "flash" in st.session_state:
        message, next_page = st.session_state.pop("flash")
        st.success(message)
        if next_page:
            st.page_link(next_page[0], label=next_page[1])


def no_datasets_yet() -> None:
    """An empty workspace: say so, with the ways to get a dataset."""
    st.info(t("common.pick_dataset"))
    st.page_link("app_pages/import_data.py", label=t("nav.import"), icon="📥")
    st.page_link("app_pages/home.py", label=t("common.sample_on_home"), icon="🏠")


def pick_version(key: str, label_suffix: str = ""):
    """Dataset + version selectors; returns the VersionInfo (None when the workspace is empty)."""
    show_flash()
    ws = workspace()
    datasets = ws.datasets()
    if not datasets:
        no_datasets_yet()
        return None
    ids = [d.id for d in datasets]
    default = ids.index(st.session_state["current_dataset"]) if st.session_state.get("current_dataset") in ids else 0
    left, right = st.columns([3, 1])
    names = {d.id: f"{d.name} ({d.id}, {d.rows:,} {t('common.rows')})" for d in datasets}
    dataset_id = left.selectbox(t("common.dataset") + label_suffix, ids, index=default,
                                format_func=names.get, key=f"{key}_dataset")
    st.session_state["current_dataset"] = dataset_id
    versions = ws.versions(dataset_id)
    numbers = [v.number for v in reversed(versions)]
    labels = {v.number: f"v{v.number} · {named('op', v.op)}" for v in versions}
    selected = st.session_state.pop(f"{key}_select_version", None)
    if selected and selected[0] == dataset_id and selected[1] in labels:
        st.session_state[f"{key}_version_{dataset_id}"] = selected[1]
    number = right.selectbox(t("common.version"), numbers, format_func=labels.get, key=f"{key}_version_{dataset_id}")
    return ws.version(dataset_id, number)


def show_current_label(key: str) -> None:
    """Call before drawing a select whose option labels change between runs (a state, the language): the
    browser keeps showing the label the chosen option had when it was picked, until the value is set again."""
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]


def rows_frame(table) -> pd.DataFrame:
    """A pyarrow table as a DataFrame for display (strings stay strings)."""
    return table.to_pandas(types_mapper=pd.ArrowDtype) if table.num_rows else table.to_pandas()


def column_labels(prefix: str, names, kinds: dict | None = None) -> dict:
    """An st.dataframe column_config heading each column t(f"{prefix}.{name}"); `kinds` gives a column its type
    (a column_config class, or a functools.partial of one, called with the label)."""
    kinds = kinds or {}
    return {name: kinds.get(name, st.column_config.Column)(t(f"{prefix}.{name}")) for name in names}


def length_table(rows: list[dict]) -> None:
    """Length statistics (`workbench.data.stats.summary_rows`): headers and units in the user's language."""
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["unit"] = [t(f"ds.{unit}") for unit in frame["unit"]]
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_labels("ds.col", frame.columns))


def histogram_chart(bins, x_title: str, y_title: str):
    """Bars over pre-counted bins (rows with start, end, count), each from 0 up to its count."""
    import altair as alt

    return alt.Chart(pd.DataFrame(bins)).mark_bar().encode(
        x=alt.X("start:Q", bin="binned", title=x_title), x2="end:Q", y=alt.Y("count:Q", title=y_title),
        tooltip=["start:Q", "end:Q", "count:Q"])


def jobs_table(infos, columns: tuple[str, ...]) -> None:
    """A table of jobs: states and headers in the user's language, progress as a bar."""
    values = {"id": lambda j: j.id, "kind": lambda j: named("job.kind", j.kind), "title": lambda j: j.subject,
              "state": lambda j: t(f"job.state.{j.state}"), "progress": lambda j: j.fraction,
              "attempts": lambda j: j.attempts, "message": lambda j: in_language(j.message, lang()),
              "took": lambda j: duration((j.finished_at or j.heartbeat or j.created_at)
                                         - (j.started_at or j.created_at))}
    progress = partial(st.column_config.ProgressColumn, min_value=0, max_value=1)
    st.dataframe(pd.DataFrame([{name: values[name](j) for name in columns} for j in infos], columns=list(columns)),
                 hide_index=True, width="stretch",
                 column_config=column_labels("jobs.col", columns, {"progress": progress}))


def job_title(info) -> str:
    """The job's kind in the user's language, then what it works on: "训练 · huanhuan@2 · smollm2-135m-instruct …"."""
    return " · ".join(part for part in (named("job.kind", info.kind), info.subject) if part)


def job_card(info, show_log: bool = True, where: str = "side") -> None:
    """Progress, ETA, state, log tail and cancel/resume for one job (`where` keeps widget keys unique)."""
    fraction = info.fraction
    label = f"{job_title(info)} · {t(f'job.state.{info.state}')}"
    if info.state == "running" and fraction is not None:
        label += f" · {fraction:.0%} · " + t("job.eta", eta=duration(info.eta_seconds))
    st.progress(fraction or 0.0, text=label)
    if info.message:
        st.caption(in_language(info.message, lang()))
    columns = st.columns(2)
    if info.state in jobs.ACTIVE and columns[0].button(t("job.cancel"), key=f"{where}_cancel_{info.id}"):
        jobs.cancel(workspace(), info.id)
        st.rerun()
    if info.resumable and columns[1].button(t("job.resume"), key=f"{where}_resume_{info.id}"):
        jobs.resume(workspace(), info.id)
        st.rerun()
    if show_log:
        with st.expander(t("job.log")):
            st.code(info.log_tail(15) or "…", language=None)
