"""`python -m workbench llm …`: list/add/remove endpoints, set a key, test, chat, serve a local model."""
from __future__ import annotations

import getpass
import sys


def register(verbs) -> None:
    p = verbs.add_parser("llm", help="LLM endpoints: list, add, key, remove, test, chat, serve")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="configured endpoints and local models").set_defaults(handler=_list)
    a = actions.add_parser("add", help="add or replace an OpenAI-compatible endpoint")
    a.add_argument("name"), a.add_argument("--base-url", required=True), a.add_argument("--model", required=True)
    a.add_argument("--key-env", default="", help="env var holding the API key")
    a.add_argument("--concurrency", type=int, default=4), a.add_argument("--timeout", type=float, default=60.0)
    a.add_argument("--retries", type=int, default=3)
    a.set_defaults(handler=_add)
    a = actions.add_parser("key", help="store an endpoint's API key in .streamlit/secrets.toml (read from stdin)")
    a.add_argument("name"), a.set_defaults(handler=_key)
    a = actions.add_parser("remove", help="remove a saved endpoint")
    a.add_argument("name"), a.set_defaults(handler=_remove)
    a = actions.add_parser("test", help="send one short request")
    a.add_argument("name"), a.set_defaults(handler=_test)
    a = actions.add_parser("chat", help="one prompt, one answer")
    a.add_argument("name"), a.add_argument("prompt"), a.add_argument("--system")
    a.add_argument("--max-tokens", type=int, default=256), a.add_argument("--temperature", type=float, default=0.0)
    a.set_defaults(handler=_chat)
    a = actions.add_parser("serve", help="serve an endpoint (e.g. local:smollm2-135m-instruct) as an OpenAI-compatible API")
    a.add_argument("name"), a.add_argument("--host", default="127.0.0.1"), a.add_argument("--port", type=int, default=8000)
    a.set_defaults(handler=_serve)


def _list(args, ws) -> int:
    from . import has_api_key, list_endpoints

    for e in list_endpoints(ws):
        key = ("key set" if has_api_key(e) else "no key") if e.kind == "openai" else ""
        print(f"{e.name}\t{e.kind}\t{e.base_url or '-'}\t{e.model}\tconcurrency {e.max_concurrency}\t{key}")
    return 0


def _add(args, ws) -> int:
    from . import Endpoint, save_endpoint

    endpoint = Endpoint(args.name, "openai", args.base_url, args.model, args.key_env, args.concurrency,
                        args.timeout, args.retries)
    save_endpoint(ws, endpoint)
    print(f"saved {endpoint.name}")
    return 0


def _key(args, ws) -> int:
    from . import get_endpoint, save_api_key

    get_endpoint(ws, args.name)
    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not key:
        print("no key given / 未输入密钥", file=sys.stderr)
        return 2
    save_api_key(args.name, key)
    print(f"key stored for {args.name} (not shown)")
    return 0


def _remove(args, ws) -> int:
    from . import delete_endpoint

    print("removed" if delete_endpoint(ws, args.name) else "not saved")
    return 0


def _test(args, ws) -> int:
    from . import test_connection

    reply = test_connection(ws, args.name)
    print(f"ok: {reply.model} answered in {reply.seconds:.1f} s: {reply.text!r}")
    return 0


def _chat(args, ws) -> int:
    from . import GenerationParams, backend_for

    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": args.prompt}]
    backend = backend_for(ws, args.name)
    try:
        print(backend.complete(messages, GenerationParams(args.max_tokens, args.temperature)).text)
    finally:
        backend.close()
    return 0


def _serve(args, ws) -> int:
    from . import backend_for
    from .server import make_server

    server = make_server(backend_for(ws, args.name), args.host, args.port)
    print(f"serving {args.name} at http://{args.host}:{server.server_address[1]}/v1 (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
