"""The engines in this process: length-sorted local batches answer exactly as one-at-a-time generation (in request
order); one inference over local, prompt-variant, empty-answering, unloadable and failing endpoint arms; cancel and
resume that never generates a row twice."""
import collections

import pytest
import torch

from tests.infer.conftest import QUESTIONS, FakeContext
from tests.llm.conftest import answer, scripted  # noqa: F401 - the scripted OpenAI-compatible server fixture
from workbench import jobs
from workbench.infer import Arm, InferConfig, read_outputs
from workbench.infer.jobs import run_inference
from workbench.infer.prompts import inference_rows, select_rows
from workbench.infer.results import inference_summary
from workbench.infer.store import create_inference, get_inference
from workbench.llm import Endpoint, GenerationParams, LLMError, LocalBackend, save_endpoint

GREEDY = GenerationParams(max_new_tokens=8)
PERSONA = "You are a careful assistant who answers in one short sentence, always in the same style."


def local(ws, model_id, batch_size):
    """In fp32, where an answer does not depend on the batch it is generated in (bf16 rounding can tip a greedy
    choice between near-equal tokens of this random model)."""
    return LocalBackend(ws, Endpoint("local:tiny", "local", model=model_id), batch_size=batch_size,
                        dtype=torch.float32)


def test_local_models_load_in_bf16_where_the_cpu_has_bf16_instructions(infer_ws, monkeypatch):
    ws, ids = infer_ws
    requests = [[{"role": "user", "content": question}] for question in QUESTIONS]
    for flag, dtype in (("1", torch.bfloat16), ("0", torch.float32)):
        monkeypatch.setenv("WORKBENCH_CPU_BF16", flag)
        backend = LocalBackend(ws, Endpoint("local:tiny", "local", model=ids["a"]), batch_size=4)
        assert backend.dtype == dtype and {p.dtype for p in backend.model.parameters()} == {dtype}
        results = backend.complete_many(requests, GREEDY)
        assert all(not isinstance(r, LLMError) and r.completion_tokens > 0 for r in results)
        assert [r.prompt_tokens for r in results] == [len(backend.prompt_ids(request)) for request in requests]


def new_inference(ws, config):
    version, table = select_rows(ws, config)
    return create_inference(ws, config, version, inference_rows(table))


def test_length_sorted_batches_answer_like_one_at_a_time_and_keep_the_request_order(infer_ws):
    ws, ids = infer_ws
    backend = local(ws, ids["a"], batch_size=3)
    batches = []
    generate = backend._generate
    backend._generate = lambda batch, params, *rest: batches.append([len(ids) for ids in batch]) or generate(batch, params, *rest)
    requests = [[{"role": "user", "content": question}] for question in QUESTIONS]
    batched = backend.complete_many(requests, GREEDY)
    single = [backend.complete_many([request], GREEDY)[0] for request in requests]
    assert [r.text for r in batched] == [r.text for r in single] and all(r.text.strip() for r in batched)
    assert [r.completion_tokens for r in batched] == [r.completion_tokens for r in single]
    assert [r.prompt_tokens for r in batched] == [len(backend.prompt_ids(request)) for request in requests]
    sorted_batches = batches[:3]
    assert [len(b) for b in sorted_batches] == [3, 3, 2]
    assert all(max(a) <= min(b) for a, b in zip(sorted_batches, sorted_batches[1:]))  # shortest prompts first
    assert len({r.text for r in batched}) > 1  # the answers really depend on the prompt


def test_a_row_that_ends_early_counts_only_its_own_tokens(infer_ws):
    ws, ids = infer_ws
    backend = local(ws, ids["a"], batch_size=4)
    eos, pad = backend.tokenizer.eos_token_id, backend.tokenizer.pad_token_id
    word = backend.tokenizer("the", add_special_tokens=False)["input_ids"]
    finished = backend._completion(word + [eos] + [pad] * 5, 30, GREEDY, 0.5)
    assert finished.completion_tokens == len(word) and finished.finish_reason == "stop" and finished.text == "the"
    cut = backend._completion(word * 8, 30, GenerationParams(max_new_tokens=8 * len(word)), 0.5)
    assert cut.finish_reason == "length" and cut.completion_tokens == 8 * len(word)
    blank = backend._completion([eos, pad], 30, GREEDY, 0.5)
    assert isinstance(blank, LLMError) and blank.kind == "empty"


def test_every_arm_answers_or_fails_with_its_reason_and_the_others_go_on(infer_ws, scripted):  # noqa: F811
    ws, ids = infer_ws

    def reply(request):
        question = request["messages"][-1]["content"]
        if request["model"] == "slow":
            return (*answer("too late")[:3], 2.0)
        if question.startswith("a"):
            return (500, {"error": {"message": "boom"}}, {}, 0)
        return answer(f"re: {question}")

    scripted.replies = [reply]
    for name, timeout in (("flaky", 5.0), ("slow", 0.3)):
        save_endpoint(ws, Endpoint(name, base_url=scripted.base_url, model=name, max_retries=1, timeout_s=timeout))
    config = InferConfig(dataset="qa", batch_size=4, concurrency=3, max_new_tokens=8, arms=[
        Arm(label="a", model=ids["a"]), Arm(label="a + persona", model=ids["a"], system_prompt=PERSONA),
        Arm(label="silent", model=ids["silent"]), Arm(label="broken", model=ids["broken"]),
        Arm(label="flaky api", model="flaky"), Arm(label="slow api", model="slow")])
    info = new_inference(ws, config)
    ctx = FakeContext(ws)
    result = run_inference(ctx, info)
    table = read_outputs(ws, info.id)
    assert len(table) == 6 * 6 and result["generated_this_attempt"] == 6 * 5  # the broken model generated nothing
    by_arm = {arm: group.reset_index(drop=True) for arm, group in table.groupby("arm", sort=False)}
    assert list(by_arm) == ["a", "a + persona", "silent", "broken", "flaky api", "slow api"]

    plain, persona = by_arm["a"], by_arm["a + persona"]
    assert (plain.status == "ok").all() and (persona.status == "ok").all()
    assert plain.output.str.strip().str.len().gt(0).all() and plain.error.isna().all()
    assert (persona.system_prompt == PERSONA).all()
    assert plain.system_prompt.fillna("").tolist() == ["", "be brief", "", "", "be brief", ""]
    assert (persona.prompt_tokens > plain.prompt_tokens).all()  # the arm's system prompt really was sent
    assert list(plain.reference) == [f"answer {i}" for i in range(6)] and plain.prompt[0] == "the\nin"
    assert list(plain._chunk) == [f"chunk-{i}" for i in range(6)] and "_source" in table.columns
    assert sum("loading" in m and ids["a"] in m for m in ctx.messages) == 1  # one load for both arms of model a

    silent = by_arm["silent"]
    assert (silent.status == "failed").all() and silent.output.isna().all()
    assert silent.error.str.contains("empty answer").all() and silent.error.str.contains("空回答").all()
    broken = by_arm["broken"]
    assert (broken.status == "failed").all() and broken.error.str.contains("could not be loaded").all()
    assert broken.error.str.contains("无法加载").all()
    flaky = by_arm["flaky api"]
    assert list(flaky.status) == ["ok", "ok", "ok", "failed", "ok", "ok"]  # row 3 asks "a" (+ input): HTTP 500 twice
    assert "HTTP 500" in flaky.error[3] and flaky.output[0] == "re: the\nin" and flaky.completion_tokens[0] == 2
    slow = by_arm["slow api"]
    assert (slow.status == "failed").all() and slow.error.str.contains("did not answer in time").all()

    summary = inference_summary(ws, info.id)
    assert summary["ok"] == 6 + 6 + 5 and summary["failed"] == 6 + 6 + 1 + 6 and summary["pending"] == 0
    assert summary["arms"]["silent"]["errors"] == ["empty"] and summary["arms"]["slow api"]["errors"] == ["timeout"]
    assert summary["arms"]["a"]["completion_tokens"] == int(plain.completion_tokens.sum()) > 0


def test_cancel_then_resume_generates_every_row_exactly_once(infer_ws, monkeypatch):
    ws, ids = infer_ws
    generated = collections.Counter()
    original = LocalBackend._generate

    def counting(self, batch, params, *rest):
        generated.update(tuple(ids) for ids in batch)
        return original(self, batch, params, *rest)

    monkeypatch.setattr(LocalBackend, "_generate", counting)
    config = InferConfig(dataset="qa", batch_size=2, max_new_tokens=6, arms=[
        Arm(label="a", model=ids["a"]), Arm(label="b", model=ids["b"])])
    info = new_inference(ws, config)
    with pytest.raises(jobs.JobCancelled):
        run_inference(FakeContext(ws, cancel_after=3), info)  # stops after the batch holding answer 3
    first = info.outputs.done()
    assert len(first) == 4 and sum(generated.values()) == 4
    assert read_outputs(ws, info.id).status.value_counts().to_dict() == {"pending": 8, "ok": 4}
    result = run_inference(FakeContext(ws), get_inference(ws, info.id))
    assert result["generated_this_attempt"] == 8 and result["ok"] == 12
    assert sum(generated.values()) == 12  # 6 rows x 2 arms, nothing twice
    lines = (info.folder / "outputs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12 and set(info.outputs.done()) >= set(first)
    again = run_inference(FakeContext(ws), get_inference(ws, info.id))  # a finished inference generates nothing
    assert again["generated_this_attempt"] == 0 and sum(generated.values()) == 12
