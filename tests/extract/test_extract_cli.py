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
    code, out, err = run(capsys, root, "extract", "rules", source, "--preset", "qa_colon")
    assert code == 1 and "no pairs found" in out and "No question/answer pairs found with the rule 'qa_colon'" in err
    assert "--preset auto" in err  # a preset that finds nothing points to the one that tries them all


def test_rules_in_the_background(tmp_path, capsys):
    root = tmp_path / "ws"
    code, out, _ = run(capsys, root, "extract", "rules", FIXTURES / "faq_en.txt", "--background")
    assert code == 0 and out.startswith("started job ")
    from workbench import jobs

    ws = Workspace(root)
    info = jobs.wait(ws, out.split()[2])
    assert info.state == "succeeded" and info.result["pairs"] == 11  # the default preset is auto, as on the page
    assert ws.resolve(info.result["ref"]).params["rule"]["preset"] == "auto"


LAW = """# 劳动纠纷常见问题

问：公司拖欠工资怎么办？
答：可以采取以下方式维权：

1. 与用人单位协商；
2. 向劳动监察大队投诉；
3. 申请劳动仲裁。

以上途径可同时进行。

问：试用期可以随时辞退吗？
答：不可以。用人单位须证明劳动者不符合录用条件。

---
本页内容由某律所整理，仅供参考。咨询热线：400-000-0000
"""
LIST_ANSWER = "可以采取以下方式维权：\n\n1. 与用人单位协商；\n2. 向劳动监察大队投诉；\n3. 申请劳动仲裁。\n\n以上途径可同时进行。"


def previewed(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_listed_answer_is_kept_whole_and_a_page_footer_stays_out(tmp_path, capsys):
    """The user's law FAQ: a colon-ended answer keeps its list and closing line in both answer-end modes."""
    root, source = tmp_path / "ws", tmp_path / "law.md"
    source.write_text(LAW, encoding="utf-8")
    for until in ("paragraph", "next_question"):
        code, out, err = run(capsys, root, "extract", "rules", source, "--answer-until", until, "--preview", "5")
        pairs = previewed(out)
        assert code == 0, err
        assert [(p["question"], p["answer"]) for p in pairs] == [
            ("公司拖欠工资怎么办？", LIST_ANSWER), ("试用期可以随时辞退吗？", "不可以。用人单位须证明劳动者不符合录用条件。")], until


def test_the_default_preset_is_auto_like_the_page(tmp_path, capsys):
    """Numbered FAQs and HTML <h2> questions give pairs without naming a preset."""
    root, numbered, html = tmp_path / "ws", tmp_path / "numbered.md", tmp_path / "faq.html"
    numbered.write_text("1、劳动合同到期不续签有补偿吗？\n有，按工作年限支付经济补偿。\n\n"
                        "2、加班费怎么算？\n工作日加班按工资的 150% 支付。\n", encoding="utf-8")
    html.write_text(FAQ_HTML, encoding="utf-8")
    code, out, err = run(capsys, root, "extract", "rules", numbered, html, "--preview", "10")
    assert code == 0, err
    questions = [p["question"] for p in previewed(out)]
    assert "劳动合同到期不续签有补偿吗？" in questions and "加班费怎么算？" in questions and "如何重置密码？" in questions


def test_a_dropped_over_long_answer_is_reported(tmp_path, capsys):
    """An answer over max_answer_chars is dropped with a warning naming its question and line, not silently."""
    root, source = tmp_path / "ws", tmp_path / "statutes.md"
    statute = "第一条 为了保护劳动者的合法权益，调整劳动关系，制定本法。" * 800  # ~24k characters, one paragraph
    source.write_text(f"问：什么是劳动合同？\n答：约定双方权利义务的协议。\n\n问：劳动法全文是什么？\n答：{statute}\n\n"
                      "问：工资多久发一次？\n答：至少每月支付一次。\n", encoding="utf-8")
    code, out, err = run(capsys, root, "extract", "rules", source, "--name", "law")
    assert code == 0 and "2 pairs from 1 of 1 sources" in out
    warning = next(line for line in err.splitlines() if "劳动法全文是什么？" in line)
    assert "statutes.md:4:" in warning and "dropped" in warning and "20000" in warning
    code, _, err = run(capsys, root, "--lang", "zh", "extract", "rules", source, "--preview", "5")
    assert "警告: statutes.md:4: [answer] 问答对“劳动法全文是什么？”已丢弃" in err


def test_custom_pattern_flags_give_clean_errors(tmp_path, capsys):
    root, source = tmp_path / "ws", tmp_path / "q.txt"
    source.write_text("【问】怎么登录【答】用手机号\n", encoding="utf-8")
    code, _, err = run(capsys, root, "extract", "rules", source, "--preset", "custom", "--pattern", "(?P<question>")
    assert code == 2 and "not a valid regular expression" in err and "正则" in err
    assert "validation error" not in err and "pydantic" not in err
    code, _, err = run(capsys, root, "extract", "rules", source, "--preset", "custom")
    assert code == 2 and "--pattern is required" in err and "必须提供 --pattern" in err and "missing" not in err
    code, _, err = run(capsys, root, "extract", "rules", source, "--preset", "numbered", "--pattern", "(?P<question>x)")
    assert code == 2 and "--pattern is only read with --preset custom" in err
    code, out, err = run(capsys, root, "extract", "rules", source, "--pattern",  # a pattern alone means custom
                         "【问】(?P<question>.+?)【答】(?P<answer>.+)", "--preview", "1")
    assert code == 0 and previewed(out)[0]["rule"] == "custom", err


def test_preview_fails_like_save_when_no_source_is_read(tmp_path, capsys):
    root = tmp_path / "ws"
    for extra in (["--preview", "5"], []):
        code, out, err = run(capsys, root, "extract", "rules", tmp_path / "missing.md", tmp_path / "gone.txt", *extra)
        assert code == 1 and "no source could be read" in err and "missing.md" in err, extra


def test_summary_lines_follow_the_language(tmp_path, capsys):
    root, source = tmp_path / "ws", tmp_path / "law.md"
    source.write_text(LAW, encoding="utf-8")
    code, out, _ = run(capsys, root, "--lang", "zh", "extract", "rules", source, "--name", "law-faq")
    assert code == 0
    assert "law.md\tmd\t" in out and "个字符\t2 个问答对" in out
    assert "从 1 个来源中读取了 1 个，得到 2 个问答对" in out and "已保存 2 个问答对为 law-faq@1" in out
    assert "pairs from" not in out and "saved" not in out


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


def test_allow_private_urls_reaches_a_local_server_for_that_command_only(tmp_path, capsys, site):
    """--allow-private-urls widens one command (fetch, chunks, rules, a background job); nothing is saved."""
    from workbench.extract import STRICT, fetch_policy_for

    root = tmp_path / "ws"
    site.routes["/faq.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, FAQ_HTML.encode())
    site.routes["/law.md"] = (200, {"Content-Type": "text/plain; charset=utf-8"}, LAW.encode())
    code, out, err = run(capsys, root, "extract", "fetch", site.url("/faq.html"))
    assert code == 2 and "loopback" in err and "--allow-private-urls" in err and "settings" not in err
    code, out, err = run(capsys, root, "--lang", "zh", "extract", "rules", site.url("/law.md"), "--preview", "5")
    assert code == 1 and "本机回环" in err and "加上 --allow-private-urls" in err
    assert site.requests == []
    code, out, err = run(capsys, root, "extract", "fetch", site.url("/faq.html"), "--allow-private-urls")
    assert code == 0 and "## 如何重置密码？" in out, err
    code, out, err = run(capsys, root, "extract", "chunks", site.url("/law.md"), "--allow-private-urls")
    assert code == 0 and "-> 1 chunks" in out, err
    code, out, err = run(capsys, root, "extract", "rules", site.url("/law.md"), "--allow-private-urls", "--name", "law")
    assert code == 0 and "saved 2 pairs as law@1" in out, err
    code, out, err = run(capsys, root, "extract", "rules", site.url("/law.md"), "--allow-private-urls", "--background",
                         "--name", "law-job")
    from workbench import jobs

    ws = Workspace(root)
    info = jobs.wait(ws, out.split()[2])
    assert info.state == "succeeded" and info.result["pairs"] == 2, info.log_tail(20)
    # one command's flag changes no setting: the next command without it is refused again
    assert fetch_policy_for(ws) == STRICT and not (root / "settings").exists()
    code, out, err = run(capsys, root, "extract", "fetch", site.url("/faq.html"))
    assert code == 2 and "--allow-private-urls" in err
    metadata = "http://169.254.169.254/latest/meta-data/"
    for lang, words in (("en", "never fetched, not even with --allow-private-urls"),
                        ("zh", "加上 --allow-private-urls 也不行")):
        code, out, err = run(capsys, root, "--lang", lang, "extract", "fetch", metadata, "--allow-private-urls")
        assert code == 2 and words in err


def test_rule_rows_saved_by_the_cli_record_their_lines(tmp_path, capsys):
    root, source = tmp_path / "ws", tmp_path / "law.md"
    source.write_text(LAW, encoding="utf-8")
    code, out, err = run(capsys, root, "extract", "rules", source, "--name", "law")
    assert code == 0, err
    table = Workspace(root).read(Workspace(root).resolve("law@1"))
    chunks = table.column("_chunk").to_pylist()
    assert [chunk.split(":", 1)[1] for chunk in chunks] == ["L3-10", "L12-13"]
    assert chunks[0].split(":")[0] == json.loads(table.column("_source")[0].as_py())["document_id"]
