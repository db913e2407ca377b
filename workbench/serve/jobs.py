"""A published model is a background job of kind "serve": uvicorn runs until the job is cancelled.

    job_id, key, base_url = start_server(ws, "run-<id>")     # key: show it once, it is not kept
    list_servers(ws); stop_server(ws, job_id); restart_server(ws, job_id)

The job folder is the server's folder: params.json holds the model, host, port and the key's SHA-256
(never the key), server.json the bound address. Cancel stops uvicorn cleanly (in-flight requests get a
few seconds). A server whose process died shows as interrupted and restarts with the same key and, when
it is free, the same port.
"""
from __future__ import annotations

import errno
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .. import jobs
from ..jobs import JobCancelled, job_kind
from ..storage import write_json_atomic
from .keys import new_key

KIND = "serve"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
START_TIMEOUT_S = 600.0  # a GGUF model is converted once on first use, which can take minutes


class ServeError(RuntimeError):
    """The server could not start (model failed to load, port taken, ...); the message says why."""


@dataclass(frozen=True)
class ServerInfo:
    job_id: str
    model: str
    state: str             # the job's state: running while it serves
    host: str
    port: int | None       # the bound port (None until bound)
    base_url: str | None   # http://host:port/v1 once bound
    engine: str | None
    message: str


def client_host(host: str) -> str:
    """The address a client on this machine uses (a wildcard bind is reached through loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


def base_url(host: str, port: int) -> str:
    return f"http://{client_host(host)}:{port}/v1"


def is_public(host: str) -> bool:
    return host not in LOOPBACK


# --- the job ------------------------------------------------------------------------------------------
@job_kind(KIND, resumable=True)
def serve_job(ctx, params: dict) -> dict:
    import uvicorn

    from .app import create_app
    from .engine import load_engine

    def loading(stage: str, fraction: float) -> None:
        ctx.progress(fraction, 1.0, f"loading the model: {stage} / 加载模型：{stage}", force=True)

    # The port first: a taken port fails at once, not after minutes of loading. Not listening yet, so early
    # callers are refused rather than left hanging.
    host, previous = params["host"], (ctx.load_checkpoint() or {}).get("port")
    sock = bind(host, int(params["port"]), previous)
    port = sock.getsockname()[1]
    ctx.progress(0, None, "loading the model / 正在加载模型", force=True)
    engine = load_engine(ctx.ws, params["model"], params.get("engine", "auto"), loading, ctx.log)
    ctx.check_cancelled()
    server = uvicorn.Server(uvicorn.Config(create_app(engine, params["key_sha256"], ctx.log), log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=5, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()  # not the main thread: the job's own SIGTERM handler stays in charge of cancelling
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise ServeError(f"uvicorn did not start on {host}:{port} / 服务未能在 {host}:{port} 启动")
    url = base_url(host, port)
    write_json_atomic(ctx.folder / "server.json", {"host": host, "port": port, "base_url": url,
                                                   "model": engine.model_id, "engine": engine.name,
                                                   "started_at": time.time()})
    ctx.save_checkpoint({"port": port})
    ctx.log(f"serving {engine.model_id} ({engine.name}) at {url}")
    ctx.progress(1, None, f"serving at {url} / 服务地址 {url}", force=True)
    while thread.is_alive() and not ctx.cancelled:
        time.sleep(0.2)
    server.should_exit = True
    thread.join(timeout=15)
    if ctx.cancelled:
        raise JobCancelled()
    raise ServeError("the server stopped by itself; see the log / 服务意外停止，请查看日志")


def bind(host: str, port: int, previous: int | None = None) -> socket.socket:
    """A socket bound to host:port (port 0: the port of the last run if free, else any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([previous] if previous and not port else []) + [port]:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as error:
            sock.close()
            if candidate == port and error.errno == errno.EADDRINUSE:
                raise ServeError(f"Port {port} is already in use: pick another or 0 for any free port / "
                                 f"端口 {port} 已被占用：请换一个端口，或填 0 自动选择空闲端口") from None
            if candidate == port:
                raise ServeError(f"Cannot listen on {host}:{port}: {error.strerror} / 无法监听 {host}:{port}："
                                 f"{error.strerror}") from None
            continue
        return sock  # uvicorn (asyncio) listens on it when it starts serving
    raise AssertionError("unreachable")


# --- starting, listing, stopping ----------------------------------------------------------------------
def start_server(ws, model: str, host: str = "127.0.0.1", port: int = 0, engine: str = "auto",
                 wait_s: float = START_TIMEOUT_S) -> tuple[str, str, str]:
    """Start serving `model`; returns (job id, API key — show it once, it is not stored —, base URL)."""
    from ..models import resolve

    host = (host or "").strip() or "127.0.0.1"
    if not 0 <= int(port) <= 65535:
        raise ServeError(f"Port must be 0-65535 / 端口必须在 0 到 65535 之间: {port}")
    spec = resolve(ws, model)  # an unknown or unavailable model fails here, before any process starts
    key, digest = new_key()
    # an unlisted folder gets a made-up id that only its path resolves again
    params = {"model": str(model).strip() if spec.id.startswith("path-") else spec.id, "host": host,
              "port": int(port), "engine": engine, "key_sha256": digest}
    job_id = jobs.start(ws, KIND, params, title=spec.id)
    return job_id, key, wait_until_serving(ws, job_id, wait_s, key)


def restart_server(ws, job_id: str, wait_s: float = START_TIMEOUT_S) -> str:
    """Serve a stopped or interrupted server's model again, with the same key; returns its base URL."""
    jobs.resume(ws, job_id)
    return wait_until_serving(ws, job_id, wait_s)


def wait_until_serving(ws, job_id: str, wait_s: float, key: str | None = None) -> str:
    """Wait until the job's server answers GET /v1/models; ServeError with the job's error if it ended."""
    deadline, started = time.time() + wait_s, time.time()
    while time.time() < deadline:
        jobs.mark_dead_jobs(ws)
        info = jobs.get(ws, job_id)
        if info.state in jobs.FINISHED:
            raise ServeError(f"The server did not start: {info.error or info.message} / 服务未能启动")
        server = _server_file(info)
        if info.state == "running" and server.get("started_at", 0) >= started - 1 and answers(server["base_url"], key):
            return server["base_url"]
        time.sleep(0.2)
    jobs.cancel(ws, job_id)
    raise ServeError(f"The server did not answer within {wait_s:.0f} s, so it was stopped; see the job log / "
                     f"服务在 {wait_s:.0f} 秒内没有响应，已停止；请查看任务日志")


def answers(url: str, key: str | None = None) -> bool:
    """The server answers GET /v1/models (200 with the key; without one, its 401 counts as an answer)."""
    request = urllib.request.Request(url + "/models", headers={"Authorization": f"Bearer {key}"} if key else {})
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # an http_proxy must not catch loopback
    try:
        with direct.open(request, timeout=5) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        return key is None and error.code == 401
    except OSError:
        return False


def list_servers(ws) -> list[ServerInfo]:
    """Every serve job, newest first, with the address it bound."""
    servers = []
    found = {info.id: info for info in jobs.list_jobs(ws) + jobs.list_jobs(ws, jobs.ACTIVE)}  # old but running too
    for info in sorted(found.values(), key=lambda info: info.created_at, reverse=True):
        if info.kind != KIND:
            continue
        server = _server_file(info)
        servers.append(ServerInfo(info.id, server.get("model") or info.params.get("model", ""), info.state,
                                  info.params.get("host", ""), server.get("port"), server.get("base_url"),
                                  server.get("engine"), info.message))
    return servers


def stop_server(ws, job_id: str, wait_s: float = 30.0) -> jobs.JobInfo:
    """Stop a server cleanly and wait until its process has ended."""
    if jobs.get(ws, job_id).kind != KIND:
        raise ServeError(f"Job {job_id} is not a server / 任务 {job_id} 不是 API 服务")
    jobs.cancel(ws, job_id)
    return jobs.wait(ws, job_id, timeout=wait_s)


def _server_file(info) -> dict:
    path = info.folder / "server.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
