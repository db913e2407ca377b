"""`python -m workbench serve MODEL [--host 127.0.0.1] [--port 8000] [--detach]`, `serve list`, `serve stop JOB`.

The API key is printed once at start and never stored (only its hash). Without --detach the command stays
until Ctrl+C and then stops the server; with --detach the server keeps running as a background job.
"""
from __future__ import annotations

import sys
import time


def register(verbs) -> None:
    p = verbs.add_parser("serve", help="publish a model as an OpenAI-compatible API (serve MODEL | list | stop JOB "
                                       "| restart JOB)")
    p.add_argument("target", help="a model id (run-<id>, a bundled or added model, a folder), or list/stop/restart")
    p.add_argument("job", nargs="?", help="the server's job id (for stop/restart)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; anything but loopback is reachable "
                                                       "from other machines")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    p.add_argument("--engine", choices=("auto", "transformers", "vllm"), default="auto",
                   help="auto: vLLM when installed with a CUDA GPU, else transformers")
    p.add_argument("--detach", action="store_true", help="start the server job and return")
    p.set_defaults(handler=_serve)


def _serve(args, ws) -> int:
    from .jobs import ServeError

    try:
        if args.target in ("list", "stop", "restart"):
            return {"list": _list, "stop": _stop, "restart": _restart}[args.target](args, ws)
        return _start(args, ws)
    except ServeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _start(args, ws) -> int:
    from .. import jobs
    from .jobs import is_public, start_server, stop_server
    from .snippets import key_export, snippets

    if is_public(args.host):
        print(f"warning: --host {args.host} makes the API reachable from other machines over plain HTTP; anyone "
              f"with the key can use it / 警告：监听 {args.host} 会让其他机器通过未加密的 HTTP 访问此 API",
              file=sys.stderr)
    print(f"loading {args.target} … / 正在加载模型 …", flush=True)
    job_id, key, url = start_server(ws, args.target, args.host, args.port, args.engine)
    model = jobs.get(ws, job_id).params["model"]
    print(f"serving {model} at {url} (job {job_id})")
    print("API key, shown only this once and not stored / API 密钥只显示这一次，不会保存:")
    print(f"  {key_export(key)}")
    print(snippets(url, model)["curl"], flush=True)
    if args.detach:
        print(f"stop it with: python -m workbench serve stop {job_id}")
        return 0
    print("Ctrl+C stops the server / 按 Ctrl+C 停止服务", flush=True)
    try:
        while jobs.get(ws, job_id).state in jobs.ACTIVE:
            jobs.mark_dead_jobs(ws)
            time.sleep(1.0)
    except KeyboardInterrupt:
        info = stop_server(ws, job_id)
        print(f"\n{info.state}")
        return 0
    info = jobs.get(ws, job_id)
    print(f"the server ended: {info.state} {info.error or ''}", file=sys.stderr)
    return 1


def _list(args, ws) -> int:
    from .jobs import list_servers

    for server in list_servers(ws):
        print(f"{server.job_id}  {server.state:<11} {server.model}  {server.base_url or '-'}  {server.engine or ''}")
    return 0


def _stop(args, ws) -> int:
    from .jobs import stop_server

    if not args.job:
        print("a job id is needed: serve stop JOB / 请提供任务 id", file=sys.stderr)
        return 2
    print(stop_server(ws, args.job).state)
    return 0


def _restart(args, ws) -> int:
    from .jobs import restart_server

    if not args.job:
        print("a job id is needed: serve restart JOB / 请提供任务 id", file=sys.stderr)
        return 2
    print(f"serving again at {restart_server(ws, args.job)} (same key as before)")
    return 0
