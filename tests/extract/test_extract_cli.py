"""`python -m workbench extract …` in-process: rules into a dataset with a score, chunks, fetch and its refusal."""
import json
from pathlib import Path

from tests.extract.conftest import FAQ_HTML
from workbench.cli import main
from workbench.extract import save_fetch_settings
from workbench.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures"


def run(capsys, root, *args):
    code = main(["--workspace", str(root), *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rules_saves_a_dataset_and_prints_counts_and_score(tmp_path, capsys):
    root = tmp_path / "ws"
    code, out, err = run(capsys, root, "extract", "rules", FIXTURES / "faq_zh.md", FIXTURES / "faq_en.txt",
                         "--preset", "auto", "--name", "帮助 FAQ", "--expected", FIXTURES / "expected.jsonl")
    assert code == 0, err
    assert "faq_zh.md\tmd\t" in out and "23 pairs from 2 of 2 sources" in out
    score = json.loads(out.split("score: ")[1].splitlines()[0])
    assert score["precision"] >= 0.9 and score["coverage"] >= 0.75
    assert "missed: '是否提供教育优惠？'" in out
    ref = out.strip().splitlines()[-1].split(" as ")[1]
    version = Workspace(root).resolve(ref)
    assert version.rows == 23 and version.op == "extract" and version.params["rule"]["preset"] == "auto"


def test_rules_preview_custom_pattern_and_errors(tmp_path, capsys):
    root, source = tmp_path / "ws", tmp_path / "q.txt"
    source.write_text("【问】怎么登录【答】用手机号\n【问】怎么注册【答】点注册\n", encoding="utf-8")
    code, out, _ = run(capsys, root, "extract", "rules", source, "--preset", "custom",
                       "--pattern", "【问】(?P<question>.+?)【答】(?P<answer>.+)", "--preview", "1")
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["question"] == "怎么登录"
    assert Workspace(root).datasets() == []
    code, _, err = run(capsys, root, "extract", "rules", source, "--preset", "custom", "--pattern", "(?P<question>")
    assert code == 2 and "正则" in err
    code, out, err = run(capsys, root, "extract", "rules", source)
    assert code == 1 and "no pairs found" in out and "No question/answer pairs found with the rule 'qa_colon'" in err


def test_rules_in_the_background(tmp_path, capsys):
    root = tmp_path / "ws"
    code, out, _ = run(capsys, root, "extract", "rules", FIXTURES / "faq_en.txt", "--background")
    assert code == 0 and out.startswith("started job ")
    from workbench import jobs

    ws = Workspace(root)
    info = jobs.wait(ws, out.split()[2])
    assert info.state == "succeeded" and info.result["pairs"] == 4


def test_chunks_prints_spans_and_heading_paths(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path / "ws", "extract", "chunks", FIXTURES / "faq_zh.md", "--size", "200",
                       "--overlap", "20")
    lines = out.splitlines()
    assert code == 0 and "chunks (size 200 chars, overlap 20)" in lines[0]
    assert any("\t小鹿云盘 帮助中心 > 同步与存储 > 同步失败怎么办？\t" in line for line in lines)
    first = lines[1].split("\t")
    assert first[0].endswith(":0") and first[1].startswith("[0:")


def test_fetch_is_refused_by_default_and_allowed_by_the_settings_switch(tmp_path, capsys, site):
    root = tmp_path / "ws"
    site.routes["/faq.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, FAQ_HTML.encode())
    code, out, err = run(capsys, root, "extract", "fetch", site.url("/faq.html"))
    assert code == 2 and "Refused to fetch 127.0.0.1" in out + err and "loopback" in out + err
    assert site.requests == []
    save_fetch_settings(Workspace(root), True)
    code, out, err = run(capsys, root, "extract", "fetch", site.url("/faq.html"))
    assert code == 0 and "## 如何重置密码？" in out and "text/html" in err
    code, out, err = run(capsys, root, "--lang", "zh", "extract", "fetch", "http://169.254.169.254/latest/meta-data/")
    assert code == 2 and "云元数据" in out + err
