"""Pieces of the Evaluate page that start work: judge settings, the new-evaluation form, the before/after box."""
from __future__ import annotations

import streamlit as st

from ui.common import lang, model_name, show_current_label, t, workspace
from workbench import jobs
from workbench.embeddings import DEFAULT_EMBEDDER
from workbench.evaluate.config import EvalConfig, config_errors
from workbench.evaluate.jobs import start_before_after, start_evaluation
from workbench.evaluate.judge_config import DEFAULT_RUBRICS, JudgeConfig, rubric_and_scale, shared_variables
from workbench.infer.store import list_inferences
from workbench.llm import list_endpoints
from workbench.templates import get_template, list_templates, variables_of
from workbench.train.runs import list_runs

POINTWISE_PURPOSES = ("helpfulness", "persona", "correctness", "classification")
SCALE_CHOICES = ("", "1-5", "1-10", "0-1")  # "" = the rubric's own scale (AppTest cannot replay None)


def rubric_options(ws, mode: str) -> dict[str, str]:
    """ref -> label: the default rubrics (the user's language first), then the library's other judge templates."""
    languages = (lang(), "en" if lang() == "zh" else "zh")
    purposes = ("pairwise",) if mode == "pairwise" else POINTWISE_PURPOSES
    options = {}
    for purpose in purposes:
        name = t("judge.mode.pairwise") if purpose == "pairwise" else t(f"judge.purpose.{purpose}")
        options.update({DEFAULT_RUBRICS[purpose][language]: f"{name} · {language}" for language in languages})
    needed = {"answer_a", "answer_b"} if mode == "pairwise" else {"answer"}  # rubrics of other shapes cannot judge
    for template in list_templates(ws, category="judge"):
        if needed <= set(variables_of(template.text, template.ref)) and template.ref not in options:
            options[template.ref] = f"{template.title(lang())} · {template.ref}"
    return options


def judge_settings(prefix: str, mode: str = "pointwise") -> JudgeConfig | None:
    """Judge model, rubric and (pointwise) scale; None when no judge model is available."""
    ws = workspace()
    endpoints = [e.name for e in list_endpoints(ws)]
    columns = st.columns(3 if mode == "pointwise" else 2)
    judge = columns[0].selectbox(t("judge.knob.judge"), endpoints, key=f"{prefix}_judge", help=t("judge.help.judge"),
                                 format_func=model_name(ws))
    rubrics = rubric_options(ws, mode)
    show_current_label(f"{prefix}_rubric", f"{prefix}_scale")
    rubric = columns[1].selectbox(t("judge.knob.rubric"), list(rubrics), format_func=rubrics.get,
                                  key=f"{prefix}_rubric", help=t("judge.help.rubric"))
    scale = None
    if mode == "pointwise":
        scale = columns[2].selectbox(t("judge.knob.scale"), SCALE_CHOICES, key=f"{prefix}_scale",
                                     format_func=lambda s: s or t("eval.scale_from_rubric"), help=t("judge.help.scale"))
    variables = rubric_variables(prefix, rubric, mode)
    return JudgeConfig(judge=judge, mode=mode, rubric=rubric, scale=scale or None,
                       variables=variables) if judge else None


def rubric_variables(prefix: str, ref: str, mode: str) -> dict[str, str]:
    """A text box per rubric variable the items do not fill (e.g. the persona); the non-empty ones."""
    try:
        template = get_template(workspace(), ref)
    except (KeyError, ValueError):
        return {}
    values = {}
    for variable in shared_variables(template, mode):
        needed = "_required" if variable.required else ""  # the label says which can stay empty
        text = st.text_area(t(f"eval.judge_variable{needed}", name=variable.name), key=f"{prefix}_var_{variable.name}",
                            height=68, placeholder=variable.default or None,
                            help=t(f"eval.judge_variable{needed}_help", description=variable.description))
        if text.strip():
            values[variable.name] = text.strip()
    return values


def judge_problems(**judges: JudgeConfig | None) -> list[str]:
    """Located problems of the chosen rubrics (wrong mode, no scale, a variable nobody provides)."""
    problems = []
    for field, judge in judges.items():
        if judge is None:
            continue
        try:
            rubric_and_scale(workspace(), judge)
        except (ValueError, KeyError) as error:
            problems.append(f"{field}: {error}")
    return problems


def show_refusal(problems: list[str]) -> None:
    st.error(t("eval.cannot_start") + "\n\n" + "\n".join(f"- {p}" for p in problems))


def new_evaluation_open(has_reports: bool) -> bool:
    """Whether the "New evaluation" panel opens: with no report yet, or once answers were sent here from the
    Inference page — and then it stays open while the user configures it (a changing `expanded` would fold it)."""
    if "eval_preselect" in st.session_state:
        st.session_state["eval_new_open"] = True
    return not has_reports or st.session_state.get("eval_new_open", False)


def started(report_id: str, job_id: str) -> None:
    st.session_state.pop("eval_new_open", None)
    st.session_state["eval_report_pick"] = report_id
    st.session_state["flash"] = (t("eval.started", id=report_id, job=job_id), None)
    st.rerun()


def new_evaluation() -> None:
    """Score a finished inference: metrics, optional judge and pairwise judge, baseline arm; Start."""
    ws = workspace()
    items = {i.id: i for i in list_inferences(ws) if i.state not in jobs.ACTIVE}
    if not items:
        st.info(t("eval.no_inference"))
        st.page_link("app_pages/inference.py", label=t("infer.nav"), icon="🧪")
        return
    preselected = st.session_state.pop("eval_preselect", None)
    if preselected in items:
        st.session_state["eval_inference"] = preselected
    show_current_label("eval_inference", "eval_classification")
    inference = items[st.selectbox(t("eval.inference"), list(items), key="eval_inference",
                                   format_func=lambda i: f"{items[i].name} · {t(f'job.state.{items[i].state}')}")]
    arms = [arm.label for arm in inference.config.arms]
    st.caption(f"{inference.dataset_ref} · " + ", ".join(f"{a.label} = {a.model}" for a in inference.config.arms))
    columns = st.columns([1, 2, 1, 2])
    similarity = columns[0].toggle(t("eval.similarity"), True, key="eval_similarity", help=t("eval.help.similarity"))
    embedder = columns[1].text_input(t("eval.embedder"), DEFAULT_EMBEDDER, key="eval_embedder",
                                     help=t("eval.help.embedder"), disabled=not similarity)
    lexical = columns[2].toggle(t("eval.lexical"), True, key="eval_lexical", help=t("eval.help.lexical"))
    classification = columns[3].radio(t("eval.classification"), ["auto", "on", "off"], horizontal=True,
                                      key="eval_classification", help=t("eval.help.classification"),
                                      format_func=lambda c: t(f"eval.classification.{c}"))
    baseline = st.selectbox(t("eval.baseline_arm"), arms, key=f"eval_baseline_{inference.id}",
                            help=t("eval.help.baseline_arm"))
    judge = pairwise = None
    if st.toggle(t("eval.use_judge"), key="eval_use_judge", help=t("eval.help.judge")):
        judge = judge_settings("eval_judge")
    if st.toggle(t("eval.use_pairwise"), key="eval_use_pairwise", help=t("eval.help.pairwise")):
        pairwise = judge_settings("eval_pairwise", "pairwise")
    data = {"inference": inference.id, "similarity": similarity, "embedder": embedder.strip() or DEFAULT_EMBEDDER,
            "lexical": lexical, "classification": classification, "judge": judge, "pairwise": pairwise,
            "baseline_arm": baseline}
    if st.button(t("eval.start"), key="eval_start", type="primary"):
        problems = config_errors(data) or judge_problems(judge=judge, pairwise=pairwise)
        if problems:
            return show_refusal(problems)
        try:
            report_id, job_id = start_evaluation(ws, EvalConfig(**data))
        except (ValueError, KeyError) as error:
            return show_refusal([str(error)])
        started(report_id, job_id)


def before_after() -> None:
    """One click: a succeeded run's base model vs the run on its dataset's test split, answered and scored."""
    ws = workspace()
    runs = {run.id: run for run in list_runs(ws) if run.state == "succeeded"}
    if not runs:
        st.caption(t("eval.no_runs"))
        return
    columns = st.columns([2, 1, 1])
    run = runs[columns[0].selectbox(t("eval.run"), list(runs), key="eval_ba_run",
                                    format_func=lambda r: f"{runs[r].name} · {runs[r].base_model}")]
    splits = list(ws.version(run.dataset_id, run.dataset_version).splits) or ["test"]
    split = columns[1].selectbox(t("infer.knob.split"), splits, index=splits.index("test") if "test" in splits else 0,
                                 key=f"eval_ba_split_{run.id}")
    max_rows = columns[2].number_input(t("infer.knob.max_rows"), min_value=1, value=None, step=1, key="eval_ba_rows",
                                       help=t("infer.help.max_rows"), placeholder="–")
    judge = judge_settings("eval_ba_judge") if st.toggle(t("eval.use_judge"), key="eval_ba_use_judge") else None
    if st.button(t("eval.before_after_start"), key="eval_ba_start", type="primary"):
        problems = judge_problems(judge=judge)
        if problems:
            return show_refusal(problems)
        try:
            report_id, job_id = start_before_after(ws, run.id, split, int(max_rows) if max_rows else None, judge)
        except (ValueError, KeyError) as error:
            return show_refusal(str(error).splitlines())
        started(report_id, job_id)
