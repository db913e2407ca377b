"""Split, Export, Versions and Quality in the user's language, and Export's notice of fields a format drops (AppTest)."""
import json

import pyarrow as pa

from tests.pages.conftest import no_errors, page
from workbench.data import operations
from workbench.data.split import SplitConfig


def templated(ws):
    """A dataset with a field a template made (`prompt`), split, as the user met it."""
    version = ws.create_dataset("templated", pa.table({
        "instruction": [f"问{i}" for i in range(10)], "output": [f"答{i}" for i in range(10)],
        "prompt": [f"<s>问{i}</s>" for i in range(10)]}))
    return operations.split_version(ws, version, SplitConfig(train=0.6, validation=0.2, test=0.2))


def in_chinese(name: str, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "zh")  # AppTest formats the choices in the test process, by this
    return page(name).run()


def headings(element) -> set:
    return {column.get("label") for column in json.loads(element.proto.columns).values()}


def test_export_names_the_fields_a_format_leaves_out_before_the_file_is_made(app_env):
    templated(app_env)
    at = page("export").run()
    no_errors(at)
    assert at.selectbox(key="export_format").value == "alpaca_json"
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("Alpaca JSON does not carry these fields, so the file will not have them: prompt.")
    at.selectbox(key="export_format").select("sharegpt_json").run()
    assert "prompt" in at.warning[0].value
    at.selectbox(key="export_format").select("csv").run()
    assert not at.warning
    at.button(key="export_prepare").click().run()
    no_errors(at)
    assert at.get("download_button")


def test_export_and_split_speak_chinese(app_env, monkeypatch):
    templated(app_env)
    at = in_chinese("export", monkeypatch)
    no_errors(at)
    options = at.selectbox(key="export_format").options
    assert "Hugging Face datasets 格式（zip 压缩包）" in options and "LLaMA-Factory 文件夹（zip 压缩包）" in options
    assert at.warning[0].value.startswith("导出为 Alpaca 格式 JSON 时，文件中不会包含以下字段：prompt。")
    assert "训练集（train）" in at.selectbox(key="export_split").options
    at = in_chinese("split", monkeypatch)
    no_errors(at)
    labels = [box.label for box in at.number_input]
    assert labels[:3] == ["训练集（train）", "验证集（validation）", "测试集（test）"]
    assert set(at.dataframe[0].value.columns) == {"训练集（train）", "验证集（validation）", "测试集（test）"}


def test_versions_show_parameters_as_key_value_lines(app_env, monkeypatch):
    version = templated(app_env)
    at = in_chinese("versions", monkeypatch)
    no_errors(at)
    shown = at.dataframe[0].value
    parameters = shown["parameters"].tolist()[0]  # the newest version first: the split
    assert parameters.splitlines()[:2] == ["train: 0.6", "validation: 0.2"] and "{" not in parameters
    assert shown["splits"].tolist()[0].splitlines() == [f"{name}: {rows}" for name, rows in (
        ("训练集（train）", version.splits["train"]), ("验证集（validation）", version.splits["validation"]),
        ("测试集（test）", version.splits["test"]))]
    assert {"版本", "操作", "参数", "划分"} <= headings(at.dataframe[0])


def test_quality_tables_are_headed_in_chinese(app_env, monkeypatch):
    version = app_env.create_dataset("dups", pa.table({
        "instruction": ["你是谁？", "你是谁？", "今天天气", "紫禁城"], "output": ["甄嬛", "甄嬛", "晴", "皇宫"],
        "_split": ["train", "test", "train", "validation"]}))
    at = in_chinese("quality", monkeypatch)
    at.button(key="quality_run").click().run()
    no_errors(at)
    groups, near, leaks = at.dataframe[:3]
    assert {"组", "行 id（_id）", "保留", "相似度", "划分"} <= headings(groups)
    assert not headings(groups) & {"group", "_id", "keep", "similarity", "_split"}
    assert {"行 id（_id）", "划分", "训练集行 id", "匹配方式", "训练集 output"} <= headings(leaks)
    assert version.rows == 4
