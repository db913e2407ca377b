"""Train: data, base model, method and knobs (a preset fills them); check the data, estimate, start; follow it."""
import streamlit as st

from ui.common import job_card, model_name, pick_version, show_current_label, t, workspace
from ui.train import follow_run, gate_panel, knob_widget, yaml_expander
from workbench import jobs
from workbench.models import list_models, load_tokenizer
from workbench.train import views
from workbench.train.config import PRESETS, TrainConfig, config_errors
from workbench.train.jobs import start_training
from workbench.train.preflight import quality_gate, target_modules

ws = workspace()


@st.cache_data(show_spinner=False)
def cached_layers(_ws, root: str, model_id: str) -> list[str]:
    return target_modules(_ws, model_id)


def layer_names(model_id: str) -> list[str] | None:
    try:
        return cached_layers(ws, str(ws.root), model_id)
    except Exception as error:  # a model transformers cannot build: LoRA still works on all linear layers
        st.warning(str(error))
        return None


@st.cache_resource(show_spinner=False)
def tokenizer_of(_ws, root: str, model_id: str):
    return load_tokenizer(_ws, model_id)


def apply_preset() -> None:
    for name, value in views.preset_values(st.session_state["train_preset"]).items():
        st.session_state[f"train_{name}"] = value


def show_problems(problems: list[str], missing_split: bool) -> None:
    st.error(t("train.cannot_start") + "\n\n" + "\n".join(f"- {p}" for p in problems))
    if missing_split:
        st.page_link("app_pages/split.py", label=t("train.split_first"), icon="✂️")


st.title(t("train.title"))
st.caption(t("train.caption"))
st.subheader(t("train.section.data"))
version = pick_version("train")
if version is None:
    st.stop()
train_splits, eval_splits = views.split_options(version.splits)
rows_in = {None: version.rows, **version.splits}
cols = st.columns(2)
show_current_label(f"train_split_{version.ref}", f"train_eval_{version.ref}")
split = cols[0].selectbox(t("train.knob.split"), train_splits, key=f"train_split_{version.ref}",
                          help=t("train.help.split"), format_func=lambda s: (
                              f"{s} ({rows_in.get(s, 0):,} {t('common.rows')})" if s else t("train.every_row")))
eval_split = cols[1].selectbox(t("train.knob.eval_split"), eval_splits, key=f"train_eval_{version.ref}",
                               index=eval_splits.index(views.default_eval_split(version.splits)),
                               help=t("train.help.eval_split"), format_func=lambda s: (
                                   f"{s} ({rows_in.get(s, 0):,} {t('common.rows')})" if s else t("train.no_eval")))

st.session_state.setdefault("train_preset", next(iter(PRESETS)))
for name, value in (st.session_state.get("train_knobs") or views.preset_values(st.session_state["train_preset"])).items():
    st.session_state.setdefault(f"train_{name}", value)  # a page switch drops widget state: keep the last values

st.subheader(t("train.section.model"))
models = {m.id: m for m in list_models(ws) if m.available}
cols = st.columns([5, 3, 3])
show_current_label("train_method", "train_preset")
base_model = cols[0].selectbox(t("train.knob.base_model"), list(models), key="train_base_model",
                               help=t("train.help.base_model"), format_func=model_name(ws))
method = cols[1].radio(t("train.knob.method"), ["lora", "full"], key="train_method", horizontal=True,
                       help=t("train.help.method"), format_func=lambda m: t(f"train.method.{m}"))
cols[2].selectbox(t("train.preset"), list(PRESETS), key="train_preset", on_change=apply_preset,
                  help=t("train.preset_help"), format_func=lambda p: t(f"train.preset.{p}"))
values = {}
tabs = st.tabs([t(f"train.tab.{group}") for group in (*views.KNOB_GROUPS, "advanced")])
for tab, group in zip(tabs, views.KNOB_GROUPS):
    columns = tab.columns(4)
    for index, knob in enumerate(views.knobs(group)):
        values[knob.name] = knob_widget(columns[index % 4], knob, disabled=group == "lora" and method != "lora")
with tabs[1]:
    layers = layer_names(base_model) if base_model and views.layers_ready(ws, base_model) else None
    if layers is None and st.button(t("train.list_layers"), key="train_list_layers", disabled=not base_model):
        with st.spinner(t("train.reading_layers")):
            layers = layer_names(base_model)
    show_current_label(f"train_targets_{base_model}")
    targets = st.multiselect(t("train.knob.lora_targets"), [views.ALL_LINEAR] + (layers or []), [views.ALL_LINEAR],
                             key=f"train_targets_{base_model}", help=t("train.help.lora_targets"),
                             disabled=method != "lora", select_all=False,
                             format_func=lambda o: t("train.all_linear") if o == views.ALL_LINEAR else o)
    st.caption(t("train.lora_off") if method != "lora" else t("train.layers_later") if layers is None else "")
with tabs[4]:
    cols = st.columns([2, 2, 1])
    run_name = cols[0].text_input(t("train.knob.name"), key="train_name", help=t("train.help.name"))
    accelerate_config = cols[1].text_input(t("train.accelerate_config"), key="train_accelerate",
                                           help=t("train.accelerate_help"), placeholder="accelerate_config.yaml")
    processes = cols[2].number_input(t("train.num_processes"), 1, 64, 1, key="train_processes")
st.session_state["train_knobs"] = {**values, "method": method}

data = {"name": run_name.strip(), "dataset": version.dataset_id, "version": version.number, "split": split,
        "eval_split": eval_split, "base_model": base_model or "", "method": method,
        "lora_targets": views.lora_targets(targets), **values}
errors = config_errors(data) if base_model else [f"base_model: {t('train.help.base_model')}"]
if errors:
    st.error(t("train.invalid") + "\n\n" + "\n".join(f"- {e}" for e in errors))
config = None if errors else TrainConfig(**data)
missing_split = bool(split) and split not in version.splits
gate_key = (version.ref, split, values["max_length"], base_model)

actions = st.container(horizontal=True)
check = actions.button(t("train.check"), key="train_check", disabled=config is None)
estimate = actions.button(t("train.estimate"), key="train_estimate", disabled=config is None)
start = actions.button(t("train.start"), key="train_start", type="primary", disabled=config is None)
if check or estimate or start:
    problems = views.launch_problems(ws, config, accelerate_config.strip(), int(processes))
    if problems:
        show_problems(problems, missing_split)
    elif check:
        with st.spinner(t("train.checking")):
            tokenizer_model = views.base_of(ws, base_model)
            gate = quality_gate(ws, config, tokenizer_of(ws, str(ws.root), tokenizer_model))
        st.session_state["train_gate"] = (gate_key, tokenizer_model, gate)
    elif estimate:
        st.session_state["train_estimate_job"] = jobs.start(ws, "train_estimate", {"config": config.model_dump()},
                                                            title=f"{version.ref} · {base_model}")
    else:
        run, job_id = start_training(ws, config, accelerate_config.strip() or None, int(processes))
        st.session_state["train_run"] = run.id
        st.success(t("train.started", name=run.name, job=job_id))

if st.session_state.get("train_gate", [None])[0] == gate_key:
    _, tokenizer_model, gate = st.session_state["train_gate"]
    gate_panel(gate, tokenizer_model)


def estimate_result(job_id: str) -> None:
    info = jobs.get(ws, job_id)
    if info.state in jobs.ACTIVE:
        job_card(info, show_log=False, where="estimate")
    elif info.state == "succeeded":
        result = info.result
        st.info(t("train.estimate.result", minutes=result["minutes"], steps=f"{result['steps']:,}",
                  tokens=f"{result['tokens']:,}", speed=f"{result['tokens_per_s']:,}", device=result["device"],
                  precision=result["precision"]))
    else:
        st.error(t("train.estimate.failed", message=info.error or info.message))


if st.session_state.get("train_estimate_job"):
    estimating = jobs.get(ws, st.session_state["train_estimate_job"]).state in jobs.ACTIVE
    st.fragment(estimate_result, run_every=2 if estimating else None)(st.session_state["train_estimate_job"])
if config is not None:
    yaml_expander(config, "train_yaml_download")
if st.session_state.get("train_run"):
    st.divider()
    follow_run(st.session_state["train_run"], "train")
    st.page_link("app_pages/runs.py", label=t("train.to_runs"), icon="📈")
