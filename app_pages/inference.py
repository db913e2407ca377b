"""Inference: a dataset split through several models (arms) at once, as a background job; its answers per arm."""
import streamlit as st

from ui.common import pick_version, show_current_label, t, workspace
from ui.infer import arms_editor, generation_knobs, inference_table, live_progress, model_options, outputs_view
from workbench import jobs
from workbench.infer.config import ALL_ROWS, InferConfig, config_errors
from workbench.infer.jobs import start_inference
from workbench.infer.prompts import InferInputError
from workbench.infer.store import list_inferences

ws = workspace()
st.title(t("infer.title"))
st.caption(t("infer.caption"))


def new_inference() -> None:
    st.subheader(t("infer.section.data"))
    version = pick_version("infer")
    if version is None:
        return
    splits = [*version.splits, ALL_ROWS]
    rows_in = {**version.splits, ALL_ROWS: version.rows}
    left, right = st.columns([1, 2])
    show_current_label(f"infer_split_{version.ref}")
    split = left.selectbox(t("infer.knob.split"), splits, index=splits.index("test") if "test" in splits else 0,
                           key=f"infer_split_{version.ref}", help=t("infer.help.split"),
                           format_func=lambda s: f"{t('infer.all_rows') if s == ALL_ROWS else s} "
                                                 f"({rows_in.get(s, 0):,} {t('common.rows')})")
    name = right.text_input(t("infer.knob.name"), key="infer_name", help=t("infer.help.name"))
    st.subheader(t("infer.section.arms"))
    options = model_options(ws)
    if not options:
        st.warning(t("infer.no_models"))
        return
    arms = arms_editor(options)
    with st.expander(t("infer.section.generation"), expanded=False):
        knobs = generation_knobs()
    data = {"name": name.strip(), "dataset": version.dataset_id, "version": version.number, "split": split,
            "arms": arms, **knobs}
    errors = config_errors(data) if arms else [f"arms: {t('infer.pick_models')}"]
    if errors:
        st.error(t("infer.invalid") + "\n\n" + "\n".join(f"- {e}" for e in errors))
    if st.button(t("infer.start"), key="infer_start", type="primary", disabled=bool(errors)):
        try:
            inference_id, job_id = start_inference(ws, InferConfig(**data))
        except (InferInputError, ValueError, KeyError) as error:
            st.error(t("infer.cannot_start") + "\n\n" + "\n".join(f"- {p}" for p in str(error).splitlines()))
        else:
            st.session_state["infer_selected"] = inference_id
            st.success(t("infer.started", id=inference_id, job=job_id))


def inferences() -> None:
    st.subheader(t("infer.list"))
    items = list_inferences(ws)
    if not items:
        st.info(t("infer.none"))
        return
    by_id = {info.id: info for info in items}
    st.dataframe(inference_table(items), hide_index=True, width="stretch")
    if st.session_state.get("infer_selected") not in by_id:
        st.session_state["infer_selected"] = items[0].id
    # "queued" becomes "finished" in the picker too, not only in the table
    show_current_label("infer_selected", every_run=True)
    info = by_id[st.selectbox(t("infer.pick"), list(by_id), key="infer_selected",
                              format_func=lambda i: f"{by_id[i].name} · {t(f'job.state.{by_id[i].state}')}")]
    st.caption(f"{info.dataset_ref} · {info.split or t('infer.all_rows')} · " +
               ", ".join(f"{arm.label} = {arm.model}" for arm in info.config.arms))
    live_progress(info)
    if info.state in jobs.ACTIVE:
        st.caption(t("infer.evaluate_wait"))
        return
    outputs_view(info)
    if st.button(t("infer.evaluate"), key="infer_evaluate", type="primary"):
        st.session_state["eval_preselect"] = info.id
        st.switch_page("app_pages/evaluate.py")


new_inference()
st.divider()
inferences()
