"""Background job `extract_rules`: rule-mode extraction over many or large sources, resumable.

    job_id = start_rules_job(ws, ["a.pdf", "https://…/faq", ("b.txt", data), Pasted("…")], Rule(), "faq")

params: {"sources": [{"path", "name"} | {"url"}], "rule": Rule fields, "name": dataset name,
         "allow_private_urls": true when the command that started it allowed private network URLs}
Each source is read and extracted in turn; its rows are appended to `pairs.jsonl` in the job folder
and then the checkpoint records how far it got (and the file's length). Cancel stops between sources;
a resume (after a cancel, a crash or an app restart) cuts `pairs.jsonl` back to the checkpoint and
continues with the next source, so no source is counted twice. The dataset is saved once at the end
(its version params carry the job id, so a resume after a crash right after saving does not save again).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..jobs import job_kind
from ..problems import ReadError
from .dataset import pairs_to_rows, save_extraction
from .policy import fetch_policy_for
from .rules import Rule, extract_pairs
from .sources import Document, Pasted, is_url, read_source

KIND = "extract_rules"


def start_rules_job(ws, items, rule: Rule, name: str, allow_private_urls: bool = False) -> str:
    """Start the rules job on `items` (see start_extract_job). Returns its id."""
    return start_extract_job(ws, KIND, items, {"rule": rule.model_dump()}, name, allow_private_urls)


def start_extract_job(ws, kind: str, items, settings: dict, name: str, allow_private_urls: bool = False) -> str:
    """Stage uploads and pasted text as files in the workspace, then start job `kind` with `settings` (its rule or
    config) and the dataset `name`. Returns its id.

    `allow_private_urls` widens the fetch policy for this job only (the CLI's --allow-private-urls)."""
    from .. import jobs

    params = {"sources": stage_sources(ws, items), **settings, "name": name}
    if allow_private_urls:
        params["allow_private_urls"] = True
    return jobs.start(ws, kind, params, name)


def stage_sources(ws, items) -> list[dict]:
    """The job's source list: URLs as they are, paths made absolute, bytes and text written under uploads/."""
    staged = []
    for item in items:
        if isinstance(item, str) and is_url(item):
            staged.append({"url": item.strip()})
        elif isinstance(item, (str, Path)):
            staged.append({"path": str(Path(item).resolve()), "name": Path(item).name})
        elif isinstance(item, tuple):
            name, data = item
            path = ws.path_for_upload(name)
            path.write_bytes(bytes(data))
            staged.append({"path": str(path), "name": name})
        elif isinstance(item, (Pasted, Document)):
            name = item.name if isinstance(item, Pasted) else item.source
            path = ws.path_for_upload("pasted.txt")
            path.write_text(item.text, encoding="utf-8")
            staged.append({"path": str(path), "name": name, "pasted": True})
        else:
            raise ValueError(f"not a source: {item!r} / 不是可用的来源")
    return staged


def _read(spec: dict, policy) -> Document:
    if "url" in spec:
        return read_source(spec["url"], policy)
    path = Path(spec["path"])
    if spec.get("pasted"):
        return read_source(Pasted(path.read_text(encoding="utf-8"), spec.get("name") or "pasted text"))
    if not path.is_file():
        return read_source(path)  # raises the located "file not found"
    return read_source((spec.get("name") or path.name, path.read_bytes()))


@job_kind(KIND, resumable=True)
def extract_rules_job(ctx, params: dict) -> dict:
    rule, sources = Rule(**params["rule"]), params["sources"]
    pairs_path = ctx.folder / "pairs.jsonl"
    state = ctx.load_checkpoint() or {"next": 0, "pairs_bytes": 0, "documents": [], "problems": []}
    saved = _saved_version(ctx.ws, ctx.id)
    if saved is not None:
        ctx.log(f"already saved as {saved.ref}")
        return _result(saved, state)
    if state["next"]:
        ctx.log(f"resuming at source {state['next'] + 1} of {len(sources)}")
    _cut(pairs_path, state["pairs_bytes"])  # rows written after the last checkpoint are written again
    policy = fetch_policy_for(ctx.ws, params.get("allow_private_urls", False))
    seen = {document["id"] for document in state["documents"]}
    for index in range(state["next"], len(sources)):
        ctx.check_cancelled()
        spec = sources[index]
        label = spec.get("url") or spec.get("name") or spec.get("path")
        ctx.progress(index, len(sources), f"{index + 1}/{len(sources)} {label}", force=True)
        try:
            document = _read(spec, policy)
        except ReadError as error:
            state["problems"] += [p.to_dict() for p in error.problems]
            ctx.log(f"cannot read {label}: {error}")
        else:
            if document.id in seen:
                document = Document(f"{document.id}-{index + 1}", document.source, document.kind, document.text,
                                    document.title, document.meta)
            seen.add(document.id)
            result = extract_pairs([document], rule)
            _append(pairs_path, pairs_to_rows(result.pairs, [document]))
            state["problems"] += document.meta.get("warnings", []) + [p.to_dict() for p in result.problems]
            state["documents"].append({"id": document.id, "source": document.source, "kind": document.kind,
                                       "title": document.title, "chars": len(document.text),
                                       "pairs": len(result.pairs)})
            ctx.log(f"{label}: {len(result.pairs)} pairs")
        state["next"], state["pairs_bytes"] = index + 1, _size(pairs_path)
        ctx.save_checkpoint(state)
        ctx.progress(index + 1, len(sources), f"{index + 1}/{len(sources)} {label}")
    rows = _load(pairs_path)
    if not rows:
        ctx.log("no pairs found; nothing saved")
        return {"ok": False, "ref": None, "pairs": 0, "documents": state["documents"], "problems": state["problems"]}
    from ..problems import Problem

    problems = [Problem.from_dict(p) for p in state["problems"]]
    version = save_extraction(ctx.ws, rows, params["name"], state["documents"], rule, problems,
                              extra={"job_id": ctx.id})
    ctx.log(f"saved {len(rows)} pairs as {version.ref}")
    return _result(version, state)


def _result(version, state: dict) -> dict:
    return {"ok": True, "ref": version.ref, "pairs": version.rows, "documents": state["documents"],
            "problems": state["problems"]}


def _saved_version(ws, job_id: str):
    for row in ws._query("SELECT dataset_id, number, params FROM versions WHERE op='extract'"):
        if json.loads(row["params"]).get("job_id") == job_id:
            return ws.version(row["dataset_id"], row["number"])
    return None


def _append(path: Path, rows: list[dict]) -> None:
    with open(path, "ab") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def _cut(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size > size:
        with open(path, "r+b") as handle:
            handle.truncate(size)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
