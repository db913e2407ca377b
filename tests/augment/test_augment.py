"""Augmentation as a real background job against a real OpenAI-compatible server on 127.0.0.1."""
import json

import pyarrow as pa
import pytest

from tests.llm.conftest import answer, scripted  # noqa: F401
from workbench import jobs
from workbench.augment import AugmentConfig, parse_result, start_augment
from workbench.llm import Endpoint, LLMError, save_endpoint

ROWS = {"instruction": ["皇上今日可好？", "What is the capital of France?", "嬛嬛，你在做什么？"],
        "output": ["皇上龙体安康，臣妾放心了。", "Paris is the capital of France.", "臣妾在绣一幅鸳鸯戏水图。"]}


def setup(ws, scripted, reply, **config):
    scripted.replies = [reply]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0, max_concurrency=2))
    version = ws.create_dataset("huan", pa.table(ROWS))
    job_id = start_augment(ws, version.ref, AugmentConfig(endpoint="scripted", **config))
    return version, job_id


def test_paraphrased_instructions_become_new_rows_marked_with_their_parent(ws, scripted):
    def reply(request):
        prompt = request["messages"][0]["content"]
        if "皇上今日" in prompt:  # one near-copy of the source (dropped) and one real paraphrase
            return answer(json.dumps({"paraphrases": ["皇上今日可好？", "皇上近来身子可还安好？"]}, ensure_ascii=False))
        if "France" in prompt:  # one answer in the wrong language (dropped)
            return answer('{"paraphrases": ["Which city is France\'s capital?", "法国的首都是哪里？"]}')
        return (500, {"error": {"message": "down"}}, {}, 0)  # a failed row: nothing added, job goes on

    version, job_id = setup(ws, scripted, reply, strategy="paraphrase_instruction", multiplier=2)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded", info.log_tail()
    assert info.result["added"] == 2 and info.result["failed_requests"] == 1
    assert info.result["dropped"]["near_duplicate"] == 1 and info.result["dropped"]["language"] == 1
    new = ws.resolve(info.result["ref"])
    assert new.number == 2 and new.params["job_id"] == job_id and new.op == "augment"
    rows = ws.read(new).to_pylist()
    assert len(rows) == 5 and rows[0]["_augmented_from"] is None
    added = {r["instruction"]: r for r in rows[3:]}
    assert set(added) == {"皇上近来身子可还安好？", "Which city is France's capital?"}
    assert added["皇上近来身子可还安好？"]["_augmented_from"] == 0
    assert added["皇上近来身子可还安好？"]["output"] == ROWS["output"][0]
    assert {r["_aug_strategy"] for r in rows[3:]} == {"paraphrase_instruction"}
    assert ws.read(version).num_rows == 3  # the source version is untouched
    prompts = [r["json"]["messages"][0]["content"] for r in scripted.requests]
    assert any("请把下面这条指令改写成 2 种" in p for p in prompts)  # Chinese rows get the Chinese template
    assert any("France" in p and "请把" not in p for p in prompts)
    assert len(ws.versions(version.dataset_id)) == 2


def test_style_transfer_calls_once_per_new_row_and_exports_without_lineage(ws, scripted, tmp_path):
    def reply(request):
        prompt = request["messages"][0]["content"]
        return answer("回皇上的话，巴黎乃法兰西之都。" if "Paris" in prompt else "回皇上的话，" + prompt[-30:-20])

    version, job_id = setup(ws, scripted, reply, strategy="style_transfer", multiplier=2, style="甄嬛传宫廷腔调",
                            same_language=False, near_duplicate=0.9)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded", info.log_tail()
    assert info.result["requests"] == 6
    from workbench.data.operations import export_version

    path = export_version(ws, ws.resolve(info.result["ref"]), "alpaca_json", out=tmp_path / "out.json")
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert all(not any(k.startswith("_") for k in row) for row in exported)


def test_multi_turn_answers_become_history():
    source = {"_id": 3, "instruction": "你好", "output": "你好呀", "history": None}
    text = json.dumps({"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好呀"},
                                    {"role": "user", "content": "今天做什么？"}, {"role": "assistant", "content": "赏花。"}]},
                      ensure_ascii=False)
    [row] = parse_result("multi_turn", text, source, 1)
    assert json.loads(row["history"]) == [["你好", "你好呀"]]
    assert (row["instruction"], row["output"]) == ("今天做什么？", "赏花。")
    with pytest.raises(LLMError):
        parse_result("multi_turn", '{"messages": [{"role": "user", "content": "hi"}]}', source, 1)


def test_bad_configs_are_refused_in_both_languages():
    with pytest.raises(ValueError) as caught:
        AugmentConfig("style_transfer", "x")
    assert "目标风格" in str(caught.value)
    with pytest.raises(ValueError):
        AugmentConfig("paraphrase_output", "x", multiplier=11)


def test_the_augment_verb_waits_and_prints_the_new_version(tmp_path, scripted):
    import os
    import subprocess
    import sys

    from tests.test_cli import ROOT
    from workbench.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    scripted.replies = [answer('{"paraphrases": ["What city is the capital of France?"]}')]
    save_endpoint(ws, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    ws.create_dataset("geo", pa.table({"instruction": ["What is the capital of France?"], "output": ["Paris."]}))
    command = [sys.executable, "-m", "workbench", "--workspace", str(ws.root), "augment", "geo",
               "--strategy", "paraphrase_instruction", "--endpoint", "scripted", "-x", "1", "--wait"]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=os.environ)
    assert run.returncode == 0, run.stderr
    assert "Saved geo@2: 1 new rows (1 generated; not kept: –)." in run.stdout, run.stdout
    scripted.replies = [answer("Sure! Here is another way to ask it.")]  # prose, not the asked-for JSON
    run = subprocess.run(command[:5] + ["--lang", "zh"] + command[5:], capture_output=True, text=True, cwd=ROOT,
                         env=os.environ)
    assert run.returncode == 1, run.stderr
    said, hint = run.stdout.splitlines()
    assert said.endswith("没有保留任何结果：2 条回答不是要求的 JSON 格式。"), said  # both rows of geo@2 asked
    job_id = said.split()[1].rstrip(":")
    assert "JSON 格式作答" in hint and str(ws.root / "jobs" / job_id / "results.jsonl") in hint, hint
    assert ws.version("geo").number == 2  # nothing written


def test_losses_name_failed_calls_unparsable_answers_then_each_control_in_order():
    from workbench.augment.jobs import losses

    result = {"failed_requests": 1, "unparsable": 3, "generated": 9, "added": 4,
              "dropped": {"length": 0, "language": 2, "near_duplicate": 3, "similarity": 0}}
    assert list(losses(result).items()) == [("failed_requests", 1), ("unparsable", 3), ("language", 2),
                                            ("near_duplicate", 3)]
    assert losses({"dropped": {"length": 0}}) == {}
