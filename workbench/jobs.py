"""Background jobs: a detached subprocess per job, its state in the catalog, its files in a folder.

A job survives page reloads and app restarts because nothing about it lives in the UI process:
the catalog row has the state, pid and progress; `jobs/<id>/` has params, log, checkpoint, result.
Cancel is SIGTERM, which the job turns into a flag it checks between units of work. At start the
workspace marks jobs whose process is gone as interrupted; resumable kinds continue from their
checkpoint when resumed.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil

from .storage import write_json_atomic
from .workspace import NotFoundError

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled", "interrupted")
HEARTBEAT_SECONDS = 2.0


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable  # run(ctx: JobContext, params: dict) -> dict (the result)
    resumable: bool = False
    launcher: Callable | None = None  # launcher(params) -> command prefix that runs `-m workbench ...`


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, resumable: bool = False, launcher: Callable | None = None):
    """Register a function as a job kind: `@job_kind("stats", resumable=True)`."""
    def register(fn):
        KINDS[name] = JobKind(name, fn, resumable, launcher)
        return fn
    return register


# The module whose import registers each job kind (with @job_kind); kept lazy so the catalog loads fast
# and a job's process imports only its own kind's module (a training job does not load the evaluators).
KIND_MODULES = {
    "convert_model": "workbench.models", "import_check": "workbench.data.jobs", "stats": "workbench.data.jobs",
    "llm_batch": "workbench.llm.jobs", "extract_rules": "workbench.extract.jobs",
    "extract_llm": "workbench.extract.llm_mode", "augment": "workbench.augment.jobs",
    "apply_template": "workbench.templates.jobs", "quality": "workbench.data.quality_jobs",
    "train": "workbench.train.jobs", "train_estimate": "workbench.train.preflight", "infer": "workbench.infer.jobs",
    "serve": "workbench.serve.jobs", "evaluate": "workbench.evaluate.jobs"}


def _load_kinds(kind: str | None = None) -> None:
    """Register `kind` (importing its module only), or every kind."""
    import importlib

    if kind in KINDS:
        return
    for name in sorted({KIND_MODULES[kind]} if kind in KIND_MODULES else set(KIND_MODULES.values())):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and name.startswith(error.name):
                continue  # that feature is not there yet
            raise


class JobCancelled(Exception):
    """Raised inside a job by `ctx.check_cancelled()` when the user asked to cancel."""


# the kind word that job titles began with before they held only the subject (see JobInfo.subject)
LEGACY_TITLE_PREFIXES = {"train": "Train ", "infer": "Inference ", "evaluate": "Evaluate ", "serve": "serve ",
                         "augment": "augment ", "stats": "stats ", "convert_model": "convert ",
                         "extract_rules": "extract ", "extract_llm": "extract (LLM) ", "apply_template": "template ",
                         "import_check": "import ", "quality": "quality ", "train_estimate": "Estimate "}


@dataclass
class JobInfo:
    id: str
    kind: str
    title: str
    params: dict
    state: str
    pid: int | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat: float | None
    done: float
    total: float | None
    message: str
    result: dict | None
    error: str | None
    attempts: int
    folder: Path

    @property
    def subject(self) -> str:
        """What the job works on ("huanhuan@2 · smollm2-135m-instruct"), for a label next to its kind's name.
        Titles of jobs started before titles held only the subject began with an English kind word ("Train …"):
        that word is dropped; a job started without a title has the kind as its title, and no subject."""
        prefix = LEGACY_TITLE_PREFIXES.get(self.kind)
        if self.title == self.kind:
            return ""
        return self.title[len(prefix):] if prefix and self.title.startswith(prefix) else self.title

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None

    @property
    def eta_seconds(self) -> float | None:
        """Remaining time from the rate so far in this attempt (None until there is a rate)."""
        if self.state != "running" or not self.total or not self.started_at or self.done <= 0:
            return None
        start_done = float(self.params.get("_resumed_from", 0) or 0)
        rate = (self.done - start_done) / max(time.time() - self.started_at, 1e-6)
        return (self.total - self.done) / rate if rate > 0 else None

    @property
    def resumable(self) -> bool:
        _load_kinds(self.kind)
        kind = KINDS.get(self.kind)
        return bool(kind and kind.resumable and self.state in ("interrupted", "cancelled", "failed"))

    def log_tail(self, lines: int = 20) -> str:
        path = self.folder / "log.txt"
        if not path.exists():
            return ""
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64_000))
            text = handle.read().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# --- starting, listing, cancelling ------------------------------------------------------------
def start(ws, kind: str, params: dict, title: str | None = None) -> str:
    """Create a job row and its folder, then spawn the detached worker process. Returns the id.

    `title`: what the job works on (a dataset version, a run's name), without the kind: the UI puts the kind's
    name in the user's language before it."""
    _load_kinds(kind)
    if kind not in KINDS:
        raise ValueError(f"Unknown job kind '{kind}'")
    job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    folder = ws.root / "jobs" / job_id
    folder.mkdir(parents=True)
    write_json_atomic(folder / "params.json", params)
    with ws.connect(write=True) as con:
        con.execute("INSERT INTO jobs(id, kind, title, params, state, created_at) VALUES (?,?,?,?,?,?)",
                    (job_id, kind, title or kind, json.dumps(params, ensure_ascii=False), "queued", time.time()))
    _spawn(ws, job_id)
    return job_id


def _spawn(ws, job_id: str) -> None:
    folder = ws.root / "jobs" / job_id
    log = open(folder / "log.txt", "ab")
    info = get(ws, job_id)
    launcher = KINDS[info.kind].launcher if info.kind in KINDS else None
    prefix = launcher(info.params) if launcher else [sys.executable]
    command = [*prefix, "-m", "workbench", "--workspace", str(ws.root), "jobs", "run", job_id]
    log.write(f"{time.strftime('%H:%M:%S')} command: {shlex.join(command)}\n".encode())
    log.flush()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True, cwd=os.getcwd(), env=env)
    log.close()
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET pid=?, pid_started=? WHERE id=?",
                    (process.pid, _process_start(process.pid), job_id))
    # Reap the child when it exits so it does not linger as a zombie while the app runs.
    threading.Thread(target=process.wait, daemon=True).start()


def list_jobs(ws, states: tuple[str, ...] | None = None, limit: int = 200) -> list[JobInfo]:
    mark_dead_jobs(ws)
    sql, args = "SELECT * FROM jobs", []
    if states:
        sql += f" WHERE state IN ({','.join('?' * len(states))})"
        args = list(states)
    rows = ws._query(sql + " ORDER BY created_at DESC LIMIT ?", (*args, limit))
    return [_info(ws, r) for r in rows]


def get(ws, job_id: str) -> JobInfo:
    rows = ws._query("SELECT * FROM jobs WHERE id=?", (job_id,))
    if not rows:
        raise NotFoundError(f"No job '{job_id}' / 没有任务“{job_id}”")
    return _info(ws, rows[0])


def _info(ws, r) -> JobInfo:
    return JobInfo(r["id"], r["kind"], r["title"], json.loads(r["params"]), r["state"], r["pid"],
                   r["created_at"], r["started_at"], r["finished_at"], r["heartbeat"], r["done"] or 0,
                   r["total"], r["message"] or "", json.loads(r["result"]) if r["result"] else None,
                   r["error"], r["attempts"] or 0, ws.root / "jobs" / r["id"])


def cancel(ws, job_id: str) -> bool:
    """Ask a job to stop; it finishes its current unit, saves its checkpoint and exits."""
    info = get(ws, job_id)
    if info.state not in ACTIVE:
        return False
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET cancel_requested=1 WHERE id=?", (job_id,))
    if info.pid and _alive(info.pid, _pid_started(ws, job_id)):
        try:
            os.kill(info.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    elif info.state == "queued" or info.pid:
        _finish(ws, job_id, "cancelled", message="cancelled before it started")
    return True


def resume(ws, job_id: str) -> None:
    """Start an interrupted/cancelled/failed resumable job again; it continues from its checkpoint."""
    info = get(ws, job_id)
    if not info.resumable:
        raise ValueError(f"Job '{job_id}' ({info.kind}, {info.state}) cannot be resumed")
    params = {**info.params, "_resumed_from": info.done}
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET state='queued', cancel_requested=0, error=NULL, finished_at=NULL,"
                    " params=? WHERE id=?", (json.dumps(params, ensure_ascii=False), job_id))
    _spawn(ws, job_id)


def wait(ws, job_id: str, timeout: float = 120.0, poll: float = 0.1) -> JobInfo:
    """Block until the job has finished (for the CLI and tests)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        list_jobs(ws, ACTIVE)  # refresh dead-process detection
        info = get(ws, job_id)
        if info.state in FINISHED:
            return info
        time.sleep(poll)
    raise TimeoutError(f"Job {job_id} still {get(ws, job_id).state} after {timeout}s")


def follow(ws, job_id: str, out=print, poll: float = 1.0) -> JobInfo:
    """Print the job's progress messages as they change until it finishes (the CLI's foreground mode)."""
    shown = [""]

    def show(info: JobInfo) -> None:
        if info.message != shown[0]:
            out(info.message)
            shown[0] = info.message

    return watch(ws, job_id, show, poll)


def watch(ws, job_id: str, on_poll: Callable[[JobInfo], None], poll: float = 1.0) -> JobInfo:
    """Call `on_poll` with the job's state at every poll until it finishes (also a job whose process died);
    returns the last state."""
    while True:
        mark_dead_jobs(ws)
        info = get(ws, job_id)
        on_poll(info)
        if info.state in FINISHED:
            return info
        time.sleep(poll)


def mark_dead_jobs(ws) -> int:
    """Jobs marked active whose process is gone become interrupted. Returns how many."""
    count = 0
    for r in ws._query("SELECT id, pid, pid_started, state, created_at, cancel_requested FROM jobs"
                       " WHERE state IN ('queued','running')"):
        if r["pid"] is None and time.time() - r["created_at"] < 30:
            continue  # being spawned right now
        if r["pid"] is None or not _alive(r["pid"], r["pid_started"]):
            if r["cancel_requested"]:  # stopped by the cancel before it could record it
                _finish(ws, r["id"], "cancelled", message="cancelled / 已取消", only_if_active=True)
            else:
                _finish(ws, r["id"], "interrupted", message="the process stopped unexpectedly / 进程意外停止",
                        only_if_active=True)
            count += 1
    return count


def _pid_started(ws, job_id: str) -> float | None:
    rows = ws._query("SELECT pid_started FROM jobs WHERE id=?", (job_id,))
    return rows[0]["pid_started"] if rows else None


def _process_start(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _alive(pid: int, started: float | None) -> bool:
    """The pid runs and is the same process we started (pids are reused)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(process.create_time() - started) < 1.0
    except psutil.Error:
        return False


def _finish(ws, job_id, state, message=None, result=None, error=None, only_if_active=False):
    sql = "UPDATE jobs SET state=?, finished_at=?, message=COALESCE(?, message), result=COALESCE(?, result), error=?"
    sql += " WHERE id=?" + (" AND state IN ('queued','running')" if only_if_active else "")
    with ws.connect(write=True) as con:
        con.execute(sql, (state, time.time(), message,
                          json.dumps(result, ensure_ascii=False, default=str) if result is not None else None,
                          error, job_id))


# --- inside the worker process ------------------------------------------------------------------
class JobContext:
    """What a running job uses: progress, log, checkpoint, cancellation."""

    def __init__(self, ws, job_id: str):
        self.ws, self.id = ws, job_id
        self.folder = ws.root / "jobs" / job_id
        self._cancel = threading.Event()
        self._last_write = 0.0
        self._progress = (0.0, None, "")

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()

    def progress(self, done: float, total: float | None = None, message: str = "", force: bool = False) -> None:
        """Report progress; written at most a few times a second unless `force`."""
        self._progress = (done, total, message)
        now = time.time()
        if force or now - self._last_write > 0.25:
            self._last_write = now
            with self.ws.connect(write=True) as con:
                con.execute("UPDATE jobs SET done=?, total=?, message=?, heartbeat=? WHERE id=?",
                            (done, total, message, now, self.id))

    def log(self, message: str) -> None:
        print(time.strftime("%H:%M:%S"), message, flush=True)

    def load_checkpoint(self) -> dict | None:
        path = self.folder / "checkpoint.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def save_checkpoint(self, state: dict) -> None:
        write_json_atomic(self.folder / "checkpoint.json", state)

    def _heartbeat_loop(self) -> None:
        while not self._stop_heartbeat.wait(HEARTBEAT_SECONDS):
            rows = self.ws._query("SELECT cancel_requested FROM jobs WHERE id=?", (self.id,))
            if rows and rows[0]["cancel_requested"]:
                self._cancel.set()
            with self.ws.connect(write=True) as con:
                con.execute("UPDATE jobs SET heartbeat=? WHERE id=?", (time.time(), self.id))


def run(ws, job_id: str) -> int:
    """The worker: run the job's function, record how it ended. Returns the process exit code."""
    info = get(ws, job_id)
    _load_kinds(info.kind)
    if int(os.environ.get("RANK", "0") or 0) > 0:
        return _run_follower(ws, info)
    ctx = JobContext(ws, job_id)
    signal.signal(signal.SIGTERM, lambda *_: ctx._cancel.set())
    with ws.connect(write=True) as con:
        con.execute("UPDATE jobs SET state='running', started_at=?, heartbeat=?, pid=?, pid_started=?,"
                    " attempts=attempts+1 WHERE id=?",
                    (time.time(), time.time(), os.getpid(), _process_start(os.getpid()), job_id))
    ctx._stop_heartbeat = threading.Event()
    threading.Thread(target=ctx._heartbeat_loop, daemon=True).start()
    ctx.log(f"job {job_id} ({info.kind}) started, attempt {info.attempts + 1}")
    try:
        result = KINDS[info.kind].run(ctx, info.params)
        done, total, message = ctx._progress
        ctx.progress(total or done, total, message, force=True)
        write_json_atomic(ctx.folder / "result.json", result)
        _finish(ws, job_id, "succeeded", message="done / 完成", result=result)
        ctx.log("finished")
        return 0
    except JobCancelled:
        ctx.log("cancelled")
        _finish(ws, job_id, "cancelled", message="cancelled / 已取消")
        return 0
    except Exception as exc:  # the job failed; keep the traceback in the log, a message in the catalog
        traceback.print_exc()
        _finish(ws, job_id, "failed", message=f"failed: {exc}", error=str(exc))
        return 1
    finally:
        ctx._stop_heartbeat.set()


class FollowerContext(JobContext):
    """For the other processes of a multi-process job: the same cancel flag, no catalog writes."""

    def progress(self, done, total=None, message="", force=False) -> None:
        self._progress = (done, total, message)

    def log(self, message: str) -> None:
        pass

    def save_checkpoint(self, state: dict) -> None:
        pass


def _run_follower(ws, info: JobInfo) -> int:
    """Rank > 0 under `accelerate launch`: run the job's function; rank 0 records how it ended."""
    ctx = FollowerContext(ws, info.id)
    signal.signal(signal.SIGTERM, lambda *_: ctx._cancel.set())
    try:
        KINDS[info.kind].run(ctx, info.params)
        return 0
    except JobCancelled:
        return 0
