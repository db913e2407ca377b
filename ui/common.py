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
LABELS_DRAWN_IN = "ui_labels_drawn_in"  # widget key -> the language its option labels were last drawn in


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


WRAPPED_MESSAGE_CHARS = 90  # about one line of the message column; a longer message gets taller rows
WRAPPED_ROW_PX, ROW_PX = 78, 35  # Streamlit wraps a cell's text only in rows taller than 64 px


def show_problems(problems, height: int | None = None, row_ids: bool = False) -> None:
    """Problems as a table in the user's language (text only, never HTML): where (file, line, row; rows counted
    from 1 like lines) and the message; no more rows than there are problems, long messages wrapped;
    `height`: the most pixels it may take (it scrolls past that); `row_ids`: the rows are a saved version's and
    are shown as their `_id`, the number the page's edit and delete boxes take."""
    if not problems:
        st.success(t("common.no_problems"))
        return
    frame = problems_table(problems)
    frame["severity"] = [t(f"problem.{value}") for value in frame["severity"]]
    if not row_ids:
        frame["row"] = frame["row"].map(lambda row: None if pd.isna(row) else int(row) + 1, na_action="ignore")
    frame["message"] = frame["message_zh" if lang() == "zh" else "message_en"]
    where = [c for c in ("file", "line", "row", "field") if frame[c].notna().any() and (frame[c] != "").any()]
    columns = ["severity", *where, "message"]
    for column in ("line", "row"):
        frame[column] = frame[column].astype("Int64")  # 3, not 3.0, beside empty cells
    longest = int(frame["message"].str.len().max())
    lines = min(5, -(-longest // WRAPPED_MESSAGE_CHARS))  # about as many lines as the longest message needs
    row_px = max(WRAPPED_ROW_PX, 21 * lines + 15) if lines > 1 else ROW_PX
    fits = ROW_PX + row_px * len(frame) + 3  # the header, the rows and the border: no empty rows below
    limit = height or ROW_PX + row_px * 10 + 3  # then it scrolls
    labels = column_labels("problem.col", columns)
    labels["message"] = st.column_config.TextColumn(t("problem.col.message"), width="large")
    if row_ids and "row" in labels:
        labels["row"] = st.column_config.Column(t("problem.col.row_id"))
    st.dataframe(frame[columns], hide_index=True, width="stretch", column_config=labels, row_height=row_px,
                 height=min(fits, limit))


def saved(new_version, key: str, next_page: tuple[str, str] | None = None) -> None:
    """After a save: select the new version, keep the message across the rerun, rerun."""
    # The selector is set on the next run, before it is drawn: popping its state alone leaves the browser
    # showing (and sending back) the old version, so the next save would start from a stale one.
    st.session_state[f"{key}_select_version"] = (new_version.dataset_id, new_version.number)
    flash(t("common.saved_version", ref=new_version.ref), next_page)
    st.rerun()


def flash(message: str, next_page: tuple[str, str] | None = None, kind: str = "success", key: str = "flash") -> None:
    """Keep a message for show_flash on the next run (a rerun would wipe one drawn now); `kind`: success, warning
    or error; `next_page`: (page, label) of a link under it; `key`: a second spot on the page shows its own."""
    st.session_state[key] = (message, next_page, kind)


def show_flash(key: str = "flash", toast: bool = False) -> None:
    """The kept message, once, where this is called; `toast`: a success also pops up (seen when scrolled away)."""
    if key not in st.session_state:
        return
    message, next_page, *kind = st.session_state.pop(key)  # (message, next_page) from older callers: a success
    kind = kind[0] if kind else "success"
    {"success": st.success, "warning": st.warning, "error": st.error}[kind](message)
    if next_page:
        st.page_link(next_page[0], label=next_page[1])
    if toast and kind == "success":
        st.toast(message, icon="✅")


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
    show_current_label(f"{key}_dataset")
    dataset_id = left.selectbox(t("common.dataset") + label_suffix, ids, index=default,
                                format_func=names.get, key=f"{key}_dataset")
    st.session_state["current_dataset"] = dataset_id
    versions = ws.versions(dataset_id)
    numbers = [v.number for v in reversed(versions)]
    labels = {v.number: f"v{v.number} · {named('op', v.op)}" for v in versions}
    selected = st.session_state.pop(f"{key}_select_version", None)
    if selected and selected[0] == dataset_id and selected[1] in labels:
        st.session_state[f"{key}_version_{dataset_id}"] = selected[1]
    show_current_label(f"{key}_version_{dataset_id}")
    number = right.selectbox(t("common.version"), numbers, format_func=labels.get, key=f"{key}_version_{dataset_id}")
    return ws.version(dataset_id, number)


def show_current_label(*keys: str, every_run: bool = False) -> None:
    """Call before drawing selects, radios or multiselects whose option labels are translated: the browser keeps
    showing the label the chosen option had when it was picked until the value is set again, so it is set again
    on the first run in another language; `every_run`: the labels also change without a switch (a job's state)."""
    # Only on a switch otherwise: a value set on every run could undo a pick made while the run was under way.
    drawn_in = st.session_state.setdefault(LABELS_DRAWN_IN, {})
    current = lang()
    for key in keys:
        if key in st.session_state and (every_run or drawn_in.get(key, current) != current):
            st.session_state[key] = st.session_state[key]
        drawn_in[key] = current


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
    values = {"id": lambda j: j.id, "kind": lambda j: named("job.kind", j.kind), "title": subject,
              "state": job_state, "progress": lambda j: j.fraction,
              "attempts": lambda j: j.attempts, "message": lambda j: in_language(j.message, lang()),
              "took": lambda j: duration(j.ran_seconds)}  # over all attempts: a resume does not restart it
    progress = partial(st.column_config.ProgressColumn, min_value=0, max_value=1)
    st.dataframe(pd.DataFrame([{name: values[name](j) for name in columns} for j in infos], columns=list(columns)),
                 hide_index=True, width="stretch",
                 column_config=column_labels("jobs.col", columns, {"progress": progress}))


def job_title(info) -> str:
    """The job's kind in the user's language, then what it works on: "训练 · huanhuan@2 · smollm2-135m-instruct …"."""
    return " · ".join(part for part in (named("job.kind", info.kind), subject(info)) if part)


def subject(info) -> str:
    """What the job works on, in the user's language where its title holds an id (an augment strategy)."""
    if info.kind == "augment":
        from workbench.augment.jobs import job_subject

        return job_subject(info, lang())
    return info.subject


def job_state(info) -> str:
    """The job's state in the user's language; "cancelling…" from the Cancel click until the job has stopped."""
    return t("job.state.cancelling") if info.cancelling else t(f"job.state.{info.state}")


def job_card(info, show_log: bool = True, where: str = "side") -> None:
    """Progress, ETA, state, log tail and cancel/resume for one job (`where` keeps widget keys unique)."""
    fraction = info.fraction
    label = f"{job_title(info)} · {job_state(info)}"
    if info.state == "running" and not info.cancelling and fraction is not None:
        label += f" · {fraction:.0%} · " + t("job.eta", eta=duration(info.eta_seconds))
    st.progress(fraction or 0.0, text=label)
    if info.message:
        st.caption(in_language(info.message, lang()))
    columns = st.columns(2)
    # while it stops the button stays, disabled: the click was taken
    if info.state in jobs.ACTIVE and columns[0].button(t("job.cancel"), key=f"{where}_cancel_{info.id}",
                                                       disabled=info.cancelling):
        jobs.cancel(workspace(), info.id)
        st.rerun()
    if info.resumable and columns[1].button(t("job.resume"), key=f"{where}_resume_{info.id}"):
        jobs.resume(workspace(), info.id)
        st.rerun()
    if show_log:
        with st.expander(t("job.log")):
            st.code(info.log_tail(15) or "…", language=None)
