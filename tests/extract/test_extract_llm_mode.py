"""LLM mode end to end as a real background job against a real OpenAI-compatible server on 127.0.0.1."""
import json

import pytest

from tests.llm.conftest import answer, scripted  # noqa: F401  (the scripted server fixture)
from workbench import jobs
from workbench.extract import Pasted
from workbench.extract.llm_mode import (LLMExtractConfig, load_candidates, parse_questions, save_reviewed,
                                        start_llm_job)
from workbench.llm import Endpoint, save_endpoint

DOC = ("# 宫规\n\n嫔妃每日卯时须向皇后请安。迟到者罚俸一月。\n\n"
       "# 节庆\n\n中秋节宫中设宴，赏月吃月饼。除夕守岁至子时。")


def reply(request):
    prompt = request["messages"][0]["content"]
    if prompt.startswith("You write questions"):
        if "请安" in prompt:
            return answer(json.dumps(["嫔妃何时请安？", "迟到罚什么？"], ensure_ascii=False))
        return answer("1. 中秋节做什么？\n2. 除夕守岁到几点？")  # not JSON: one question per line
    if prompt.startswith("Does the passage support"):
        return answer('{"supported": false}' if "月饼" in prompt.split("Answer:")[-1] else '{"supported": true}')
    question = prompt.rsplit("Question: ", 1)[-1]
    if "迟到" in question:
        return answer("NOT_IN_PASSAGE")
    return answer({"嫔妃何时请安？": "卯时。", "中秋节做什么？": "设宴赏月，吃月饼。"}.get(question, "子时。"))


@pytest.mark.parametrize("grounded, expected", [
    ("none", ["嫔妃何时请安？", "中秋节做什么？", "除夕守岁到几点？"]),
    ("judge", ["嫔妃何时请安？", "除夕守岁到几点？"]),
])
def test_questions_then_grounded_answers_become_reviewable_candidates(ws, scripted, grounded, expected):
    scripted.replies = [reply]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    config = LLMExtractConfig("scripted", questions_per_chunk=2, chunk_size=40, chunk_overlap=0, grounded=grounded)
    job_id = start_llm_job(ws, [Pasted(DOC, "宫规.md")], config, "gong")
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded", info.log_tail()
    candidates = load_candidates(ws, job_id)
    assert [c["instruction"] for c in candidates] == expected
    first = candidates[0]
    assert first["output"] == "卯时。" and "卯时" in first["chunk_text"]
    span = json.loads(first["_span"])
    assert DOC[span["start"]:span["end"]] == first["chunk_text"] and first["_chunk"]
    candidates[-1]["accept"] = False
    candidates[0]["output"] = "卯时（早上五点到七点）。"  # edited in review
    version = save_reviewed(ws, candidates, "gong", job_id=job_id)
    rows = ws.read(version).to_pylist()
    assert [r["instruction"] for r in rows] == expected[:-1] and rows[0]["output"].startswith("卯时（")
    assert version.params["accepted"] == len(expected) - 1 and version.params["mode"] == "llm"


def test_prompts_are_checked_before_anything_runs():
    with pytest.raises(ValueError) as caught:
        LLMExtractConfig("x", question_prompt="Write questions about {{ chunk }}")
    assert "['n']" in str(caught.value) and "必须包含变量" in str(caught.value)
    with pytest.raises(ValueError) as caught:
        LLMExtractConfig("x", answer_prompt="{{ chunk }} {{ question }")
    assert "line 1" in str(caught.value)


def test_questions_are_read_from_json_or_lines():
    assert parse_questions('["a?", "b?", "c?"]', 2) == ["a?", "b?"]
    assert parse_questions('{"questions": ["x?"]}', 5) == ["x?"]
    assert parse_questions("1. 为什么？\n2、怎么办？\n\n- 何时？", 5) == ["为什么？", "怎么办？", "何时？"]


def test_the_cli_runs_llm_mode_scores_it_against_labelled_pairs_and_saves(ws, scripted, tmp_path, capsys):
    from workbench.cli import main

    scripted.replies = [reply]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    source, sample = tmp_path / "宫规.md", tmp_path / "labels.csv"
    source.write_text(DOC, encoding="utf-8")
    sample.write_text("question,answer\n嫔妃几时请安？,卯时\n除夕守岁到什么时候？,子时。\n端午吃什么？,粽子\n", encoding="utf-8")
    code = main(["--workspace", str(ws.root), "extract", "llm", str(source), "--endpoint", "scripted",
                 "--per-chunk", "2", "--size", "40", "--overlap", "0", "--expected", str(sample), "--save", "gong"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 candidate pairs from 2 chunks" in out
    score = json.loads(out.split("score: ")[1].splitlines()[0])
    # 嫔妃何时请安？ ~ 嫔妃几时请安？ and 除夕守岁到几点？ ~ 除夕守岁到什么时候？ match; 中秋节做什么？ is not labelled
    assert score == {"precision": round(2 / 3, 4), "coverage": round(2 / 3, 4), "matched": 2, "found": 3, "expected": 3}
    assert "missed: '端午吃什么？'" in out and "saved 3 pairs as gong@1" in out
    assert ws.version(ws.datasets()[0].id).params["mode"] == "llm"


def test_the_cli_reads_an_intranet_url_only_with_allow_private_urls(ws, scripted, site, capsys):
    """The job started by `extract llm` gets the flag; without it the refusal names the flag, not a setting."""
    from workbench.cli import main

    scripted.replies = [reply]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    site.routes["/gong.md"] = (200, {"Content-Type": "text/plain; charset=utf-8"}, DOC.encode())
    command = ["--workspace", str(ws.root), "extract", "llm", site.url("/gong.md"), "--endpoint", "scripted",
               "--per-chunk", "2", "--size", "40", "--overlap", "0"]
    assert main(command) == 0
    out, err = capsys.readouterr()
    assert "0 candidate pairs from 0 chunks" in out and "loopback" in err and "--allow-private-urls" in err
    assert site.requests == []
    assert main(command + ["--allow-private-urls"]) == 0
    out, err = capsys.readouterr()
    assert "3 candidate pairs from 2 chunks" in out and "Refused" not in err
