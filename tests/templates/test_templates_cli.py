"""`python -m workbench templates …`: the real entry point in a subprocess, the rest in-process (faster)."""
import subprocess
import sys
from pathlib import Path

from workbench.cli import main
from workbench.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def run(workspace, *args, lang="en"):
    return subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(workspace), "--lang", lang, *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_render_and_apply_through_the_real_command(tmp_path):
    ws = tmp_path / "ws"
    rendered = run(ws, "templates", "render", "classify_text_zh", "--var", "labels=好或坏", "--var", "text=不错")
    assert rendered.returncode == 0 and rendered.stdout.strip() == "判断这条文本的情感，只回答：好或坏。\n\n文本：不错"
    missing = run(ws, "templates", "render", "classify_text_zh", lang="zh")
    assert missing.returncode == 2 and "变量“labels”没有值" in missing.stderr and "Traceback" not in missing.stderr
    assert main(["--workspace", str(ws), "import", str(ROOT / "workbench/samples/product_reviews.csv"),
                 "--name", "reviews"]) == 0
    applied = run(ws, "templates", "apply", "reviews", "classify_text_zh", "--target", "instruction",
                  "--set", "labels=正面、负面或中性", "--set", "subject=商品评论")
    assert applied.returncode == 0 and "reviews@2" in applied.stdout, applied.stderr


def test_list_show_and_manage_your_own(tmp_path, capsys):
    ws = str(tmp_path / "ws")

    def cli(*args, code=0):
        capsys.readouterr()
        assert main(["--workspace", ws, *args]) == code
        return capsys.readouterr()

    listed = cli("templates", "list", "--category", "judge", "--lang", "zh").out.splitlines()
    assert listed and all("\tjudge\tzh\t" in line for line in listed)
    shown = cli("templates", "show", "classify_text_zh").out
    assert "{{ labels }}" in shown and "判断这条商品评论的情感，只回答：正面、负面或中性。" in shown
    text = tmp_path / "mine.j2"
    text.write_text("Tag: {{ lang }}\n{{ text }", encoding="utf-8")
    bad = cli("templates", "create", "My tagger", "--text-file", str(text), code=2).err
    assert "line 2" in bad and "My tagger" in bad
    text.write_text("Tag: {{ lang }}\n{{ text }}", encoding="utf-8")
    assert "my-tagger@1" in cli("templates", "create", "My tagger", "--text-file", str(text)).out
    text.write_text("[{{ lang }}] {{ text }}", encoding="utf-8")
    assert "my-tagger@2" in cli("templates", "edit", "my-tagger", "--text-file", str(text)).out
    assert cli("templates", "versions", "my-tagger").out.count("my-tagger@") == 2
    assert "[zh] x" in cli("templates", "render", "my-tagger", "--var", "lang=zh", "--var", "text=x").out
    assert "Tag: zh" in cli("templates", "render", "my-tagger@1", "--var", "lang=zh", "--var", "text=x").out
    assert "created" in cli("templates", "duplicate", "persona_zhenhuan_zh", "--name", "嬛嬛").out
    assert "read-only" in cli("templates", "edit", "persona_zhenhuan_zh", "--text-file", str(text), code=2).err
    assert "No template" in cli("templates", "show", "nope", code=2).err
    cli("templates", "delete", "my-tagger")
    assert "my-tagger" not in cli("templates", "list").out


def cli_in(tmp_path, capsys):
    """main() in-process on a workspace under tmp_path: (out, err) after asserting the exit code."""
    ws = str(tmp_path / "ws")

    def cli(*args, code=0, lang="en"):
        capsys.readouterr()
        assert main(["--workspace", ws, "--lang", lang, *args]) == code
        return capsys.readouterr()
    return cli


def import_rows(tmp_path, cli, rows, name="law"):
    import json

    source = tmp_path / f"{name}.jsonl"
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    cli("import", str(source), "--name", name)


def test_apply_fills_unmapped_variables_from_columns_of_the_same_name(tmp_path, capsys):
    """Without --map, {{ instruction }} takes the instruction column while --set gives {{ area }} (was: no value)."""
    cli = cli_in(tmp_path, capsys)
    import_rows(tmp_path, cli, [{"instruction": "试用期多长？", "output": "最长六个月。"}])
    text = tmp_path / "sys.j2"
    text.write_text("你是{{ area }}律师。用户问：{{ instruction }}", encoding="utf-8")
    cli("templates", "create", "lawyer", "--text-file", str(text), "--category", "system")
    assert "law@2" in cli("templates", "apply", "law", "lawyer", "--target", "system", "--set", "area=劳动").out
    ws = Workspace(tmp_path / "ws")
    version = ws.resolve("law")
    assert ws.read(version).column("system").to_pylist() == ["你是劳动律师。用户问：试用期多长？"]
    assert version.params["mapping"] == {"instruction": "instruction"}
    # an explicit --map still wins over the column of the same name
    assert "law@3" in cli("templates", "apply", "law", "lawyer", "--target", "system", "--set", "area=劳动", "--map",
                          "instruction=output", "--overwrite").out
    assert ws.read(ws.resolve("law")).column("system").to_pylist() == ["你是劳动律师。用户问：最长六个月。"]


def test_template_text_files_that_cannot_be_read_are_named_without_a_traceback(tmp_path, capsys):
    cli = cli_in(tmp_path, capsys)
    missing = cli("templates", "create", "x", "--text-file", str(tmp_path / "missing.j2"), code=2).err
    assert "Template text file not found" in missing and "missing.j2" in missing and "找不到模板文本文件" in missing
    folder = cli("templates", "create", "x", "--text-file", str(tmp_path), code=2).err
    assert "is a folder" in folder and str(tmp_path) in folder
    gbk = tmp_path / "gbk.j2"
    gbk.write_bytes("你好\n{{ 领域 }}".encode("gbk"))
    error = cli("templates", "create", "x", "--text-file", str(gbk), code=2, lang="zh").err
    assert f"{gbk}:1:1" in error and "不是 UTF-8" in error and "GB18030" in error and "Traceback" not in error
    assert not (tmp_path / "ws" / "templates" / "x").exists()  # nothing was created
    good = tmp_path / "good.j2"
    good.write_text("{{ a }}", encoding="utf-8")
    cli("templates", "create", "x", "--text-file", str(good))
    assert "GB18030" in cli("templates", "edit", "x", "--text-file", str(gbk), code=2).err


def test_chinese_variable_names_work_and_full_width_letters_are_located(tmp_path, capsys):
    """{{ 领域 }} is a variable like any other; {{ ｘ }} would read x's value (Python NFKC), so it is refused."""
    cli = cli_in(tmp_path, capsys)
    import_rows(tmp_path, cli, [{"instruction": "加班费怎么算？", "output": "按规定。"}])
    text = tmp_path / "zh.j2"
    text.write_text("你是{{ 领域 }}律师。\n问题：{{ instruction }}", encoding="utf-8")
    assert "@1" in cli("templates", "create", "领域律师", "--text-file", str(text)).out
    assert "{{ 领域 }}  (required)" in cli("templates", "show", "领域律师").out
    assert "law@2" in cli("templates", "apply", "law", "领域律师", "--target", "system", "--set", "领域=劳动").out
    assert cli("templates", "render", "领域律师", "--var", "领域=劳动", "--var", "instruction=问").out.startswith(
        "你是劳动律师。")
    text.write_text("x={{ x }}\n{{ ｘ }}", encoding="utf-8")
    error = cli("templates", "create", "wide", "--text-file", str(text), code=2, lang="zh").err
    assert "第 2 行" in error and "“ｘ”不是有效的变量名" in error and "“x”" in error and "pattern" not in error


def test_user_templates_are_found_by_the_name_they_were_created_with(tmp_path, capsys):
    """`create lawyer_sys` makes id lawyer-sys; show, apply, edit, versions and delete all take lawyer_sys."""
    cli = cli_in(tmp_path, capsys)
    import_rows(tmp_path, cli, [{"instruction": "问", "output": "答"}])
    text = tmp_path / "sys.j2"
    text.write_text("律师：{{ instruction }}", encoding="utf-8")
    assert "lawyer-sys@1" in cli("templates", "create", "lawyer_sys", "--text-file", str(text)).out
    assert cli("templates", "show", "lawyer_sys").out.startswith("lawyer-sys@1")
    assert "lawyer-sys@1 to law@1 -> law@2" in cli("templates", "apply", "law", "lawyer_sys", "--target", "system").out
    text.write_text("律师（新）：{{ instruction }}", encoding="utf-8")
    assert "lawyer-sys@2" in cli("templates", "edit", "lawyer_sys", "--text-file", str(text)).out
    assert cli("templates", "versions", "lawyer_sys").out.count("lawyer-sys@") == 2
    assert "律师：问" in cli("templates", "render", "lawyer_sys@1", "--var", "instruction=问").out
    cli("templates", "delete", "lawyer_sys")
    assert "lawyer-sys" not in cli("templates", "list").out


def test_apply_refuses_a_required_variable_left_empty_and_says_how_to_go_on(tmp_path, capsys):
    """huanhuan.json's `input` is empty: `--map passage=input` must not save empty passages without --allow-empty."""
    cli = cli_in(tmp_path, capsys)
    import_rows(tmp_path, cli, [{"instruction": "皇上驾到！", "input": "", "output": "皇上万福金安。"},
                                {"instruction": "娘娘。", "input": "", "output": "嗯。"}], name="huan")
    args = ("templates", "apply", "huan", "qa_role_dialogue_zh", "--target", "prompt", "--set", "character=甄嬛",
            "--map", "passage=input")
    error = cli(*args, code=2).err
    assert "line 11: required variable 'passage' (column 'input') is empty in 2 of 2 rows (row _id 0, 1)" in error
    assert "--allow-empty" in error and "Traceback" not in error
    assert "必填变量“passage”" in cli(*args, code=2, lang="zh").err
    ws = Workspace(tmp_path / "ws")
    assert ws.dataset("huan").head == 1
    assert "huan@2" in cli(*args, "--allow-empty").out
    assert ws.version("huan").params["empty"] == {"passage": 2}
    assert "huan@3" in cli("templates", "apply", "huan", "qa_role_dialogue_zh", "--target", "prompt", "--set",
                           "character=甄嬛", "--map", "passage=output", "--overwrite").out
