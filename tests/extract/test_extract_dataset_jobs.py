"""Saving extracted pairs as a dataset, and the resumable `extract_rules` background job."""
import json

import pytest

from tests.waiting import wait_for
from workbench import jobs
from workbench.extract import Pasted, Rule, extract_to_dataset, save_extraction
from workbench.extract.jobs import extract_rules_job, stage_sources, start_rules_job

FAQ = "问：第{i}个问题是什么？\n答：这是第{i}个答案。\n\nQ: What is question {i}?\nA: Answer number {i}.\n\n"


def faq_text(pairs: int, tag: str = "") -> str:
    return "".join(FAQ.format(i=f"{tag}{i}") for i in range(pairs // 2))


def test_extract_and_save_a_dataset_with_lineage(ws, tmp_path):
    (tmp_path / "a.md").write_text(faq_text(4, "a"), encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(faq_text(6, "b").encode("gbk"))
    version, result, read = extract_to_dataset(ws, [tmp_path / "a.md", tmp_path / "b.txt", tmp_path / "nope.pdf",
                                                    Pasted("没有问答")], Rule(), "常见问题 FAQ")
    assert version.op == "extract" and version.rows == 10 and version.row_schema == "alpaca"
    assert version.params["mode"] == "rules" and version.params["rule"]["preset"] == "qa_colon"
    assert version.params["counts"] == {"documents": 3, "pairs": 10, "by_rule": {"qa_colon": 10}, "problems": 2}
    assert [(s["source"], s["pairs"]) for s in version.params["sources"]] == [("a.md", 4), ("b.txt", 6),
                                                                              ("pasted text", 0)]
    assert {p["code"] for p in version.params["problems"]} == {"file_not_found", "extract_no_pairs"}
    table = ws.read(version).to_pylist()
    assert table[0]["instruction"] == "第a0个问题是什么？" and table[0]["output"] == "这是第a0个答案。"
    assert json.loads(table[9]["_source"])["source"] == "b.txt"
    from workbench.data.export import user_columns

    assert user_columns(ws.read(version)) == ["instruction", "input", "output"]  # lineage stays out of exports


def test_nothing_found_saves_nothing(ws):
    version, result, read = extract_to_dataset(ws, [Pasted("只是普通的文字。")], Rule(), "empty")
    assert version is None and result.problems[0].code == "extract_no_pairs" and ws.datasets() == []
    with pytest.raises(ValueError, match="没有可保存"):
        save_extraction(ws, [], "empty", [], Rule())


class CrashingContext(jobs.JobContext):
    """Runs the job in this process; 'crashes' right after the rows of source `crash_at` were written."""

    def __init__(self, ws, job_id, crash_at=None):
        super().__init__(ws, job_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.crash_at, self.lines = crash_at, []

    def save_checkpoint(self, state):
        if self.crash_at is not None and state["next"] == self.crash_at + 1:
            raise KeyboardInterrupt("killed between writing rows and the checkpoint")
        super().save_checkpoint(state)

    def log(self, message):
        self.lines.append(message)


def test_a_crash_between_rows_and_checkpoint_never_counts_a_source_twice(ws):
    sources = stage_sources(ws, [("s%d.txt" % i, faq_text(10, f"s{i}-").encode()) for i in range(4)])
    params = {"sources": sources, "rule": Rule().model_dump(), "name": "crash"}
    with pytest.raises(KeyboardInterrupt):
        extract_rules_job(CrashingContext(ws, "job-crash", crash_at=2), params)
    rows_file = ws.root / "jobs" / "job-crash" / "pairs.jsonl"
    assert len(rows_file.read_text(encoding="utf-8").splitlines()) == 30  # source 3's rows, not checkpointed
    context = CrashingContext(ws, "job-crash")
    result = extract_rules_job(context, params)
    assert "resuming at source 3 of 4" in context.lines
    assert result["pairs"] == 40 and ws.resolve(result["ref"]).rows == 40
    questions = [row["instruction"] for row in ws.read(ws.resolve(result["ref"])).to_pylist()]
    assert len(set(questions)) == 40
    again = extract_rules_job(CrashingContext(ws, "job-crash"), params)  # e.g. a resume after saving
    assert again["ref"] == result["ref"] and len(ws.datasets()) == 1


def test_background_job_reports_progress_cancels_and_resumes(ws, tmp_path):
    paths = []
    for i in range(40):
        path = tmp_path / f"doc{i:02d}.md"
        path.write_text(faq_text(1000, f"d{i}-"), encoding="utf-8")  # about 40 KB, 1,000 pairs each
        paths.append(path)
    job_id = start_rules_job(ws, paths + ["http://127.0.0.1:9/internal"], Rule(), "big faq")
    wait_for(lambda: jobs.get(ws, job_id).done >= 2)
    assert jobs.cancel(ws, job_id)
    info = wait_for(lambda: (i := jobs.get(ws, job_id)).state in jobs.FINISHED and i)
    assert info.state == "cancelled" and info.resumable, info.log_tail()
    stopped = json.loads((info.folder / "checkpoint.json").read_text())["next"]
    assert 2 <= stopped < 41
    jobs.resume(ws, job_id)
    info = jobs.wait(ws, job_id)
    assert info.state == "succeeded" and info.attempts == 2, info.log_tail()
    assert f"resuming at source {stopped + 1} of 41" in info.log_tail(100)
    version = ws.resolve(info.result["ref"])
    assert version.rows == 40_000 and info.result["pairs"] == 40_000
    assert [d["pairs"] for d in info.result["documents"]] == [1000] * 40
    assert [p["code"] for p in info.result["problems"]] == ["extract_url_blocked"]  # the strict policy held
    sources = ws.read(version, ["_source"]).column("_source").to_pylist()
    assert len(set(sources)) == 40 and all(sources.count(s) == 1000 for s in set(sources))
