"""Configured LLM endpoints (in the workspace) and their API keys (never there: secrets.toml or env).

An endpoint is either an OpenAI-compatible server (`kind="openai"`: base URL + model name) or a
local transformers model from the registry (`kind="local"`: `model` is a registry id or a folder).
Every available local model is also offered as `local:<model id>` without any configuration.
"""
from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from ..storage import write_json_atomic, write_text_atomic
from ..workspace import NotFoundError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
SECRETS_TABLE = "llm_api_keys"


@dataclass(frozen=True)
class Endpoint:
    name: str
    kind: str = "openai"            # "openai" or "local"
    base_url: str = ""              # openai: e.g. http://127.0.0.1:8000/v1
    model: str = ""                 # openai: the served model name; local: a registry id or folder
    api_key_env: str = ""           # optional env var holding the key (else secrets.toml, else none)
    max_concurrency: int = 4        # requests in flight at once (local: the generation batch size)
    timeout_s: float = 60.0
    max_retries: int = 3            # extra attempts on 429/5xx/timeouts/bad or empty answers

    def __post_init__(self):
        problems = []
        if not NAME.match(self.name or ""):
            problems.append("name: letters, digits, . _ - : (up to 80) / 名称只能包含字母、数字和 . _ - :")
        if self.kind not in ("openai", "local"):
            problems.append("kind must be openai or local / 类型必须是 openai 或 local")
        if self.kind == "openai" and not re.match(r"^https?://", self.base_url or ""):
            problems.append("base URL must start with http:// or https:// / 接口地址必须以 http:// 或 https:// 开头")
        if not self.model:
            problems.append("model is required / 必须填写模型")
        if not 1 <= int(self.max_concurrency) <= 64:
            problems.append("concurrency must be 1-64 / 并发数必须在 1 到 64 之间")
        if not 0 < float(self.timeout_s) <= 3600 or not 0 <= int(self.max_retries) <= 10:
            problems.append("timeout 1-3600 s, retries 0-10 / 超时 1-3600 秒，重试 0-10 次")
        if problems:
            raise ValueError("; ".join(problems))


def _path(ws) -> Path:
    return ws.root / "settings" / "llm_endpoints.json"


def list_endpoints(ws) -> list[Endpoint]:
    """Saved endpoints, then `local:<id>` for every available local model."""
    from ..models import list_models

    path = _path(ws)
    saved = [Endpoint(**e) for e in json.loads(path.read_text(encoding="utf-8"))] if path.exists() else []
    local = [Endpoint(f"local:{m.id}", "local", model=m.id, max_concurrency=8)
             for m in list_models(ws) if m.available and m.kind in ("bundled", "local", "run")]
    return saved + [e for e in local if e.name not in {s.name for s in saved}]


def get_endpoint(ws, name: str) -> Endpoint:
    if name.startswith("local:"):
        return Endpoint(name, "local", model=name.split(":", 1)[1], max_concurrency=8)
    for endpoint in list_endpoints(ws):
        if endpoint.name == name:
            return endpoint
    raise NotFoundError(f"no LLM endpoint named {name!r} / 没有名为 {name!r} 的模型接口")


def save_endpoint(ws, endpoint: Endpoint) -> None:
    entries = [e for e in _saved(ws) if e["name"] != endpoint.name] + [asdict(endpoint)]
    write_json_atomic(_path(ws), entries)


def delete_endpoint(ws, name: str) -> bool:
    entries = _saved(ws)
    kept = [e for e in entries if e["name"] != name]
    write_json_atomic(_path(ws), kept)
    return len(kept) < len(entries)


def _saved(ws) -> list[dict]:
    path = _path(ws)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


# --- API keys: env var or .streamlit/secrets.toml, never the workspace, logs or the UI -------------------
def secrets_path() -> Path:
    return Path(os.environ.get("WORKBENCH_SECRETS", Path.cwd() / ".streamlit" / "secrets.toml"))


def api_key(endpoint: Endpoint, path: Path | None = None) -> str | None:
    if endpoint.api_key_env and os.environ.get(endpoint.api_key_env):
        return os.environ[endpoint.api_key_env]
    path = path or secrets_path()
    if path.exists():
        with open(path, "rb") as handle:
            return tomllib.load(handle).get(SECRETS_TABLE, {}).get(endpoint.name)
    return None


def has_api_key(endpoint: Endpoint, path: Path | None = None) -> bool:
    return bool(api_key(endpoint, path))


def save_api_key(name: str, key: str, path: Path | None = None) -> None:
    """Set `[llm_api_keys] name = "key"` in secrets.toml, keeping every other line as it was."""
    path = path or secrets_path()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = f"{json.dumps(name)} = {json.dumps(key)}"
    header = f"[{SECRETS_TABLE}]"
    if header not in [line.strip() for line in lines]:
        lines += ["", header, entry]
    else:
        start = [line.strip() for line in lines].index(header) + 1
        end = next((i for i in range(start, len(lines)) if lines[i].strip().startswith("[")), len(lines))
        quoted = json.dumps(name)
        found = [i for i in range(start, end) if lines[i].split("=", 1)[0].strip() in (name, quoted)]
        if found:
            lines[found[0]] = entry
        else:
            lines.insert(end, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\n".join(lines).lstrip("\n") + "\n")
    os.chmod(path, 0o600)
    with open(path, "rb") as handle:  # what we wrote must parse, or the app could not start
        tomllib.load(handle)


def redact(text: str, endpoint: Endpoint, path: Path | None = None) -> str:
    """`text` with the endpoint's key replaced, for logs and error messages."""
    key = api_key(endpoint, path)
    return text.replace(key, "***") if key and len(key) >= 4 else text
