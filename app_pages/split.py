"""Split: train/validation/test by ratio and seed, optionally stratified and grouped."""
import pandas as pd
import streamlit as st

from ui.common import pick_version, saved, show_current_label, t, workspace
from workbench.data.operations import split_version
from workbench.data.split import SplitConfig, split_summary, split_table
from workbench.workspace import StaleVersionError

ws = workspace()
st.title(t("split.title"))
version = pick_version("split")
if version is None:
    st.stop()
columns = [c for c in version.columns if not c.startswith("_")]

cols = st.columns(4)
train = cols[0].number_input(t("split.part.train"), 0.0, 1.0, 0.70, 0.05, key="split_train")
validation = cols[1].number_input(t("split.part.validation"), 0.0, 1.0, 0.15, 0.05, key="split_validation")
test = cols[2].number_input(t("split.part.test"), 0.0, 1.0, 0.15, 0.05, key="split_test")
seed = cols[3].number_input(t("split.seed"), 0, 2**31 - 1, 42, key="split_seed")
left, right = st.columns(2)
show_current_label("split_stratify", "split_group")
stratify = left.selectbox(t("split.stratify"), [None] + columns, key="split_stratify",
                          format_func=lambda c: c or t("split.none"))
group = right.selectbox(t("split.group"), [None] + columns, key="split_group", format_func=lambda c: c or t("split.none"))

total = train + validation + test
if abs(total - 1) > 1e-6:
    st.error(t("split.sum", total=total))
    st.stop()
config = SplitConfig(train=train, validation=validation, test=test, seed=int(seed), stratify=stratify, group=group)
preview = split_table(ws.read(version), config)
summary = split_summary(preview, stratify)
st.subheader(t("split.sizes"))
parts = {name: t(f"split.part.{name}") for name in summary["sizes"]}
st.dataframe(pd.DataFrame({t("split.rows"): summary["sizes"], t("split.fraction"): summary["fractions"]}).T
             .rename(columns=parts), width="stretch")
if summary.get("balance"):
    st.subheader(t("split.balance"))
    balance = pd.DataFrame(summary["balance"]).fillna(0).astype(int).rename(columns=parts)
    st.dataframe(balance, width="stretch")
    st.bar_chart(balance.T, stack="normalize")

if st.button(t("split.save"), type="primary", key="split_save"):
    try:
        new = split_version(ws, version, config)
    except StaleVersionError:
        st.error(t("common.stale"))
    else:
        saved(new, "split", ("app_pages/export.py", "📦 " + t("nav.export")))
