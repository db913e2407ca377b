"""Background jobs: real detached processes; cancel, kill -9, restart and resume from a checkpoint."""
import json
import os
import signal
import time

import numpy as np
import pyarrow as pa
import pytest

from tests.waiting import wait_for
from workbench import jobs
from workbench.workspace import Workspace


def big_version(ws, rows=300_000):
    words = np.array(["甄嬛", "皇上", "hello", "world", "娘娘万福"])
    text = words[np.arange(rows) % 5]
    table = pa.table({"instruction": pa.array(text), "output": pa.array(np.char.add(text, "。"))})
    return ws.create_dataset("big", table)


def test_stats_job_runs_in_the_background_and_reports(ws):
    version = ws.create_dataset("small", pa.table({"instruction": ["a", " "], "output": ["b", "c"]}))
    job_id = jobs.start(ws, "stats", {"ref": version.ref}, "stats small")
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded", info.log_tail()
    assert info.result["rows"] == 2 and info.result["problem_counts"] == {"empty_value": 1}
    assert info.result["stats"]["fields"]["instruction"]["chars"]["count"] == 2
    assert (version.path.parent / "stats-v00001.json").exists()
    from workbench.data.operations import full_stats
    from workbench.data.stats import summary_rows

    saved = full_stats(ws, version)
    assert saved["rows"] == 2
    rows = summary_rows(saved["stats"])
    assert {(r["field"], r["unit"]) for r in rows} == {("instruction", "chars"), ("output", "chars")}
    assert next(r for r in rows if r["field"] == "output")["max"] == 1
    assert "finished" in info.log_tail()
    assert info.fraction == 1.0


def test_cancel_then_resume_continues_from_the_checkpoint(ws):
    version = big_version(ws)
    job_id = jobs.start(ws, "stats", {"ref": version.ref, "step_rows": 2_000}, "stats big")
    wait_for(lambda: jobs.get(ws, job_id).done > 0)
    assert jobs.cancel(ws, job_id)
    info = wait_for(lambda: (i := jobs.get(ws, job_id)).state in jobs.FINISHED and i)
    assert info.state == "cancelled" and 0 < info.done < version.rows
    assert info.resumable
    stopped_at = json.loads((info.folder / "checkpoint.json").read_text())["next_row"]
    jobs.resume(ws, job_id)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded" and info.attempts == 2
    assert f"resuming from row {stopped_at}" in info.log_tail(50)
    assert info.result["stats"]["fields"]["instruction"]["chars"]["count"] == version.rows  # nothing counted twice


def test_killed_job_is_interrupted_then_resumes_after_an_app_restart(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    version = big_version(ws)
    job_id = jobs.start(ws, "stats", {"ref": version.ref, "step_rows": 2_000}, "stats big")
    wait_for(lambda: jobs.get(ws, job_id).done > 0)
    os.kill(jobs.get(ws, job_id).pid, signal.SIGKILL)
    time.sleep(0.3)
    restarted = Workspace(root)  # what the app does when it starts again
    info = jobs.get(restarted, job_id)
    assert info.state == "interrupted" and info.resumable
    jobs.resume(restarted, job_id)
    info = jobs.wait(restarted, job_id)
    assert info.state == "succeeded"
    assert "resuming from row" in info.log_tail(50)
    assert info.result["stats"]["fields"]["output"]["chars"]["count"] == version.rows


def test_import_check_job_stages_a_file_or_reports_why_not(ws, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"instruction": "问", "output": "答"}\n', encoding="utf-8")
    info = jobs.wait(ws, jobs.start(ws, "import_check", {"path": str(good), "display_name": "good.jsonl"}))
    assert info.state == "succeeded" and info.result["ok"] and info.result["rows"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text('[{"instruction": "a",}]', encoding="utf-8")
    info = jobs.wait(ws, jobs.start(ws, "import_check", {"path": str(bad), "display_name": "bad.json"}))
    assert info.state == "succeeded" and not info.result["ok"]
    assert info.result["problems"][0]["line"] == 1
    assert ws.datasets() == []  # nothing was imported


def test_unknown_job_kind_is_refused(ws):
    with pytest.raises(ValueError):
        jobs.start(ws, "no-such-kind", {})


def test_each_kind_is_registered_by_the_module_the_catalog_names():
    """A job process imports only its kind's module: the map must name the module that registers each kind."""
    import subprocess
    import sys

    probe = ("import json; from workbench import jobs; jobs._load_kinds(); "
             "print(json.dumps({k: v.run.__module__ for k, v in jobs.KINDS.items()}))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    registered = json.loads(output)
    assert registered == jobs.KIND_MODULES
    # and a single kind loads without the others (a fresh process: nothing imported yet)
    probe = ("import sys; from workbench import jobs; jobs._load_kinds('stats'); "
             "print(sorted(jobs.KINDS), 'workbench.evaluate.jobs' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "['import_check', 'stats'] False"


@pytest.mark.parametrize(("kind", "title", "subject"), [
    ("train", "huanhuan@2 · smollm2-135m-instruct", "huanhuan@2 · smollm2-135m-instruct"),
    ("train", "Train huanhuan@2 · smollm2", "huanhuan@2 · smollm2"),          # started by an older version
    ("infer", "Inference before/after", "before/after"),
    ("extract_llm", "extract (LLM) faq", "faq"),
    ("augment", "augment huanhuan@2 (paraphrase_instruction ×2)", "huanhuan@2 (paraphrase_instruction ×2)"),
    ("stats", "stats", ""),                                                    # no title given: the kind alone
    ("serve", "Train me", "Train me"),                                         # another kind's word stays
])
def test_a_jobs_subject_is_its_title_without_the_kind(kind, title, subject):
    info = jobs.JobInfo("id", kind, title, {}, "queued", None, 0.0, None, None, None, 0, None, "", None, None, 0,
                        None)
    assert info.subject == subject


def test_every_legacy_title_prefix_belongs_to_a_job_kind():
    assert set(jobs.LEGACY_TITLE_PREFIXES) <= set(jobs.KIND_MODULES)



def test_the_eta_counts_from_the_running_phase_of_this_attempt_only(ws, monkeypatch):
    """A phase written by an earlier attempt does not count; without a phase this attempt's start and done do."""
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    job_id = jobs.start(ws, "stats", {}, title="t")
    clock = {"now": 500.0}
    monkeypatch.setattr(jobs.time, "time", lambda: clock["now"])
    jobs.JobContext(ws, job_id).phase(3)  # the earlier attempt's phase, at 500 s
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET state='running', started_at=1000, done=30, total=100, params=? WHERE id=?",
                    (json.dumps({"_resumed_from": 10}), job_id))
    clock["now"] = 1020.0
    assert jobs.get(ws, job_id).eta_seconds == pytest.approx(70 / (20 / 20))  # 20 done in 20 s since the resume
    clock["now"] = 1010.0
    jobs.JobContext(ws, job_id).phase(25)
    clock["now"] = 1020.0
    assert jobs.get(ws, job_id).eta_seconds == pytest.approx(70 / (5 / 10))
    assert jobs.remaining_seconds(30, 100, 30, 1010.0, 1020.0) is None  # no pace yet


def test_a_resumed_job_counts_its_running_time_over_its_attempts_and_drops_the_old_message(ws, monkeypatch):
    """"took" adds the attempts up (an earlier attempt's 300 s stay), the old "cancelled" gives way to "resuming",
    and a resume asked for but not started yet does not count the old attempt's start twice."""
    monkeypatch.setattr(jobs, "_spawn", lambda ws, job_id: None)
    job_id = jobs.start(ws, "augment", {}, title="t")
    clock = {"now": 0.0}
    monkeypatch.setattr(jobs.time, "time", lambda: clock["now"])
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET state='cancelled', started_at=100, heartbeat=398, finished_at=400, done=8,"
                    " total=100, message='cancelled / 已取消', cancel_requested=1 WHERE id=?", (job_id,))
    assert jobs.get(ws, job_id).ran_seconds == 300
    clock["now"] = 900.0
    jobs.resume(ws, job_id)
    info = jobs.get(ws, job_id)
    assert info.state == "queued" and info.message == jobs.RESUMING_MESSAGE and not info.cancelling
    assert info.ran_seconds == 300 and info.params["_ran_before"] == 300  # not started yet: the first attempt only
    with ws.connect(write=True) as con:  # the job's process starts (what jobs.run writes)
        con.execute("UPDATE jobs SET state='running', started_at=1000, heartbeat=1000 WHERE id=?", (job_id,))
    clock["now"] = 1030.0
    assert jobs.get(ws, job_id).ran_seconds == 330
    with ws.connect(write=True) as con:  # killed: it ran until its last heartbeat, not until it was found dead
        con.execute("UPDATE jobs SET state='interrupted', heartbeat=1050, finished_at=5000 WHERE id=?", (job_id,))
    assert jobs.get(ws, job_id).ran_seconds == 350
    clock["now"] = 6000.0
    jobs.resume(ws, job_id)
    assert jobs.get(ws, job_id).ran_seconds == 350


def test_a_resumed_job_process_replaces_the_resuming_message_and_counts_two_attempts(ws):
    version = big_version(ws)
    job_id = jobs.start(ws, "stats", {"ref": version.ref, "step_rows": 2_000}, "stats big")
    wait_for(lambda: jobs.get(ws, job_id).done > 0)
    jobs.cancel(ws, job_id)
    first = wait_for(lambda: (i := jobs.get(ws, job_id)).state in jobs.FINISHED and i)
    assert first.state == "cancelled" and first.message == "cancelled / 已取消"
    jobs.resume(ws, job_id)
    running = wait_for(lambda: (i := jobs.get(ws, job_id)).state != "queued" and i)
    assert running.message != jobs.RESUMING_MESSAGE and "cancel" not in running.message
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded" and info.attempts == 2
    assert info.ran_seconds > first.ran_seconds
