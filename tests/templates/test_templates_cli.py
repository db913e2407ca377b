"""`python -m workbench templates …`: the real entry point in a subprocess, the rest in-process (faster)."""
import subprocess
import sys
from pathlib import Path

from workbench.cli import main

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
