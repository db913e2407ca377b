"""Dataset operations: read version N, transform, write version N+1 with what produced it.

Each function here is one arrow of the flow, used alike by the pages and the CLI. A save from a
version that is no longer the newest raises `StaleVersionError` (nothing is lost or overwritten).
"""
from __future__ import annotations

import json
from pathlib import Path

from . import edit
from .mapping import FieldMapping, apply_mapping, mapping_problems
from .split import SplitConfig, split_table
from .validate import validate_table


def edit_rows(ws, version, updates: dict[int, dict]):
    table = edit.update_rows(ws.read(version), updates)
    return ws.commit_version(version.dataset_id, table, version.number, "edit_rows",
                             {"rows": sorted(int(k) for k in updates), "fields": sorted({f for v in updates.values() for f in v})})


def delete_rows(ws, version, row_ids: list[int]):
    table = edit.delete_rows(ws.read(version), row_ids)
    return ws.commit_version(version.dataset_id, table, version.number, "delete_rows",
                             {"rows": sorted(int(i) for i in row_ids)})


def add_rows(ws, version, rows: list[dict]):
    table = edit.add_rows(ws.read(version), rows)
    return ws.commit_version(version.dataset_id, table, version.number, "add_rows", {"count": len(rows)})


def validate_version(ws, version, schema: str = "auto", max_length: dict | None = None):
    return validate_table(ws.read(version), schema, file=version.ref, max_length=max_length)


def drop_invalid_rows(ws, version, schema: str = "auto"):
    """A new version without the rows that fail validation."""
    table = ws.read(version)
    report = validate_table(table, schema, file=version.ref)
    kept = edit.delete_rows(table, report.error_rows.tolist())
    return ws.commit_version(version.dataset_id, kept, version.number, "drop_invalid",
                             {"schema": report.schema, "dropped": int(len(report.error_rows)),
                              "problems": dict(report.counts)})


def map_fields(ws, version, mapping: FieldMapping, save_as: str | None = None):
    problems = [p for p in mapping_problems(version.columns, mapping) if p.severity == "error"]
    if problems:
        raise ValueError("; ".join(p.message_en for p in problems) + " / " + "；".join(p.message_zh for p in problems))
    if save_as:
        ws.save_mapping(save_as, mapping.model_dump())
    return ws.commit_version(version.dataset_id, apply_mapping(ws.read(version), mapping), version.number,
                             "map", mapping.model_dump())


def split_version(ws, version, config: SplitConfig):
    table = split_table(ws.read(version), config)
    return ws.commit_version(version.dataset_id, table, version.number, "split", config.model_dump())


def export_version(ws, version, fmt: str, split: str | None = None, out: Path | None = None) -> Path:
    """Write a version (or one split) under exports/ (or `out`); returns the file or folder."""
    from .export import export_format, export_table
    from ..storage import safe_name

    fmt = export_format(fmt) or fmt  # an unknown name is refused by export_table, with the accepted ones
    suffix = {"alpaca_json": ".json", "sharegpt_json": ".json", "jsonl": ".jsonl", "csv": ".csv"}.get(fmt, "")
    name = f"{version.dataset_id}-v{version.number}" + (f"-{split}" if split else "")
    out = out or ws.root / "exports" / safe_name(f"{name}-{fmt}{suffix}")
    return export_table(ws.read(version), fmt, Path(out), name=version.dataset_id.replace("-", "_"), split=split)


def full_stats(ws, version) -> dict | None:
    """The result of a finished `stats` job over this version (None until one has run)."""
    import json

    path = version.path.parent / f"stats-v{version.number:05d}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def readable_params(params: dict, max_items: int = 8, max_chars: int = 80) -> str:
    """A version's parameters as "key: value" lines for people (nested keys dotted, lists joined and cut short),
    where raw JSON would be hard to read; the stored parameters stay as they are."""
    lines = []

    def add(key: str, value) -> None:
        if isinstance(value, dict) and value:
            for name, item in value.items():
                add(f"{key}.{name}" if key else str(name), item)
            return
        lines.append(f"{key}: {_readable_value(value, max_items, max_chars)}")

    add("", params or {})
    return "\n".join(lines)


def _readable_value(value, max_items: int, max_chars: int) -> str:
    if value is None or value == {} or value == []:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        shown = ", ".join(_readable_value(item, max_items, max_chars) for item in value[:max_items])
        return shown + (f", … (+{len(value) - max_items})" if len(value) > max_items else "")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)[:max_chars]
    text = str(value).replace("\n", " ")
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
