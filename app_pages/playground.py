"""Playground: the same prompt to up to four models side by side, streamed; save an exchange as a dataset row."""
import streamlit as st

from ui.common import flash, model_name, show_flash, t, workspace
from workbench import jobs
from workbench.llm import LLMError, backend_for, list_endpoints
from workbench.llm.types import GenerationParams
from workbench.playground import (MAX_COLUMNS, AlreadySaved, Column, exchange_row, model_to_prepare,
                                  save_exchange, split_choices, stream_reply, stream_side_by_side)

ws = workspace()
st.title(t("play.title"))
st.caption(t("play.caption"))
show_flash()


@st.cache_resource(show_spinner=False, max_entries=MAX_COLUMNS * 2)
def backend(root: str, name: str, settings: str):
    """One loaded model per endpoint; `settings` (the endpoint's repr) reloads it when the endpoint is edited."""
    return backend_for(ws, name)


settings = {e.name: repr(e) for e in list_endpoints(ws)}
endpoints = list(settings)
if not endpoints:
    st.info(t("play.no_models"))
    st.stop()
name_of, label_of = model_name(ws), model_name(ws, with_id=False)
default = [e for e in endpoints if e.startswith("local:")][:1] or endpoints[:1]
chosen = st.multiselect(t("play.models"), endpoints, default=default, max_selections=MAX_COLUMNS,
                        key="play_models", format_func=name_of, select_all=False)
with st.expander(t("play.settings")):
    left, middle, right = st.columns(3)
    temperature = left.slider(t("play.temperature"), 0.0, 2.0, 0.0, 0.1, key="play_temperature")
    max_tokens = middle.number_input(t("play.max_tokens"), 1, 4096, 256, key="play_max_tokens")
    seed = right.number_input(t("play.seed"), 0, 2**31 - 1, 0, key="play_seed")
params = GenerationParams(max_new_tokens=int(max_tokens), temperature=float(temperature), seed=int(seed))

conversations: dict[str, Column] = st.session_state.setdefault("play_columns", {})
for name in chosen:
    conversations.setdefault(name, Column(name))
if st.button(t("play.clear"), key="play_clear"):
    for column in conversations.values():
        column.turns.clear()

to_prepare = {name: model_to_prepare(ws, name) for name in chosen}
for name, model in to_prepare.items():
    if model:
        running = any(j.kind == "convert_model" and j.params.get("model") == model
                      for j in jobs.list_jobs(ws, jobs.ACTIVE))
        if running:
            st.info(t("play.preparing", model=model))
        else:
            st.warning(t("play.prepare", model=model))
            if st.button(t("play.prepare_start", model=model), key=f"play_prepare_{model}"):
                jobs.start(ws, "convert_model", {"model": model}, model)
                st.rerun()

slots = {}
for name, area in zip(chosen, st.columns(max(len(chosen), 1))):
    with area:
        st.markdown(f"**{label_of(name)}**")
        st.caption(name)
        column = conversations[name]
        column.system_prompt = st.text_area(t("play.system"), column.system_prompt, key=f"play_system_{name}",
                                            height=80)
        for turn in column.turns:
            with st.chat_message(turn["role"]):
                st.markdown(turn["content"])
        slots[name] = st.empty()

prompt = st.chat_input(t("play.ask"), key="play_prompt", disabled=not chosen)
if prompt:
    ready = [name for name in chosen if not to_prepare[name]]
    streams, texts = [], {name: "" for name in ready}
    for name in ready:
        conversations[name].turns.append({"role": "user", "content": prompt})
        with slots[name].container(), st.spinner(t("play.loading", model=name)):
            try:
                client = backend(str(ws.root), name, settings[name])
            except LLMError as error:
                client = error
        streams.append(iter(()) if isinstance(client, LLMError) else
                       stream_reply(client, conversations[name].messages(), params))
        if isinstance(client, LLMError):
            texts[name] = client
    for index, piece in stream_side_by_side(streams):
        name = ready[index]
        if isinstance(piece, LLMError):
            texts[name] = piece
        elif piece is not None and isinstance(texts[name], str):
            texts[name] += piece
        with slots[name].container():
            with st.chat_message("user"):
                st.markdown(prompt)
            with st.chat_message("assistant"):
                if isinstance(texts[name], LLMError):
                    st.error(str(texts[name]))
                else:
                    st.markdown(texts[name] + ("" if piece is None else " ▌"))
    for name in ready:
        if isinstance(texts[name], str) and texts[name]:
            conversations[name].turns.append({"role": "assistant", "content": texts[name]})
        else:  # a failed answer leaves no half exchange behind
            conversations[name].turns.pop()

answered = [name for name in chosen if any(turn["role"] == "assistant" for turn in conversations[name].turns)]
if answered:
    st.subheader(t("play.save"))
    datasets = {d.id: d for d in ws.datasets()}
    if not datasets:
        st.caption(t("play.no_dataset"))
    else:
        left, middle, right = st.columns(3)
        source = left.selectbox(t("play.save_from"), answered, key="play_save_from", format_func=name_of)
        # by name: a keyed selectbox keeps showing the label it had when picked, so "name@head" would go stale
        target = middle.selectbox(t("play.save_to"), list(datasets), key="play_save_to",
                                  format_func=lambda d: datasets[d].name)
        splits = split_choices(ws, target)
        split = right.selectbox(t("play.save_split"), splits, key="play_save_split") if splits else None
        row = exchange_row(conversations[source])
        shown = row["system"] if len(row["system"]) <= 60 else row["system"][:60] + "…"
        system = f"“{shown}”" if shown else t("play.save_no_system")
        st.caption(t("play.save_what", history=len(row["history"]), system=system,
                     ref=f"{target}@{datasets[target].head}")
                   + ("" if splits else " " + t("play.save_no_split")))
        if st.button(t("play.save_button"), type="primary", key="play_save"):
            try:
                version = save_exchange(ws, target, conversations[source], split or "train", params)
            except AlreadySaved as error:
                flash(t("play.already_saved", ref=error.ref, row=error.row_id), kind="warning", key="play_saved")
            except ValueError as error:
                flash(str(error), kind="error", key="play_saved")
            else:
                flash(t("play.saved", ref=version.ref, split=split) if split
                      else t("common.saved_version", ref=version.ref), key="play_saved")
            st.rerun()  # the dataset picker shows the new version
        show_flash("play_saved", toast=True)  # right under the button, where the click was
