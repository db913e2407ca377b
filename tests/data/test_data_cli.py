"""The data verbs of `python -m workbench` speak the user's language: the quality report, export format
names (short names, any case; an unknown one lists the accepted ones) and saving from an older version."""
import json
import re

import pytest

from workbench.cli import main
from workbench.data.export import EXPORT_FORMATS, export_format
from workbench.data.quality import FIXES
from workbench.i18n import t
from workbench.workspace import StaleVersionError, Workspace

ROWS = ([{"instruction": "问候", "input": "", "output": "你好"}] * 3
        + [{"instruction": f"第{i}题", "input": "", "output": ("正面", "负面", "负面 ")[i % 3]} for i in range(30)]
        + [{"instruction": "空答案", "input": "", "output": ""}]
        + [{"instruction": "很长的问题" * 10, "input": "", "output": "正面"}])


@pytest.fixture
def workspace(tmp_path):
    data = tmp_path / "d.json"
    data.write_text(json.dumps(ROWS, ensure_ascii=False), encoding="utf-8")
    root = tmp_path / "ws"
    assert main(["--workspace", str(root), "import", str(data), "--name", "d", "--keep-bad"]) == 0
    return root


def run(capsys, workspace, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--workspace", str(workspace), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_quality_text_follows_lang_and_json_stays_as_it_is(capsys, workspace):
    code, unsplit, _ = run(capsys, workspace, "--lang", "zh", "quality", "d")
    assert code == 0 and "  数据泄漏：未检查，该版本尚未划分训练/验证/测试集" in unsplit
    assert run(capsys, workspace, "split", "d", "--train", "0.6", "--validation", "0.2", "--test", "0.2")[0] == 0
    options = ["quality", "d", "--label", "output", "--max-tokens", "20", "--fix", "exact", "exact"]
    code, chinese, _ = run(capsys, workspace, "--lang", "zh", *options)
    assert code == 0
    for label in ("d@2 的质量检查（35 行；字段：instruction，input，output；用时", "  完全重复：1 组，待删除 2 行",
                  "  近似重复（Jaccard ≥ 0.8，字符 3-gram）：待删除", "  数据泄漏（与训练集某行相同或近似的验证/测试行）：",
                  "  空行（instruction，output 为空）：1 行；各字段空白单元格：instruction 0，input 35，output 1",
                  "  超长（> 20 字符）：1 行；最长 52", "  标签（output）：3 种，最多/最少 = ", "1 行为空",
                  "    ! 1 行标签为空（不计为类别）", "    ! 仅空白或全角/半角不同的标签：", "  语言：中文 ",
                  "修复 exact（完全重复）：已删除 2 行 -> d@3（共 33 行）", "修复 exact（完全重复）：d@3 中没有要删除的行"):
        assert label in chinese, label
    # Left of the Chinese: only names the user gave (ref, fields, the fix) and the method's names.
    words = set(re.findall(r"[A-Za-z]+", chinese))
    assert words <= {"d", "instruction", "input", "output", "exact", "Jaccard", "gram"}, words
    _, english, _ = run(capsys, workspace, "--lang", "en", "quality", "d@2", "--label", "output", "--max-tokens", "20")
    assert "  exact duplicates: 2 rows to drop in 1 groups" in english and "  languages: zh " in english
    assert "    ! 1 row with a blank label (not counted as a class)" in english
    summaries = [json.loads(run(capsys, workspace, "--lang", lang, "quality", "d@2", "--json")[1]) for lang in ("zh", "en")]
    assert summaries[0] | {"seconds": None} == summaries[1] | {"seconds": None}
    assert summaries[0]["exact_duplicate_rows"] == 2 and summaries[0]["languages"]["zh"] == 35
    assert all(t(f"quality.cli.fix.{kind}", "zh").startswith(f"修复 {kind}（") for kind in FIXES)


@pytest.mark.parametrize("name, shape", [("alpaca", "alpaca"), ("ALPACA", "alpaca"), ("Alpaca-JSON", "alpaca"),
                                         ("sharegpt", "sharegpt"), ("ShareGPT_json", "sharegpt"), ("JSONL", "jsonl")])
def test_export_takes_short_format_names_in_any_case(capsys, workspace, tmp_path, name, shape):
    out = tmp_path / "out.json"
    code, printed, _ = run(capsys, workspace, "export", "d", "--format", name, "--out", str(out))
    assert code == 0 and f"exported d@1 -> {out}" in printed
    text = out.read_text(encoding="utf-8")
    first = json.loads(text.splitlines()[0]) if shape == "jsonl" else json.loads(text)[0]
    assert ("conversations" in first) == (shape == "sharegpt") and ("instruction" in first) != (shape == "sharegpt")


def test_export_format_names():
    assert [export_format(name) for name in ("hf", "HuggingFace", "datasets", "llama-factory", "LlamaFactory")] == [
        "hf_datasets", "hf_datasets", "hf_datasets", "llamafactory", "llamafactory"]
    assert all(export_format(name.upper()) == name for name in EXPORT_FORMATS)
    assert export_format("json") is None and export_format("openai") is None  # neither names one format


@pytest.mark.parametrize("lang, said", [("zh", "未知的导出格式“openai”；可选：alpaca_json（或 alpaca）、"),
                                        ("en", "unknown export format 'openai'; choose one of: alpaca_json (or alpaca), ")])
def test_unknown_export_format_lists_the_accepted_names_in_the_users_language(capsys, workspace, tmp_path, lang, said):
    code, _, err = run(capsys, workspace, "--lang", lang, "export", "d", "--format", "openai",
                       "--out", str(tmp_path / "o.json"))
    assert code == 2 and said in err and "Traceback" not in err and not (tmp_path / "o.json").exists()
    assert all(name in err for name in EXPORT_FORMATS) and "sharegpt" in err and "hf" in err
    assert ("未知" in err) == (lang == "zh") and ("unknown" in err) == (lang == "en")


VERBS_THAT_SAVE = {"split": ["split", "{ref}", "--seed", "3"], "map": ["map", "{ref}", "--set", "instruction=instruction",
                                                                     "output=output"],
                   "quality": ["quality", "{ref}", "--fix", "exact"],
                   "templates apply": ["templates", "apply", "{ref}", "qa_from_passage_zh", "--target", "system",
                                       "--set", "passage=文本"],
                   # a background job: refused before it starts (its rows could never be saved)
                   "augment": ["augment", "{ref}", "--strategy", "paraphrase_instruction", "--endpoint", "none"]}


@pytest.mark.parametrize("command", VERBS_THAT_SAVE)
def test_saving_from_an_older_version_says_which_is_newest_and_what_to_do(capsys, workspace, command):
    ws = Workspace(workspace)
    ws.restore("d", 1, 1)  # d@2 is the newest
    argv = [arg.format(ref="d@1") for arg in VERBS_THAT_SAVE[command]]
    code, _, chinese = run(capsys, workspace, "--lang", "zh", *argv)
    assert code == 2 and chinese.strip().endswith(t("cli.stale", "zh", old="d@1", new="d@2", dataset="d", command=command))
    assert "最新为 d@2" in chinese and f"请对 d@2 运行 `{command}`" in chinese and "restore d@1" in chinese
    assert "刷新" not in chinese and "reload" not in chinese
    code, _, english = run(capsys, workspace, "--lang", "en", *argv)
    assert code == 2 and "error: d@1 is not the newest version of d (d@2 is);" in english
    assert f"Run `{command}` on d@2, or first `python -m workbench restore d@1`" in english
    assert "reload" not in english and "打开" not in english and ws.dataset("d").head == 2


def test_the_page_keeps_its_reload_wording():
    assert "Reload the page" in t("common.stale", "en") and "刷新页面" in t("common.stale", "zh")
    assert "reload" in str(StaleVersionError("d", 1, 2))


def test_export_says_which_fields_the_format_leaves_out_before_writing(capsys, tmp_path):
    data = tmp_path / "templated.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"问{i}", "output": f"答{i}", "prompt": f"提示词{i}"},
                                       ensure_ascii=False) + "\n" for i in range(3)), encoding="utf-8")
    root = tmp_path / "ws"
    assert main(["--workspace", str(root), "import", str(data), "--name", "t"]) == 0
    out = tmp_path / "t.json"
    code, printed, warned = run(capsys, root, "--lang", "zh", "export", "t", "--format", "alpaca", "--out", str(out))
    assert code == 0 and warned.startswith("导出为 alpaca_json 时，文件中不会包含以下字段：prompt。")
    assert "prompt" not in json.loads(out.read_text(encoding="utf-8"))[0]  # what was said is what happened
    code, _, warned = run(capsys, root, "export", "t", "--format", "sharegpt", "--out", str(out))
    assert code == 0 and warned.startswith("sharegpt_json does not carry these fields, so the file will not have "
                                           "them: prompt.")
    code, _, warned = run(capsys, root, "export", "t", "--format", "csv", "--out", str(tmp_path / "t.csv"))
    assert code == 0 and warned == ""
