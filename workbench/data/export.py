"""Write a table (or one split of it) in a training format: Alpaca/ShareGPT JSON, JSONL, CSV, HF datasets, LLaMA-Factory.

Internal columns (`_id`, `_split`, `_line`) are never written. Rows are converted batch by batch and
streamed to a temp file that is renamed into place, so a million rows never sit in one Python list
and a reader never sees half a file. Folder formats are built in a temp folder, then renamed.
- Alpaca rows: {instruction, input, output} plus `system` / `history` (nested lists) when any row has
  one; then every row has the key, so loaders that infer columns (HF json, LLaMA-Factory) see it.
  Chat rows are converted (the last user/assistant pair; earlier pairs become history).
- jsonl: Alpaca objects for Alpaca tables; a chat table keeps its own shape (its columns, with
  `messages` / `conversations` as nested lists), so a ShareGPT or OpenAI file round-trips as itself.
- csv: the user columns as stored (nested fields stay JSON text), UTF-8 with a BOM so Excel shows
  Chinese correctly.
- hf_datasets: Alpaca columns (history nested) or, for chat tables, OpenAI `messages`
  ([{role, content}], what TRL reads); a DatasetDict by split when the table has `_split`.
"""
from __future__ import annotations

import os
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..records import (ALPACA_FIELDS, CHAT_FIELDS, INTERNAL_COLUMNS, JSON_FIELDS, SPLIT, SPLITS, detect_schema,
                       load_json_field, messages_to_alpaca, messages_to_sharegpt, row_messages)
from ..storage import TMP_PREFIX, atomic_path, safe_name, write_json_atomic, write_text_atomic

EXPORT_FORMATS = ("alpaca_json", "jsonl", "sharegpt_json", "csv", "hf_datasets", "llamafactory")
FOLDER_FORMATS = ("hf_datasets", "llamafactory")
# Short names people type; each names one format ("json" would be Alpaca or ShareGPT, so it is not one).
FORMAT_ALIASES = {"alpaca": "alpaca_json", "sharegpt": "sharegpt_json", "hf": "hf_datasets",
                  "datasets": "hf_datasets", "huggingface": "hf_datasets", "llama_factory": "llamafactory"}
BATCH_ROWS = 10_000  # rows converted to Python at a time
UTF8_BOM = b"\xef\xbb\xbf"
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}


def export_table(table: pa.Table, fmt: str, out_path: Path, name: str = "dataset", split: str | None = None) -> Path:
    """Write `table` (only rows of `split` when given) as `fmt` to `out_path` (a file, or a folder for
    hf_datasets / llamafactory); returns `out_path`."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; choose one of {', '.join(EXPORT_FORMATS)} / "
                         f"未知的导出格式“{fmt}”；可选：{'、'.join(EXPORT_FORMATS)}")
    table = select_split(table, split)
    out_path = Path(out_path)
    if fmt == "csv":
        with atomic_path(out_path) as tmp:
            _write_csv(table, tmp)
    elif fmt in FOLDER_FORMATS:
        writer = _save_hf_datasets if fmt == "hf_datasets" else _write_llamafactory
        _write_folder(out_path, lambda folder: writer(table, folder, safe_name(name, "dataset")))
    else:
        schema = _schema(table, fmt)
        if fmt == "alpaca_json":
            batches = alpaca_batches(table, schema)
        elif fmt == "sharegpt_json":
            batches = sharegpt_batches(table, schema)
        else:
            batches = alpaca_batches(table, schema) if schema == "alpaca" else native_batches(table)
        with atomic_path(out_path) as tmp:
            (_write_jsonl if fmt == "jsonl" else _write_json_array)(tmp, batches)
    return out_path


def export_format(name: str) -> str | None:
    """The format a typed name means (case, '-' or '_' and the short names above alike); None when none."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return key if key in EXPORT_FORMATS else FORMAT_ALIASES.get(key)


def left_out_fields(columns, fmt: str) -> list[str]:
    """The user columns that `fmt` does not write (a template's `prompt`, a label, a note), to tell the user before
    exporting: Alpaca-shaped output keeps only the Alpaca fields, chat-shaped output only the conversation; CSV
    keeps every column, and so does JSONL for a chat table (its own shape). A table the format refuses: []."""
    users = [c for c in columns if c not in INTERNAL_COLUMNS]
    schema = detect_schema(users)
    if fmt == "csv" or schema is None or (fmt == "jsonl" and schema == "chat"):
        return []
    carried = ALPACA_FIELDS if schema == "alpaca" else CHAT_FIELDS
    return [c for c in users if c not in carried]


def select_split(table: pa.Table, split: str | None) -> pa.Table:
    """Only the rows of one split, or the whole table when `split` is None."""
    if split is None:
        return table
    if SPLIT not in table.column_names:
        raise ValueError(f"the table has no _split column, so split '{split}' cannot be exported; split it "
                         f"first / 数据表没有 _split 列，无法导出“{split}”划分，请先划分数据集")
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; splits are {', '.join(SPLITS)} / "
                         f"未知的划分“{split}”；可选：{'、'.join(SPLITS)}")
    return table.filter(pc.equal(table.column(SPLIT), split))


def user_columns(table: pa.Table) -> list[str]:
    return [c for c in table.column_names if c not in INTERNAL_COLUMNS]


def _schema(table: pa.Table, fmt: str) -> str | None:
    schema = detect_schema(user_columns(table))
    if schema is None and fmt != "jsonl":
        raise ValueError(f"columns {user_columns(table)} are neither Alpaca (instruction, output) nor chat "
                         f"(messages or conversations); map the columns first / 列 {user_columns(table)} 既不是 "
                         f"Alpaca 格式（instruction、output）也不是对话格式（messages 或 conversations）；请先映射列")
    return schema


# --- rows as Python objects, a batch (list) at a time ---------------------------------------------------

def _batches(table: pa.Table) -> Iterator[pa.RecordBatch]:
    yield from table.select(user_columns(table)).to_batches(max_chunksize=BATCH_ROWS)


def alpaca_batches(table: pa.Table, schema: str | None = None,
                   optional: set[str] | None = None) -> Iterator[list[dict]]:
    """Alpaca objects; `system` / `history` only when some row has one (then in every row).

    `optional` overrides which of the two are written, so every split file gets the same keys.
    """
    schema = schema or _schema(table, "alpaca_json")
    if optional is None:
        optional = optional_fields(table, schema)
    keys = ["instruction", "input", "output"] + [key for key in ("system", "history") if key in optional]
    for batch in _batches(table):
        if schema == "alpaca":  # column by column in Arrow; only history is parsed row by row
            yield _alpaca_arrow(pa.Table.from_batches([batch]), optional).to_pylist()
        else:
            records = [messages_to_alpaca(row_messages(row)) for row in batch.to_pylist()]
            yield [{key: record[key] for key in keys} for record in records]


def sharegpt_batches(table: pa.Table, schema: str | None = None,
                     with_system: bool | None = None) -> Iterator[list[dict]]:
    """ShareGPT objects ({conversations: [{from, value}]}); `system` in every row when any row has one."""
    schema = schema or _schema(table, "sharegpt_json")
    if with_system is None:
        with_system = "system" in optional_fields(table, schema)
    for batch in _batches(table):
        records = [messages_to_sharegpt(row_messages(row)) for row in batch.to_pylist()]
        if with_system:
            for record in records:
                record.setdefault("system", "")
        yield records


def native_batches(table: pa.Table) -> Iterator[list[dict]]:
    """Rows in the table's own shape, nested JSON fields parsed back into lists."""
    for batch in _batches(table):
        yield [{key: load_json_field(value) if key in JSON_FIELDS else value for key, value in row.items()}
               for row in batch.to_pylist()]


def messages_batches(table: pa.Table) -> Iterator[list[dict]]:
    """{"messages": [{role, content}, ...]} per row (OpenAI format)."""
    for batch in _batches(table):
        yield [{"messages": [{"role": m["role"], "content": m["content"] or ""} for m in row_messages(row)]}
               for row in batch.to_pylist()]


def optional_fields(table: pa.Table, schema: str) -> set[str]:
    """Which of system/history hold something in any row (as Alpaca; ShareGPT only uses system)."""
    if schema != "alpaca":
        return _keys_in_use(table, ("system", "history"))
    present = set()  # vectorized for Alpaca tables
    for column, empty in (("system", [""]), ("history", ["", "[]"])):
        if column in table.column_names:
            text = pc.utf8_trim_whitespace(pc.cast(table.column(column), pa.string()))
            if pc.any(pc.invert(pc.is_in(text, pa.array(empty)))).as_py():  # nulls stay null: not counted
                present.add(column)
    return present


def _keys_in_use(table: pa.Table, keys: tuple[str, ...]) -> set[str]:
    # Chat rows must be converted to know; one extra pass, stopping early once every key is seen.
    found = set()
    for batch in _batches(table):
        for row in batch.to_pylist():
            record = messages_to_alpaca(row_messages(row))
            found |= {key for key in keys if record.get(key)}
        if len(found) == len(keys):
            break
    return found


# --- writers -------------------------------------------------------------------------------------------

def _write_json_array(path: Path, batches) -> int:
    """An indented JSON array (as LLaMA-Factory's own files), written a batch at a time; returns the rows."""
    count = 0
    with open(path, "wb") as handle:
        handle.write(b"[")
        for records in batches:
            if records:
                # One dumps call per batch (far faster than per row); orjson writes non-ASCII as is
                # (what ensure_ascii=False gives). Strip the batch's own "[" and "\n]" to splice it in.
                text = orjson.dumps(records, option=orjson.OPT_INDENT_2)[1:-2]
                handle.write(text if count == 0 else b"," + text)
                count += len(records)
        handle.write(b"\n]\n" if count else b"]\n")
    return count


def _write_jsonl(path: Path, batches) -> int:
    count = 0
    with open(path, "wb") as handle:
        for records in batches:
            handle.write(b"".join(orjson.dumps(record) + b"\n" for record in records))
            count += len(records)
    return count


def _write_csv(table: pa.Table, path: Path) -> None:
    import pyarrow.csv as csv

    with open(path, "wb") as handle:
        handle.write(UTF8_BOM)  # Excel reads a BOM-less UTF-8 CSV as the local code page (GBK on Chinese Windows)
        csv.write_csv(table.select(user_columns(table)), handle, csv.WriteOptions(batch_size=BATCH_ROWS))


def _write_folder(out_path: Path, build: Callable[[Path], None]) -> None:
    """Build a folder export beside `out_path`, then swap it in; a failed build leaves nothing behind."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}-{out_path.name}"
    old = out_path.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}-old-{out_path.name}"
    try:
        tmp.mkdir()
        build(tmp)
        if out_path.exists():
            os.replace(out_path, old)
        os.replace(tmp, out_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _split_parts(table: pa.Table) -> list[tuple[str | None, pa.Table]]:
    """(split, rows) for each non-empty split, or [(None, table)] when the table is not split."""
    if SPLIT not in table.column_names:
        return [(None, table)]
    assigned = pc.sum(pc.is_in(table.column(SPLIT), pa.array(SPLITS))).as_py() or 0
    unassigned = table.num_rows - assigned
    if unassigned:
        raise ValueError(f"{unassigned} rows have no train/validation/test split; split the dataset again / "
                         f"有 {unassigned} 行没有划分到 train/validation/test；请重新划分数据集")
    parts = [(name, select_split(table, name)) for name in SPLITS]
    return [(name, part) for name, part in parts if part.num_rows]


def _save_hf_datasets(table: pa.Table, folder: Path, name: str) -> None:
    import datasets

    schema = _schema(table, "hf_datasets")
    optional = optional_fields(table, schema)
    built = {}
    for split, part in _split_parts(table):
        arrow = _alpaca_arrow(part, optional) if schema == "alpaca" else _messages_arrow(part)
        built[split] = datasets.Dataset(arrow, split=split)  # an in-memory Arrow table: no cache files
    if None in built:
        built[None].save_to_disk(str(folder))
    else:
        datasets.DatasetDict(built).save_to_disk(str(folder))


def _alpaca_arrow(table: pa.Table, optional: set[str]) -> pa.Table:
    """Alpaca columns (nulls as "", history as nested lists) as an Arrow table."""
    keys = ["instruction", "input", "output"] + [key for key in ("system", "history") if key in optional]
    arrays = []
    for key in keys:
        if key == "history":
            values = [load_json_field(value) for value in table.column(key).to_pylist()]
            arrays.append(pa.array(values, pa.list_(pa.list_(pa.string()))))
        elif key in table.column_names:
            arrays.append(pc.fill_null(pc.cast(table.column(key), pa.string()), ""))
        else:
            arrays.append(pa.repeat(pa.scalar("", pa.string()), table.num_rows))
    return pa.Table.from_arrays(arrays, names=keys)


def _messages_arrow(table: pa.Table) -> pa.Table:
    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    schema = pa.schema([("messages", pa.list_(message))])
    batches = [pa.RecordBatch.from_pylist(records, schema=schema) for records in messages_batches(table)]
    return pa.Table.from_batches(batches, schema=schema)


# --- LLaMA-Factory ---------------------------------------------------------------------------------------

def _write_llamafactory(table: pa.Table, folder: Path, name: str) -> None:
    """`<name>_<split>.json` files, `dataset_info.json` describing them, and a README on how to train."""
    schema = _schema(table, "llamafactory")
    # Decided over the whole table, so every split file has the keys its dataset_info entry names.
    optional = optional_fields(table, schema)
    if schema == "alpaca":
        columns = {"prompt": "instruction", "query": "input", "response": "output"}
        columns.update({key: key for key in ("system", "history") if key in optional})
        entry = {"formatting": "alpaca", "columns": columns}
    else:
        columns = {"messages": "conversations", **({"system": "system"} if "system" in optional else {})}
        entry = {"formatting": "sharegpt", "columns": columns, "tags": dict(SHAREGPT_TAGS)}
    info = {}
    for split, part in _split_parts(table):
        dataset = f"{name}_{split or 'train'}"
        batches = (alpaca_batches(part, schema, optional) if schema == "alpaca"
                   else sharegpt_batches(part, schema, "system" in optional))
        with atomic_path(folder / f"{dataset}.json") as tmp:
            _write_json_array(tmp, batches)
        info[dataset] = {"file_name": f"{dataset}.json", **entry}
    write_json_atomic(folder / "dataset_info.json", info)
    write_text_atomic(folder / "README.md", _llamafactory_readme(name, list(info)))


def _llamafactory_readme(name: str, datasets: list[str]) -> str:
    train = next((d for d in datasets if d.endswith("_train")), datasets[0] if datasets else f"{name}_train")
    evaluation = next((d for d in datasets if d.endswith("_validation")), None)
    lines = [
        f"# {name} for LLaMA-Factory", "",
        "Exported by Workbench. `dataset_info.json` describes every file here, so point LLaMA-Factory at",
        "this folder and name the dataset(s) in your training YAML:", "",
        "```yaml", "dataset_dir: /path/to/this/folder", f"dataset: {train}",
        *([f"eval_dataset: {evaluation}"] if evaluation else []), "```", "",
        "Files: " + ", ".join(f"`{d}.json`" for d in datasets), "",
        f"用法：在 LLaMA-Factory 的训练 YAML 中设置 `dataset_dir` 为本文件夹，`dataset: {train}`"
        + (f"，验证集 `eval_dataset: {evaluation}`" if evaluation else "") + "。", "",
    ]
    return "\n".join(lines)


def export_zip(folder: Path, zip_path: Path | None = None) -> Path:
    """Zip a folder export for download (default `<folder>.zip` beside it); returns the zip's path."""
    folder = Path(folder)
    zip_path = Path(zip_path) if zip_path else folder.with_name(folder.name + ".zip")
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(folder.name) / path.relative_to(folder))
    return zip_path


MIME_TYPES = {".json": "application/json", ".jsonl": "application/x-ndjson", ".csv": "text/csv",
              ".zip": "application/zip"}


def download_payload(path: str | Path) -> tuple[str, bytes, str]:
    """(file name, bytes, mime type) to offer an export for download; a folder is zipped first."""
    path = Path(path)
    if path.is_dir():
        path = export_zip(path)
    return path.name, path.read_bytes(), MIME_TYPES.get(path.suffix, "application/octet-stream")
