"""Background jobs: a detached subprocess per job, its state in the catalog, its files in a folder.

A job survives page reloads and app restarts because nothing about it lives in the UI process:
the catalog row has the state, pid and progress; `jobs/<id>/` has params, log, checkpoint, result.
Cancel is SIGTERM, which the job turns into a flag its work checks often (per request, per generated
token); a second SIGTERM stops the process at once. At start the workspace marks jobs whose process is
gone as interrupted; resumable kinds continue from their checkpoint when resumed.
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


PHASE_FILE = "phase.json"  # where the running phase of a job started (JobContext.phase)
RESUMING_MESSAGE = "resuming / 正在继续"


def remaining_seconds(done: float, total: float, since_done: float, since_time: float, now: float) -> float | None:
    """Seconds left to reach `total` at the rate from (since_time, since_done) to (now, done); None without a rate.
    The one ETA of a job: its card, the Train page and the train CLI all show this."""
    rate = (done - since_done) / max(now - since_time, 1e-6)
    return max(0.0, total - done) / rate if rate > 0 else None


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
    cancel_requested: bool = False

    @property
    def cancelling(self) -> bool:
        """Cancel was asked for and the job has not stopped yet (the card says "cancelling…")."""
        return self.cancel_requested and self.state in ACTIVE

    @property
    def ran_seconds(self) -> float | None:
        """How long the job has run, over all its attempts (a resumed job counts its earlier ones too)."""
        before = float(self.params.get("_ran_before", 0) or 0)
        started = self.started_at
        if not started or started < float(self.params.get("_resumed_at", 0) or 0) or self.state == "queued":
            return before or None  # this attempt has not started (yet)
        if self.state == "running":
            end = time.time()
        elif self.state == "interrupted" and self.heartbeat and started <= self.heartbeat:
            end = min(self.heartbeat, self.finished_at or self.heartbeat)  # it died at its last sign of life
        else:
            end = self.finished_at or self.heartbeat or started
        return before + max(0.0, end - started)

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
        """Remaining time at the rate of the running phase of this attempt (None until there is a rate)."""
        if self.state != "running" or not self.total or not self.started_at:
            return None
        return self.eta_at(self.done, time.time())

    def eta_at(self, done: float, now: float, total: float | None = None) -> float | None:
        """Seconds left when the job had `done` at `now` (a metric row's step and time), at the running phase's
        rate; what the job card showed then. `total`: where the job has not written its own yet."""
        total = self.total or total
        if not total:
            return None
        since_time, since_done = self.phase_start
        return remaining_seconds(done, total, since_done, since_time, now)

    @property
    def phase_start(self) -> tuple[float, float]:
        """(time, done) the ETA's rate counts from: the running phase's start (`JobContext.phase`), else this
        attempt's start (a resumed job's done at that start: `_resumed_from`)."""
        attempt = (self.started_at or 0.0, float(self.params.get("_resumed_from", 0) or 0))
        try:
            phase = json.loads((self.folder / PHASE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return attempt
        # a phase file an earlier attempt left behind does not count
        return (phase["started_at"], phase["done"]) if phase["started_at"] >= attempt[0] else attempt

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


def list_jobs(ws, states: tuple[str, ...] | None = None, limit: int = 200,
              kinds: tuple[str, ...] | None = None) -> list[JobInfo]:
    """The newest `limit` jobs, newest first; only those in `states` / of `kinds` when given."""
    mark_dead_jobs(ws)
    where, args = [], []
    for column, values in (("state", states), ("kind", kinds)):
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            args += list(values)
    sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
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
                   r["error"], r["attempts"] or 0, ws.root / "jobs" / r["id"], bool(r["cancel_requested"]))


def cancel(ws, job_id: str) -> bool:
    """Ask a job to stop; it keeps what it finished, saves its checkpoint and exits within seconds. Asked again
    while it is stopping, its process is stopped at once (the second SIGTERM)."""
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
    # the running time so far and when this attempt was asked for: `ran_seconds` adds the attempts up
    params = {**info.params, "_resumed_from": info.done, "_ran_before": round(info.ran_seconds or 0.0, 3),
              "_resumed_at": time.time()}
    with ws.connect(write=True) as con:  # the last attempt's message ("cancelled") no longer holds
        con.execute("UPDATE jobs SET state='queued', cancel_requested=0, error=NULL, finished_at=NULL, message=?,"
                    " params=? WHERE id=?", (RESUMING_MESSAGE, json.dumps(params, ensure_ascii=False), job_id))
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
        self._written = self._progress
        self._write_lock = threading.Lock()  # progress is also written by the heartbeat thread

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()

    def progress(self, done: float, total: float | None = None, message: str = "", force: bool = False) -> None:
        """Report progress; written at most a few times a second unless `force` (a report held back is written
        by the next heartbeat, so the last one of a burst is never lost)."""
        with self._write_lock:
            self._progress = (done, total, message)
            if force or time.time() - self._last_write > 0.25:
                self._write_progress()

    def _write_progress(self) -> None:
        now = time.time()
        done, total, message = self._written = self._progress
        self._last_write = now
        with self.ws.connect(write=True) as con:
            con.execute("UPDATE jobs SET done=?, total=?, message=?, heartbeat=? WHERE id=?",
                        (done, total, message, now, self.id))

    def phase(self, done: float) -> None:
        """Start a phase whose progress has its own unit or pace (answers, then judge calls): the ETA counts the
        rate from now and `done` (the phase's progress already there, e.g. from a resumed attempt)."""
        write_json_atomic(self.folder / PHASE_FILE, {"started_at": time.time(), "done": float(done)})

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
            asked = bool(rows and rows[0]["cancel_requested"])
            if asked:
                self._cancel.set()
            with self.ws.connect(write=True) as con:
                # a SIGTERM from outside the app (kill PID) also shows as "cancelling…"
                con.execute("UPDATE jobs SET heartbeat=?, cancel_requested=MAX(cancel_requested, ?) WHERE id=?",
                            (time.time(), int(asked or self._cancel.is_set()), self.id))
            with self._write_lock:
                if self._progress != self._written:
                    self._write_progress()


def _on_sigterm(ctx: JobContext) -> None:
    """SIGTERM: the job stops cleanly at its next check (per request, per token); a second SIGTERM, or one while
    the job is in a step that does not check, stops the process at once (the default action)."""
    def handle(signum, frame) -> None:
        ctx._cancel.set()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, handle)


def run(ws, job_id: str) -> int:
    """The worker: run the job's function, record how it ended. Returns the process exit code."""
    info = get(ws, job_id)
    _load_kinds(info.kind)
    if int(os.environ.get("RANK", "0") or 0) > 0:
        return _run_follower(ws, info)
    ctx = JobContext(ws, job_id)
    _on_sigterm(ctx)
    with ws.connect(write=True) as con:  # a resumed job's "resuming" gives way to the job's own progress
        con.execute("UPDATE jobs SET state='running', started_at=?, heartbeat=?, pid=?, pid_started=?,"
                    " message=CASE WHEN message=? THEN '' ELSE message END, attempts=attempts+1 WHERE id=?",
                    (time.time(), time.time(), os.getpid(), _process_start(os.getpid()), RESUMING_MESSAGE,
                     job_id))
    ctx._stop_heartbeat = threading.Event()
    heartbeat = threading.Thread(target=ctx._heartbeat_loop, daemon=True)
    heartbeat.start()

    def stop_heartbeat() -> None:  # before the end is recorded: a late heartbeat must not write over it
        ctx._stop_heartbeat.set()
        heartbeat.join(timeout=10)

    ctx.log(f"job {job_id} ({info.kind}) started, attempt {info.attempts + 1}")
    try:
        result = KINDS[info.kind].run(ctx, info.params)
        stop_heartbeat()
        done, total, message = ctx._progress
        ctx.progress(total or done, total, message, force=True)
        write_json_atomic(ctx.folder / "result.json", result)
        _finish(ws, job_id, "succeeded", message="done / 完成", result=result)
        ctx.log("finished")
        return 0
    except JobCancelled:
        stop_heartbeat()
        ctx.progress(*ctx._progress, force=True)  # what was finished before the cancel counts (resume skips it)
        ctx.log(f"cancelled after {ctx._progress[0]:g} of {ctx._progress[1] or '?'}")
        _finish(ws, job_id, "cancelled", message="cancelled / 已取消")
        return 0
    except Exception as exc:  # the job failed; keep the traceback in the log, a message in the catalog
        traceback.print_exc()
        stop_heartbeat()
        _finish(ws, job_id, "failed", message=f"failed: {exc}", error=str(exc))
        return 1
    finally:
        ctx._stop_heartbeat.set()


class FollowerContext(JobContext):
    """For the other processes of a multi-process job: the same cancel flag, no catalog writes."""

    def progress(self, done, total=None, message="", force=False) -> None:
        self._progress = (done, total, message)

    def phase(self, done: float) -> None:
        pass

    def log(self, message: str) -> None:
        pass

    def save_checkpoint(self, state: dict) -> None:
        pass


def _run_follower(ws, info: JobInfo) -> int:
    """Rank > 0 under `accelerate launch`: run the job's function; rank 0 records how it ended."""
    ctx = FollowerContext(ws, info.id)
    _on_sigterm(ctx)
    try:
        KINDS[info.kind].run(ctx, info.params)
        return 0
    except JobCancelled:
        return 0
