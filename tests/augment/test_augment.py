"""Augmentation as a real background job against a real OpenAI-compatible server on 127.0.0.1."""
import json

import pyarrow as pa
import pytest

from tests.llm.conftest import answer, scripted, tiny_model  # noqa: F401
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


def test_a_version_saved_while_the_job_runs_is_said_in_the_terms_of_the_page_or_the_cli(ws, scripted):
    """The job cannot save after a version that is no longer the newest: it says so (not "failed"), and the advice
    names the command to run on the command line and what to pick on the page, neither says "reload"."""
    from workbench.augment.jobs import outcome

    def reply(request):
        if ws.dataset("huan").head == 1:  # someone saves huan@2 while the job asks the model
            ws.restore("huan", 1, 1)
        return answer(json.dumps({"paraphrases": ["皇上近来身子可还安好？"]}, ensure_ascii=False))

    version, job_id = setup(ws, scripted, reply, strategy="paraphrase_instruction", multiplier=1, max_rows=1)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded" and info.result["ref"] is None, info.log_tail()
    assert info.result["stale"] == {"dataset": "huan", "parent": 1, "head": 2} and info.result["added"] == 1
    assert [v.op for v in ws.versions("huan")] == ["import", "restore"]  # nothing written after huan@2
    said, command_line = outcome(info.result, "en", answers="results.jsonl")
    assert said == "Nothing was saved: huan@2 was saved while the job ran."
    assert "Run `augment` on huan@2, or first `python -m workbench restore huan@1`" in command_line
    said, on_page = outcome(info.result, "zh")
    assert "huan@2" in said and "请在上方“版本”中选择 huan@2 后重新开始" in on_page
    assert "reload" not in command_line and "Pick" not in command_line
    assert "刷新" not in on_page and "python -m" not in on_page


def test_losses_name_failed_calls_unparsable_answers_then_each_control_in_order():
    from workbench.augment.jobs import losses

    result = {"failed_requests": 1, "unparsable": 3, "generated": 9, "added": 4,
              "dropped": {"length": 0, "language": 2, "near_duplicate": 3, "similarity": 0}}
    assert list(losses(result).items()) == [("failed_requests", 1), ("unparsable", 3), ("language", 2),
                                            ("near_duplicate", 3)]
    assert losses({"dropped": {"length": 0}}) == {}


def test_every_request_is_counted_in_exactly_one_bucket(ws, scripted):
    """A JSON answer with no usable item (an empty list) is unparsable, not lost: failed + unparsable + usable =
    requests, and every generated row is either dropped by one control or added."""
    def reply(request):
        prompt = request["messages"][0]["content"]
        if "皇上今日" in prompt:
            return answer('{"paraphrases": []}')  # JSON, but nothing in it
        if "France" in prompt:
            return answer('{"paraphrases": ["Which city is the capital of France?", "Name France\'s capital."]}')
        return (500, {"error": {"message": "down"}}, {}, 0)

    _, job_id = setup(ws, scripted, reply, strategy="paraphrase_instruction", multiplier=2)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded", info.log_tail()
    result = info.result
    assert (result["failed_requests"], result["unparsable"], result["usable_requests"]) == (1, 1, 1)
    assert result["failed_requests"] + result["unparsable"] + result["usable_requests"] == result["requests"] == 3
    assert result["generated"] == 2 == sum(result["dropped"].values()) + result["added"]


@pytest.mark.parametrize("text", ['{"paraphrases": []}', '{"questions": ["a"]}', '{"paraphrases": "改写"}',
                                  "```json\n42\n```", '[{"instruction": "a"}]'])
def test_json_without_a_usable_item_is_unparsable(text):
    source = {"_id": 0, "instruction": "皇上今日可好？", "output": "好"}
    for strategy in ("paraphrase_instruction", "self_instruct"):
        with pytest.raises(LLMError) as caught:
            parse_result(strategy, text, source, 2)
        assert caught.value.kind == "bad_response"


def test_the_count_shows_before_the_local_model_loads_and_a_cancel_stops_the_loading(ws, tmp_path, monkeypatch,
                                                                                      capsys):
    """The job's total and "0 / N rows · loading the model" are there while the model loads (a GGUF converts for
    minutes); a cancel meanwhile stops the conversion at its next stage, leaving no model behind."""
    from tests.test_models import write_tiny_gguf
    from workbench.augment.jobs import _open_backend
    from workbench.models import needs_conversion, register_local

    write_tiny_gguf(tmp_path / "tiny.gguf")
    spec = register_local(ws, tmp_path / "tiny.gguf", "tiny")
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    ctx = jobs.JobContext(ws, jobs.start(ws, "augment", {}, "t"))
    ctx._cancel.set()
    with pytest.raises(jobs.JobCancelled):
        _open_backend(ctx, f"local:{spec.id}", 100, 8)
    info = jobs.get(ws, ctx.id)
    assert (info.done, info.total) == (8, 100)
    assert in_both(info.message) == ("8 / 100 rows · loading the model", "已完成 8/100 行 · 正在加载模型")
    assert needs_conversion(ws, spec)  # stopped before the weights were converted
    ctx._cancel.clear()
    backend = _open_backend(ctx, f"local:{spec.id}", 100, 8)
    assert backend.model_id == spec.id and not needs_conversion(ws, spec)
    info = jobs.get(ws, ctx.id)
    assert info.total == 100 and in_both(info.message)[1] == "已完成 8/100 行 · 正在加载模型：完成"
    said = capsys.readouterr().out  # the job's log
    assert "loading the model: saving safetensors / 保存 safetensors (85%)" in said and "model loaded in" in said


def in_both(message):
    from workbench.i18n import in_language

    return in_language(message, "en"), in_language(message, "zh")


def test_a_local_model_job_counts_every_request_and_logs_each_round(tiny_model):
    """With a local model (random weights: prose or nothing, never the JSON): the job succeeds, its requests add up
    to failed + unparsable + usable, and the log has a line per round with its counts."""
    ws, model_id = tiny_model
    version = ws.create_dataset(f"local-{len(ws.datasets())}", pa.table(ROWS))
    job_id = start_augment(ws, version.ref, AugmentConfig("paraphrase_instruction", f"local:{model_id}", multiplier=1,
                                                          max_new_tokens=8, temperature=1.0))
    info = jobs.wait(ws, job_id, timeout=180)
    assert info.state == "succeeded", info.log_tail(40)
    result = info.result
    assert result["failed_requests"] + result["unparsable"] + result["usable_requests"] == result["requests"] == 3
    log = info.log_tail(60)
    assert "loading the model of local:" in log and "3 / 3 rows done; this round" in log


def test_the_page_finds_its_jobs_by_kind_and_names_the_strategy_in_the_users_language(ws):
    from workbench.augment.jobs import job_subject, newest_job_dataset, page_jobs

    version = ws.create_dataset("huan", pa.table({"instruction": ["问"], "output": ["答"]}))
    other = ws.create_dataset("other", pa.table({"instruction": ["q"], "output": ["a"]}))
    assert newest_job_dataset(ws) is None and page_jobs(ws, "huan") == (None, [])
    first = start_augment(ws, version.ref, AugmentConfig(endpoint="missing", strategy="paraphrase_instruction",
                                                         multiplier=3))
    jobs.wait(ws, first, timeout=60)  # fails (no such endpoint): still the newest augment job of the dataset
    jobs.start(ws, "stats", {"ref": other.ref}, other.ref)  # another kind, newer: not the page's
    assert newest_job_dataset(ws) == "huan"
    shown, elsewhere = page_jobs(ws, "huan")
    assert shown.id == first and elsewhere == []
    assert [info.kind for info in jobs.list_jobs(ws, kinds=("augment",))] == ["augment"]
    assert job_subject(shown, "zh") == f"{version.ref} · 改写指令 ×3"
    assert job_subject(shown, "en") == f"{version.ref} · paraphrase the instruction ×3"
    assert shown.subject == f"{version.ref} · paraphrase_instruction ×3"  # the stored title keeps the id
