"""The real `infer` job (a detached process) and the CLI: local, prompt-variant and served-endpoint arms; cancel
mid-way then resume without asking any row twice; `infer config.yaml|list|show --csv|template`."""
import collections
import subprocess
import sys

import pandas as pd
import torch
import yaml

from tests.llm.conftest import answer, scripted  # noqa: F401 - the scripted OpenAI-compatible server fixture
from tests.test_cli import ROOT
from tests.waiting import wait_for
from workbench import jobs
from workbench.infer import OUTPUT_COLUMNS, Arm, InferConfig, get_inference, list_inferences, read_outputs
from workbench.infer import start_inference
from workbench.llm import Endpoint, GenerationParams, LocalBackend, save_endpoint
from workbench.llm.server import serve_in_thread

JOB_TIMEOUT = 240
PERSONA = "You are a careful assistant who answers in one short sentence."


def test_a_job_answers_every_arm_and_row_and_the_inference_is_listed(infer_ws):
    ws, ids = infer_ws
    served = LocalBackend(ws, Endpoint("local:b", "local", model=ids["b"]), dtype=torch.float32)  # batch-invariant
    server, base_url = serve_in_thread(served)
    try:
        save_endpoint(ws, Endpoint("served-b", base_url=base_url, model=ids["b"], max_retries=0, timeout_s=60))
        config = InferConfig(dataset="qa", max_new_tokens=6, batch_size=4, concurrency=2, arms=[
            Arm(label="a", model=ids["a"]), Arm(label="a persona", model=ids["a"], system_prompt=PERSONA),
            Arm(label="b over http", model="served-b")])
        inference_id, job_id = start_inference(ws, config)
        info = jobs.wait(ws, job_id, timeout=JOB_TIMEOUT)
        assert info.state == "succeeded", info.log_tail(40)
        assert info.total == 18 and info.fraction == 1.0 and info.result["ok"] == 18
        table = read_outputs(ws, inference_id)
        assert list(table.columns[:len(OUTPUT_COLUMNS)]) == OUTPUT_COLUMNS and len(table) == 18
        assert (table.status == "ok").all() and table.groupby("arm").size().to_dict() == {
            "a": 6, "a persona": 6, "b over http": 6}
        # the endpoint arm got the same conversation a local run of model b answers
        rows = table[table.arm == "b over http"]
        direct = served.complete_many([[{"role": "system", "content": "be brief"}, {"role": "user", "content": p}]
                                       if s == "be brief" else [{"role": "user", "content": p}]
                                       for p, s in zip(rows.prompt, rows.system_prompt.fillna(""))],
                                      GenerationParams(max_new_tokens=6, seed=42))
        assert list(rows.output) == [d.text for d in direct]
        listed = list_inferences(ws)
        assert [i.id for i in listed] == [inference_id] and listed[0].state == "succeeded"
        assert listed[0].summary["arms"]["a persona"]["ok"] == 6 and listed[0].dataset_ref == "qa@1"
        assert get_inference(ws, inference_id).config.version == 1  # the version used is pinned
    finally:
        server.shutdown()


def test_cancel_mid_way_then_resume_never_asks_a_row_twice(infer_ws, scripted):  # noqa: F811
    ws, _ = infer_ws
    scripted.replies = [lambda request: (*answer("re: " + request["messages"][-1]["content"])[:3], 0.6)]
    save_endpoint(ws, Endpoint("api", base_url=scripted.base_url, model="m", max_retries=0))
    config = InferConfig(dataset="qa", split="all", concurrency=1, arms=[Arm(label="api", model="api")])
    inference_id, job_id = start_inference(ws, config)
    outputs = get_inference(ws, inference_id).folder / "outputs.jsonl"
    wait_for(lambda: outputs.exists() and len(outputs.read_bytes().splitlines()) >= 2, timeout=JOB_TIMEOUT)
    jobs.cancel(ws, job_id)
    assert jobs.wait(ws, job_id, timeout=JOB_TIMEOUT).state == "cancelled"
    first = len(outputs.read_bytes().splitlines())
    assert 2 <= first < 8 and get_inference(ws, inference_id).state == "cancelled"
    jobs.resume(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=JOB_TIMEOUT)
    assert info.state == "succeeded", info.log_tail(40)
    assert info.result["generated_this_attempt"] == 8 - first and info.result["ok"] == 8
    asked = collections.Counter(r["json"]["messages"][-1]["content"] for r in scripted.requests)
    assert len(asked) == 8 and set(asked.values()) == {1}  # every row asked exactly once over both attempts
    assert len(outputs.read_bytes().splitlines()) == 8
    table = read_outputs(ws, inference_id)
    assert list(table.output) == [f"re: {p}" for p in table.prompt]


def cli(workspace, *args):
    return subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(workspace), "infer", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=JOB_TIMEOUT)


def test_the_infer_verbs_run_list_show_and_refuse_bad_configs(infer_ws, tmp_path):
    ws, ids = infer_ws
    template = cli(ws.root, "template", "--dataset", "qa", "--model", ids["a"])
    assert template.returncode == 0 and template.stdout.startswith("# Run with: python -m workbench infer")
    config = yaml.safe_load(template.stdout)
    config.update(max_new_tokens=4, arms=[{"label": "a", "model": ids["a"]},
                                          {"label": "a persona", "model": ids["a"], "system_prompt": PERSONA}])
    path = tmp_path / "config.yaml"

    def write(**changes):
        path.write_text(yaml.safe_dump({**config, **changes}, allow_unicode=True), encoding="utf-8")
        return str(path)

    duplicate = cli(ws.root, write(arms=[{"label": "x", "model": ids["a"]}, {"label": "x", "model": ids["b"]}]))
    assert duplicate.returncode == 2 and f"{path}:1: arms[1].label" in duplicate.stderr and "重名" in duplicate.stderr
    unknown = cli(ws.root, write(arms=[{"label": "x", "model": "no-such-model"}]))
    assert unknown.returncode == 2 and f"{path}: arms[0].model" in unknown.stderr and "未知模型" in unknown.stderr
    empty = cli(ws.root, write(split="validation"))
    assert empty.returncode == 2 and "has no split 'validation'; it has test, train" in empty.stderr and "现有划分" in empty.stderr
    assert all("Traceback" not in r.stderr for r in (duplicate, unknown, empty))
    assert list_inferences(ws) == []

    ran = cli(ws.root, write())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "succeeded" in ran.stdout and '"ok": 12' in ran.stdout
    inference_id = ran.stdout.split()[1].rstrip(",")
    listed = cli(ws.root, "list")
    assert inference_id in listed.stdout and "[a, a persona]" in listed.stdout and "ok=12" in listed.stdout
    out = tmp_path / "outputs.csv"
    shown = cli(ws.root, "show", inference_id, "--csv", str(out))
    assert shown.returncode == 0 and '"ok": 12' in shown.stdout
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert len(table) == 12 and list(table.columns[:len(OUTPUT_COLUMNS)]) == OUTPUT_COLUMNS
    assert (table.status == "ok").all() and set(table.arm) == {"a", "a persona"}
    missing = cli(ws.root, "show", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr
    detached = cli(ws.root, write(max_rows=1), "--detach")
    assert detached.returncode == 0 and detached.stdout.startswith("inference ")
    assert jobs.wait(ws, detached.stdout.split()[-1], timeout=JOB_TIMEOUT).state == "succeeded"
    assert len(list_inferences(ws)) == 2
