"""Shared pieces of the Train and Runs pages: knob widgets, loss charts, the live view of one run."""
from __future__ import annotations

from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from ui.common import column_labels, job_card, lang, show_current_label, t, workspace
from workbench import jobs
from workbench.i18n import duration
from workbench.train import views
from workbench.train.config import to_yaml
from workbench.train.preflight import gate_blocks
from workbench.train.runs import RunInfo, get_run, read_metrics


def gate_panel(gate: dict, tokenizer_model: str) -> None:
    """The data check before launch: counts, token lengths, what stops the run, what to fix."""
    with st.container(border=True):
        st.caption(t("train.gate.title", ref=gate["ref"], split=gate["split"] or t("train.every_row"),
                     model=tokenizer_model))
        counts = {"rows": gate["rows"], "truncated": gate["cut"], "dropped": gate["dropped"],
                  "empty": gate["empty_outputs"], "exact": gate["exact_duplicates"], "near": gate["near_duplicates"],
                  "leaked": gate["leaked_rows"], "tokens": gate["tokens"]}
        columns = st.columns(4) + st.columns(4)  # two rows: labels and counts stay whole
        for (name, value), column in zip(counts.items(), columns):
            column.metric(t(f"train.gate.{name}"), "–" if value is None else f"{value:,}")
        st.caption(t("train.gate.lengths", mean=f"{gate['mean_tokens']:.0f}", p95=gate["p95"], longest=gate["longest"],
                     max=gate["max_length"]))
        blocked = gate_blocks(gate, lang())
        if blocked:
            st.error(blocked)
        if any(counts[name] for name in ("truncated", "dropped", "empty", "exact", "near", "leaked")):
            st.warning(t("train.gate.fix"))
            st.page_link("app_pages/quality.py", label=t("quality.nav"), icon="🧹")
        else:
            st.success(t("train.gate.clean"))


def knob_widget(container, knob: views.Knob, disabled: bool = False):
    """One TrainConfig knob; its value lives in session state under `train_<name>` (presets write there)."""
    label, key, help_text = t(f"train.knob.{knob.name}"), f"train_{knob.name}", t(f"train.help.{knob.name}")
    if knob.kind == "choice":
        show_current_label(key)
        return container.selectbox(label, knob.options, key=key, help=help_text, disabled=disabled,
                                   format_func=lambda option: t(f"train.choice.{knob.name}.{option}"))
    if knob.kind == "bool":
        return container.toggle(label, key=key, help=help_text, disabled=disabled)
    if knob.kind == "float":
        return container.number_input(label, step=knob.step, format=knob.format, key=key, help=help_text,
                                      disabled=disabled)
    return container.number_input(label, step=1, key=key, help=help_text, disabled=disabled, placeholder="–")


FORMATS = {"train_loss": "%.4f", "eval_loss": "%.4f", "tokens_per_s": "%.1f"}


def runs_frame(frame: pd.DataFrame) -> None:
    """A table about runs: headers in the user's language, losses and speeds with fixed decimals."""
    numbers = {name: partial(st.column_config.NumberColumn, format=number) for name, number in FORMATS.items()}
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config=column_labels("runs.col", frame.columns, numbers))


def runs_table(runs: list[RunInfo]) -> None:
    """The runs list (Runs and Home pages), states in the user's words."""
    table = views.runs_table(runs)
    runs_frame(table.assign(state=[t(f"job.state.{value}") for value in table["state"]]))


def loss_chart(frame: pd.DataFrame, by_run: bool = False) -> alt.Chart:
    """Loss against step; one color per curve, or per run with validation dashed when comparing runs."""
    frame = frame.assign(series=[t(f"train.chart.{series}") for series in frame["series"]])
    color = alt.Color("run:N" if by_run else "series:N", title=None, legend=alt.Legend(orient="bottom",
                                                                                     labelLimit=400))
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("step:Q", title=t("train.chart.step"), axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("loss:Q", title=t("train.chart.loss"), scale=alt.Scale(zero=False)),
        color=color, tooltip=["run", "series", "step", "loss"] if by_run else ["series", "step", "loss"])
    if by_run:
        # no legend for the dashes (it drew dots): the heading above says solid = train, dashed = validation
        chart = chart.encode(strokeDash=alt.StrokeDash("series:N", legend=None), detail="series:N")
    return chart.properties(height=300)


def lr_chart(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_line().encode(
        x=alt.X("step:Q", title=t("train.chart.step"), axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("lr:Q", title=t("train.chart.lr"), axis=alt.Axis(format=".1e")),
        tooltip=["step", alt.Tooltip("lr:Q", format=".2e")]).properties(height=300)


def yaml_expander(config, key: str) -> None:
    with st.expander(t("train.yaml")):
        text = to_yaml(config)
        st.code(text, language="yaml")
        st.download_button(t("train.download_yaml"), text, file_name="config.yaml", mime="text/yaml", key=key)


def show_run(run: RunInfo, where: str) -> None:
    """Progress, metrics, curves and cancel/resume of one run (drawn again by the caller's fragment)."""
    info = jobs.get(workspace(), run.job_id) if run.job_id else None
    st.subheader(t("train.live", name=run.name))
    if info is not None:
        job_card(info, where=where)
    rows = read_metrics(run.folder)
    now = views.latest(rows)
    if not now:
        if info is not None and info.state in jobs.ACTIVE:
            st.info(t("train.waiting"))
    else:
        total = int(info.total) if info is not None and info.total else None
        memory = views.figure(now.get("rss_mb"), "{:,}") + (f" / {now['gpu_mb']:,}" if now.get("gpu_mb") is not None else "")
        values = [("step", f"{now.get('step', 0)}" + (f" / {total}" if total else "")),
                  ("loss", views.figure(now.get("loss"))), ("eval_loss", views.figure(now.get("eval_loss"))),
                  ("lr", views.figure(now.get("lr"), "{:.2e}")), ("speed", views.figure(now.get("tokens_per_s"), "{:,.0f}")),
                  ("eta", duration(info.eta_seconds) if info is not None else "–"), ("memory", memory)]
        for (name, value), column in zip(values, st.columns(len(values))):
            column.metric(t(f"train.metric.{name}"), value)
        left, right = st.columns([2, 1])
        left.altair_chart(loss_chart(views.curve_frame(rows)), width="stretch")
        right.altair_chart(lr_chart(views.lr_frame(rows)), width="stretch")
    if run.state == "succeeded":
        st.success(t("train.done", model=run.model_id))
    elif run.state in ("failed", "cancelled", "interrupted"):
        st.warning(t("train.ended", state=run.state, message=(info.error or info.message) if info else ""))


def follow_run(run_id: str, where: str) -> None:
    """The live view of a run, polled every 2 s while its job is active; one full rerun when it ends."""
    run = get_run(workspace(), run_id)
    was_active = run.state in jobs.ACTIVE

    def live() -> None:
        current = get_run(workspace(), run_id)
        if was_active and current.state not in jobs.ACTIVE:
            st.rerun()  # the whole page: the finished run is a model now (base model list, Runs link)
        show_run(current, where)

    st.fragment(live, run_every=2 if was_active else None)()
