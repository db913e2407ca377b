"""Extract QA pairs from documents and web pages: rules (instant) or an LLM (background job), then review."""
import pandas as pd
import streamlit as st

from ui.common import (column_labels, flash, job_card, lang, model_name, show_current_label, show_flash, show_problems,
                       t, workspace)
from workbench import jobs
from workbench.extract import Pasted, chunk_documents, read_sources, rule_from, sources_key
from workbench.extract.chunk import ChunkConfig
from workbench.extract.llm_mode import (ANSWER_PROMPT, QUESTION_PROMPT, LLMExtractConfig, load_candidates,
                                        rule_candidates, save_reviewed, start_llm_job)
from workbench.extract.policy import fetch_policy_for, save_fetch_settings
from workbench.i18n import in_language
from workbench.extract.score import score_review, score_tables
from workbench.llm import list_endpoints
from workbench.problems import ReadError

ws = workspace()
st.title(t("extract.title"))
show_flash()

st.subheader(t("extract.sources"))
uploads = st.file_uploader(t("extract.upload"), type=["txt", "md", "pdf", "docx", "html", "htm"],
                           accept_multiple_files=True, key="extract_uploads")
left, right = st.columns(2)
pasted = left.text_area(t("extract.paste"), key="extract_paste", height=140)
urls = right.text_area(t("extract.urls"), key="extract_urls", height=140, placeholder="https://example.com/faq")
policy = fetch_policy_for(ws)
allow = right.toggle(t("extract.allow_private"), value=policy.allow_private, help=t("extract.allow_private_help"),
                     key="extract_allow_private")
if allow != policy.allow_private:
    save_fetch_settings(ws, allow)
    policy = fetch_policy_for(ws)
items = [(u.name, u.getvalue()) for u in uploads or []] + ([Pasted(pasted)] if pasted.strip() else []) + [
    line.strip() for line in urls.splitlines() if line.strip()]
cols = st.columns(3, vertical_alignment="bottom")
size = cols[0].number_input(t("extract.chunk_size"), 100, 20_000, 1000, step=100, key="extract_size")
overlap = cols[1].number_input(t("extract.chunk_overlap"), 0, 5_000, 100, step=50, key="extract_overlap")


@st.cache_data(max_entries=4, show_spinner=False)
def read(key: tuple, _items, _policy):
    return read_sources(_items, policy=_policy)


def documents():
    # The key holds the fetch policy: a page fetched while private URLs were allowed is not reused after the
    # switch is turned off (nor a refusal after it is turned on).
    result = read(sources_key(items, policy), items, policy)
    if result.problems:
        show_problems(result.problems)
    return result.documents


if cols[2].button(t("extract.show_chunks"), key="extract_show_chunks", disabled=not items):
    docs = documents()
    chunks = chunk_documents(docs, ChunkConfig(size=int(size), overlap=min(int(overlap), int(size) // 2)))
    st.caption(t("extract.chunks", count=len(chunks)))
    table = [{"document": c.document_id, "section": c.heading_path, "start": c.start, "end": c.end, "text": c.text}
             for c in chunks]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch",
                 column_config=column_labels("extract.chunk", ("document", "section", "start", "end", "text")))

show_current_label("extract_mode")
mode = st.radio(t("extract.mode"), ["rules", "llm"], format_func=lambda m: t(f"extract.mode.{m}"),
                horizontal=True, key="extract_mode")
if mode == "rules":
    left, right = st.columns(2)
    show_current_label("extract_preset", "extract_until")
    preset = left.selectbox(t("extract.preset"), ["auto", "qa_colon", "faq_headings", "numbered", "custom"],
                            format_func=lambda p: t(f"extract.preset.{p}"), key="extract_preset")
    until = right.selectbox(t("extract.answer_until"), ["paragraph", "next_question"],
                            format_func=lambda u: t(f"extract.answer_until.{u}"), key="extract_until")
    pattern = st.text_input(t("extract.pattern"), key="extract_pattern",
                            placeholder=r"问[:：](?P<question>.+)\n答[:：](?P<answer>.+)") if preset == "custom" else None
    if st.button(t("extract.find"), type="primary", key="extract_find", disabled=not items):
        try:
            rule = rule_from(preset=preset, pattern=pattern or None, answer_until=until)
        except ValueError as error:
            st.error(in_language(str(error), lang()))
        else:
            docs = documents()
            rows, result = rule_candidates(docs, rule)
            st.session_state["extract_candidates"] = (rows, None, rule.model_dump())
            if not docs:  # every source was refused or unreadable (the table above says why): no pattern ran
                st.warning(t("extract.nothing_read"))
            else:
                st.caption(t("extract.preview_count", count=len(rows), seconds=result.seconds))
            if result.problems:  # dropped over-long answers, sources without pairs (with what to try instead)
                show_problems(result.problems)
            elif docs and not rows:
                st.info(t("extract.no_pairs"))
else:
    endpoints = [e.name for e in list_endpoints(ws)]
    cols = st.columns(3)
    endpoint = cols[0].selectbox(t("extract.endpoint"), endpoints, key="extract_endpoint", format_func=model_name(ws))
    show_current_label("extract_grounded")
    per_chunk = cols[1].number_input(t("extract.per_chunk"), 1, 20, 3, key="extract_per_chunk")
    grounded = cols[2].selectbox(t("extract.grounded"), ["none", "similarity", "judge"],
                                 format_func=lambda g: t(f"extract.grounded.{g}"), key="extract_grounded")
    with st.expander(t("extract.prompts")):
        question_prompt = st.text_area(t("extract.question_prompt"), QUESTION_PROMPT, key="extract_qprompt")
        answer_prompt = st.text_area(t("extract.answer_prompt"), ANSWER_PROMPT, key="extract_aprompt")
    if st.button(t("extract.generate"), type="primary", key="extract_generate", disabled=not items or not endpoints):
        try:
            config = LLMExtractConfig(endpoint, int(per_chunk), int(size), min(int(overlap), int(size) // 2),
                                      question_prompt, answer_prompt, grounded)
        except ValueError as error:
            st.error(str(error))
        else:
            st.session_state["extract_job"] = start_llm_job(ws, items, config, "extract")
            st.session_state.pop("extract_candidates", None)


@st.fragment(run_every=2)
def llm_job() -> None:
    info = jobs.get(ws, st.session_state["extract_job"])
    job_card(info, where="extract")
    if info.state == "succeeded":
        st.session_state["extract_candidates"] = (load_candidates(ws, info.id), info.id, None)
        del st.session_state["extract_job"]
        st.rerun()


if st.session_state.get("extract_job"):
    llm_job()


def sample_check(reviewed: list[dict], mode: str) -> None:
    sample = st.file_uploader(t("extract.sample"), type=["jsonl", "json", "csv", "xlsx", "parquet"],
                              key="extract_sample", help=t("extract.sample_help"))
    if sample is None:
        return
    try:
        score = score_review(reviewed, sample.name, sample.getvalue(), mode)
    except ReadError as error:
        show_problems(error.problems)
        return
    cols = st.columns(3)
    cols[0].metric(t("extract.precision"), f"{score.precision:.0%}", help=t("extract.precision_help"))
    cols[1].metric(t("extract.coverage"), f"{score.coverage:.0%}", help=t("extract.coverage_help"))
    cols[2].caption(t("extract.score_counts", **score.summary()))
    extra, missed = score_tables(score)
    for title, table in ((t("extract.not_expected"), extra), (t("extract.missed"), missed)):
        if table:
            st.caption(f"{title} ({len(table)})")
            frame = pd.DataFrame(table)
            if "reason" in frame.columns:  # stored as "English / 中文"
                frame["reason"] = [in_language(reason, lang()) for reason in frame["reason"]]
            st.dataframe(frame, hide_index=True, width="stretch",
                         column_config=column_labels("extract.score_col", frame.columns))

if st.session_state.get("extract_candidates"):
    rows, job_id, rule = st.session_state["extract_candidates"]
    if rows:
        st.subheader(t("extract.review"))
        frame = pd.DataFrame(rows)[["accept", "instruction", "output", "chunk_text", "grounding"]]
        labels = column_labels("extract.col", frame.columns)
        if frame["grounding"].isna().all():  # rules and ungrounded LLM pairs have no score to show
            labels["grounding"] = None
        edited = st.data_editor(frame, hide_index=True, width="stretch", key="extract_review",
                                disabled=["chunk_text", "grounding"], column_config=labels)
        st.caption(t("extract.review_count", accepted=int(edited["accept"].sum()), total=len(edited)))
        reviewed = [{**row, **edited.iloc[i].to_dict()} for i, row in enumerate(rows)]
        review_mode = "llm" if job_id else "rules"  # what produced these rows, not the radio above
        with st.expander(t("extract.check"), expanded=st.session_state.get("extract_sample") is not None):
            sample_check(reviewed, review_mode)
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        name = left.text_input(t("extract.name"), value="extracted-qa", key="extract_name")
        if right.button(t("extract.save_reviewed"), type="primary", key="extract_save"):
            try:
                version = save_reviewed(ws, reviewed, name, job_id=job_id, mode=review_mode,
                                        rule=rule)
            except ValueError as error:
                st.error(str(error))
            else:
                st.session_state.pop("extract_candidates")
                st.session_state["current_dataset"] = version.dataset_id
                flash(t("extract.saved", ref=version.ref, rows=version.rows),
                      ("app_pages/datasets.py", "🗂️ " + t("nav.datasets")))
                st.rerun()
