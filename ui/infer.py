"""Pieces of the Inference page: the arms editor (models + prompt variants), generation knobs, one inference's view."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.common import job_card, model_name, t, workspace
from workbench import jobs
from workbench.infer.config import InferConfig
from workbench.infer.results import inference_summary, read_outputs
from workbench.infer.store import OUTPUT_COLUMNS
from workbench.llm import list_endpoints
from workbench.models import list_models

KNOBS = ("temperature", "top_p", "max_new_tokens", "seed", "batch_size", "concurrency", "max_rows")
FLOATS = {"temperature": (0.0, 2.0, 0.1), "top_p": (0.01, 1.0, 0.05)}


def model_options(ws) -> list[str]:
    """Available model ids (bundled, local folders, runs `run-<id>`), then saved endpoints."""
    ids = [m.id for m in list_models(ws) if m.available]
    return ids + [e.name for e in list_endpoints(ws) if e.name not in ids and not e.name.startswith("local:")]


def _arm_fields(key: str, default_label: str) -> tuple[str, str]:
    left, right = st.columns([1, 3])
    label = left.text_input(t("infer.arm.label"), default_label, key=f"infer_label_{key}",
                            help=t("infer.arm_help.label"))
    system = right.text_area(t("infer.arm.system_prompt"), key=f"infer_system_{key}", height=68,
                             help=t("infer.arm_help.system_prompt"))
    return label, system


def arms_editor(options: list[str]) -> list[dict]:
    """One arm per chosen model, plus the prompt variants the user added; returns InferConfig arm dicts."""
    name_of = model_name(workspace())
    chosen = st.multiselect(t("infer.knob.arms"), options, default=options[:1], key="infer_models",
                            help=t("infer.help.arms"), format_func=name_of)
    st.caption(t("infer.arm_caption"))
    arms = []
    for model in chosen:
        with st.container(border=True):
            st.markdown(f"**{name_of(model)}**")
            label, system = _arm_fields(model, model)
            arms.append({"label": label, "model": model, "system_prompt": system})
    variants: list[int] = st.session_state.setdefault("infer_variants", [])
    if st.button(t("infer.add_variant"), key="infer_add_variant", help=t("infer.variant_caption"),
                 disabled=not options):
        variants.append(max(variants, default=0) + 1)
    for number in list(variants):
        with st.container(border=True):
            top = st.columns([3, 1])
            model = top[0].selectbox(t("infer.arm.model"), options, key=f"infer_variant_model_{number}",
                                     help=t("infer.arm_help.model"), format_func=name_of)
            if top[1].button(t("infer.remove_arm"), key=f"infer_remove_{number}"):
                variants.remove(number)
                st.rerun()
            label, system = _arm_fields(f"variant_{number}", t("infer.variant", n=number))
            arms.append({"label": label, "model": model or "", "system_prompt": system})
    return arms


def generation_knobs() -> dict:
    """Temperature, top-p, max new tokens, seed, batch size, concurrency, max rows (defaults from InferConfig)."""
    values = {}
    columns = st.columns(4)
    for index, name in enumerate(KNOBS):
        default = InferConfig.model_fields[name].default
        column, key = columns[index % 4], f"infer_{name}"
        label, help_text = t(f"infer.knob.{name}"), t(f"infer.help.{name}")
        if name in FLOATS:
            low, high, step = FLOATS[name]
            values[name] = column.number_input(label, low, high, float(default), step, key=key, help=help_text)
        else:
            value = column.number_input(label, min_value=0, value=default, step=1, key=key, help=help_text,
                                        placeholder="–")
            values[name] = None if value is None else int(value)
    return values


def blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """For display: a missing text shows empty and a missing number "–" (the grid would write "None")."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if not values.isna().any():
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            frame[column] = values.map(_number_text)  # one type per column: all text
        else:
            frame[column] = values.astype(object).where(values.notna(), "")
    return frame


def _number_text(value) -> str:
    if pd.isna(value):
        return "–"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.3f}".rstrip("0")


def inference_table(items) -> pd.DataFrame:
    rows = []
    for info in items:
        summary = info.summary or {}
        rows.append({t("infer.list.name"): info.name, t("infer.list.state"): t(f"job.state.{info.state}"),
                     t("infer.list.dataset"): info.dataset_ref,
                     t("infer.list.split"): info.split or t("infer.all_rows"),
                     t("infer.list.rows"): summary.get("rows"), t("infer.list.answered"): summary.get("ok"),
                     t("infer.list.failed"): summary.get("failed"), "id": info.id})
    counts = {t(f"infer.list.{name}"): "Int64" for name in ("rows", "answered", "failed")}  # unknown until it ends
    return blank_missing(pd.DataFrame(rows).astype(counts))


def arm_summary(summary: dict) -> pd.DataFrame:
    rows = [{"arm": arm, **{k: ", ".join(v) if k == "errors" else v for k, v in values.items()}}
            for arm, values in summary["arms"].items()]
    frame = blank_missing(pd.DataFrame(rows))
    return frame.rename(columns={c: t(f"infer.sum.{c}") for c in frame.columns})


def follow_job(job_id: str | None, where: str, body=None) -> None:
    """A job's card (while it runs, or when it can be resumed) and `body()`, polled every 2 s while the job is
    active; one full rerun when it ends, so the page shows what the finished job made."""
    ws = workspace()
    was_active = job_id is not None and jobs.get(ws, job_id).state in jobs.ACTIVE

    def live() -> None:
        job = jobs.get(ws, job_id) if job_id else None
        if was_active and job.state not in jobs.ACTIVE:
            st.rerun()
        if job is not None and (job.state in jobs.ACTIVE or job.resumable):
            job_card(job, where=where)
        if body is not None:
            body()

    st.fragment(live, run_every=2 if was_active else None)()


def live_progress(info) -> None:
    """The job card and per-arm counts of one inference, live while its job runs."""
    def counts() -> None:
        summary = inference_summary(workspace(), info.id)
        done = summary["ok"] + summary["failed"]
        st.caption(t("infer.progress", done=f"{done:,}", total=f"{done + summary['pending']:,}"))
        st.dataframe(arm_summary(summary), hide_index=True, width="stretch")

    follow_job(info.job_id, "infer", counts)


def outputs_view(info) -> None:
    frame = read_outputs(workspace(), info.id)
    frame["status"] = frame["status"].map(lambda s: t(f"infer.status.{s}"))
    shown = frame.rename(columns={c: t(f"infer.col.{c}") for c in OUTPUT_COLUMNS})  # lineage columns keep their names
    st.subheader(t("infer.outputs"))
    st.dataframe(blank_missing(shown), hide_index=True, width="stretch", height=360)
    st.download_button(t("infer.download_csv"), frame.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"inference-{info.id}.csv", mime="text/csv", key="infer_download")
