"""LLM calls with N requests in flight: throughput vs N × the single-request rate (target ratio >= 0.8).

    .venv/bin/python bench/llm_concurrency.py [--n 1,4,8,16] [--latency 0.2] [--waves 8] [--path augment,extract]

A real HTTP server on 127.0.0.1 — our own OpenAI-compatible server (`workbench.llm.server.make_server`) in
front of a stand-in model that answers every request after a fixed `--latency` — and the real production
path on the client side: the `augment` job (paraphrase_output, one call per row) and the `extract_llm` job
(questions per chunk, then one answer per question), each started as a background process through
`jobs.start` with an endpoint of `max_concurrency=N`, i.e. `llm.batch.run_batch` ->
`OpenAIBackend.complete_many` -> the `openai` client. `--path backend` calls `complete_many` directly.

Each run sends `waves × N` requests; the time counted is the LLM phase as the server saw it (first request
in -> last answer out), so process start-up and the dataset write are not in it. The single-request rate
is a run with concurrency 1; ratio = throughput at N / (N × single rate). Target from issue 4: >= 0.8.
The server's answers cost no CPU, so the result is latency-bound and holds on a busy 2-core machine up to
N ≈ 16 at 0.2 s. Past that the client's CPU is the limit, not the concurrency: the `openai` package costs
~7 ms of CPU per request here (~150 req/s on 2 cores), so try N = 32/64 with `--latency 1 --waves 4`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 0.8


class SlowModel:
    """A stand-in backend for the server: sleeps `latency` seconds, answers, and records when it worked."""

    def __init__(self, latency: float):
        from workbench.llm import Endpoint

        self.endpoint = Endpoint("slow", base_url="http://127.0.0.1/v1", model="slow")
        self.latency, self.lock = latency, threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.first = self.last = None
        self.count = self.in_flight = self.max_in_flight = 0

    def complete(self, messages, params):
        from workbench.llm import Completion

        started = time.perf_counter()
        with self.lock:
            self.first = started if self.first is None else self.first
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.latency)
        prompt = messages[-1]["content"]
        if prompt.startswith("You write questions"):  # extraction, step 1: three questions about the chunk
            tag = prompt.rsplit("chunk ", 1)[-1].split()[0]
            text = json.dumps([f"What does part {tag} say about item {i}?" for i in range(3)])
        else:
            text = f"An answer of a few words to: {prompt[-40:]}"
        with self.lock:
            self.in_flight -= 1
            self.count += 1
            self.last = time.perf_counter()
        return Completion(text, "slow", "stop", 10, 8)


def run_augment(ws, endpoint: str, requests: int) -> None:
    import pyarrow as pa

    from workbench import jobs
    from workbench.augment import AugmentConfig, start_augment

    table = pa.table({"instruction": [f"Question number {i}?" for i in range(requests)],
                      "output": [f"The answer to question number {i}." for i in range(requests)]})
    version = ws.create_dataset(f"rows-{endpoint}", table)
    config = AugmentConfig("paraphrase_output", endpoint, multiplier=1, language="en", same_language=False,
                           near_duplicate=None, max_new_tokens=32)
    _wait(ws, jobs, start_augment(ws, version.ref, config))


def run_extract(ws, endpoint: str, requests: int) -> None:
    from workbench import jobs
    from workbench.extract import Pasted
    from workbench.extract.llm_mode import LLMExtractConfig, start_llm_job

    chunks = max(1, requests // 4)  # one question call per chunk, then three answer calls
    documents = [Pasted(f"This is chunk {i} of the manual. It explains one setting in a few plain words.",
                        f"part-{i}.txt") for i in range(chunks)]
    config = LLMExtractConfig(endpoint, questions_per_chunk=3, dedupe=False, max_new_tokens=32)
    _wait(ws, jobs, start_llm_job(ws, documents, config, f"manual-{endpoint}"))


def run_backend(ws, endpoint: str, requests: int) -> None:
    from workbench.llm import GenerationParams, LLMError, backend_for

    backend = backend_for(ws, endpoint)
    try:
        results = backend.complete_many([[{"role": "user", "content": f"request {i}"}] for i in range(requests)],
                                        GenerationParams(max_new_tokens=32))
    finally:
        backend.close()
    failed = [r for r in results if isinstance(r, LLMError)]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed: {failed[0]}")


def _wait(ws, jobs, job_id: str) -> None:
    info = jobs.wait(ws, job_id, timeout=300)
    if info.state != "succeeded":
        raise SystemExit(f"job {job_id} {info.state}:\n{info.log_tail()}")


PATHS = {"augment": run_augment, "extract": run_extract, "backend": run_backend}


def measure(ws, model: SlowModel, base_url: str, path: str, concurrency: int, requests: int) -> dict:
    from workbench.llm import Endpoint, save_endpoint

    name = f"slow-{path}-{concurrency}-{requests}"
    save_endpoint(ws, Endpoint(name, base_url=base_url, model="slow", max_concurrency=concurrency, max_retries=0))
    model.reset()
    PATHS[path](ws, name, requests)
    seconds = model.last - model.first
    return {"requests": model.count, "seconds": seconds, "rate": model.count / seconds,
            "max_in_flight": model.max_in_flight}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", default="1,4,8,16", help="requests in flight to try, comma-separated")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per answer")
    parser.add_argument("--waves", type=int, default=8, help="each run sends waves × N requests")
    parser.add_argument("--path", default="augment,extract", help="augment, extract and/or backend")
    args = parser.parse_args()
    from workbench.llm.server import make_server
    from workbench.workspace import Workspace

    os.chdir(ROOT)  # the job processes run `python -m workbench`
    model = SlowModel(args.latency)
    server = make_server(model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    sizes = [int(n) for n in args.n.split(",")]
    verdicts = []
    print(f"server: workbench.llm.server on 127.0.0.1, {args.latency:g} s per answer "
          f"(ideal single rate {1 / args.latency:.2f} req/s); {args.waves} waves of N requests per run")
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder) / "workspace")
        for path in args.path.split(","):
            single = measure(ws, model, base_url, path, 1, args.waves)
            print(f"\n{path}: single-request rate {single['rate']:.2f} req/s "
                  f"({single['requests']} requests in {single['seconds']:.2f} s, concurrency 1)")
            print(f"{'N':>4}{'requests':>10}{'seconds':>9}{'req/s':>9}{'max in flight':>15}{'ratio':>8}  vs {TARGET}")
            for n in sizes:
                run = measure(ws, model, base_url, path, n, args.waves * n)
                ratio = run["rate"] / (n * single["rate"])
                verdicts.append(ratio >= TARGET)
                print(f"{n:>4}{run['requests']:>10}{run['seconds']:>9.2f}{run['rate']:>9.2f}"
                      f"{run['max_in_flight']:>15}{ratio:>8.2f}  {'PASS' if ratio >= TARGET else 'FAIL'}")
    server.shutdown()
    server.server_close()
    print(f"\ntarget: throughput >= {TARGET} × N × single rate: {'met' if all(verdicts) else 'NOT met'} "
          f"({sum(verdicts)}/{len(verdicts)} runs)")


if __name__ == "__main__":
    main()
