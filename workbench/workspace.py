"""The workspace: a folder of immutable dataset versions, job folders and a SQLite catalog.

Every dataset change writes a new version file (atomically) and then one catalog row; a save that
starts from a stale version is refused (optimistic versioning), so concurrent editors lose nothing.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .records import ROW_ID, SPLIT, detect_schema
from .storage import atomic_path, remove_temp_files, safe_name, slug

DEFAULT_ROOT = "workspace"
ROW_GROUP_SIZE = 50_000
ORPHAN_AGE_SECONDS = 3600  # one page of the browser table never reads more than one or two groups

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL, description TEXT DEFAULT '');
CREATE TABLE IF NOT EXISTS versions (
    dataset_id TEXT NOT NULL REFERENCES datasets(id), number INTEGER NOT NULL, parent INTEGER,
    op TEXT NOT NULL, params TEXT NOT NULL DEFAULT '{}', file TEXT NOT NULL, rows INTEGER NOT NULL,
    columns TEXT NOT NULL, splits TEXT NOT NULL DEFAULT '{}', row_schema TEXT, created_at REAL NOT NULL,
    PRIMARY KEY (dataset_id, number));
CREATE TABLE IF NOT EXISTS mappings (
    name TEXT PRIMARY KEY, mapping TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, params TEXT NOT NULL,
    state TEXT NOT NULL, pid INTEGER, pid_started REAL, created_at REAL NOT NULL, started_at REAL,
    finished_at REAL, heartbeat REAL, done REAL DEFAULT 0, total REAL, message TEXT DEFAULT '',
    result TEXT, error TEXT, cancel_requested INTEGER DEFAULT 0, attempts INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL, state TEXT NOT NULL,
    dataset_id TEXT, dataset_version INTEGER, base_model TEXT, folder TEXT, job_id TEXT, metrics TEXT);
CREATE TABLE IF NOT EXISTS inferences (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL, dataset_id TEXT, dataset_version INTEGER,
    split TEXT, folder TEXT, job_id TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL, folder TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS overrides (
    dataset_id TEXT NOT NULL, row_id TEXT NOT NULL, arm TEXT NOT NULL, metric TEXT NOT NULL,
    score REAL, winner TEXT, scale TEXT, note TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL,
    PRIMARY KEY (dataset_id, row_id, arm, metric));
"""


class StaleVersionError(Exception):
    """A save started from a version that is no longer the newest."""

    def __init__(self, dataset_id: str, parent: int, head: int):
        self.dataset_id, self.parent, self.head = dataset_id, parent, head
        super().__init__(
            f"Dataset '{dataset_id}' changed since you opened version {parent} (newest is {head}); "
            f"reload to see the new version, then apply your change again. / "
            f"数据集已被修改（你打开的是版本 {parent}，最新为版本 {head}），请刷新后重新修改。")


class NotFoundError(KeyError):
    def __str__(self):
        return str(self.args[0])


@dataclass(frozen=True)
class VersionInfo:
    dataset_id: str
    number: int
    parent: int | None
    op: str
    params: dict
    path: Path
    rows: int
    columns: list[str]
    splits: dict
    row_schema: str | None
    created_at: float

    @property
    def ref(self) -> str:
        return f"{self.dataset_id}@{self.number}"


@dataclass(frozen=True)
class DatasetInfo:
    id: str
    name: str
    created_at: float
    head: int
    rows: int
    description: str = ""
    versions: int = field(default=0)


class Workspace:
    """A workspace folder and its catalog. Cheap to construct; safe to use from several threads."""

    def __init__(self, root: str | os.PathLike = DEFAULT_ROOT, recover: bool = True):
        self.root = Path(root).expanduser().resolve()
        for sub in ("datasets", "jobs", "uploads", "staging", "exports", "models"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "catalog.sqlite"
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA_SQL)
        if recover:
            self.recover()

    # --- catalog plumbing -------------------------------------------------------------------
    @contextmanager
    def connect(self, write: bool = False):
        con = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA busy_timeout=30000")
        try:
            if write:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            else:
                yield con
        finally:
            con.close()

    def recover(self, min_age_seconds: float = ORPHAN_AGE_SECONDS) -> dict:
        """Clean up after a crash: temp files, version files the catalog never listed, dead jobs.

        Half-written files are never listed (only committed versions are in the catalog); removing
        them is disk hygiene, done only for old ones since a young one may be mid-write elsewhere.
        """
        from . import jobs

        removed = remove_temp_files(self.root / "datasets", min_age_seconds)
        known = {row["file"] for row in self._query("SELECT file FROM versions")}
        orphans = 0
        for path in (self.root / "datasets").glob("*/v*.parquet"):
            if (str(path.relative_to(self.root)) not in known
                    and time.time() - path.stat().st_mtime >= min_age_seconds):
                path.unlink(missing_ok=True)
                orphans += 1
        interrupted = jobs.mark_dead_jobs(self)
        return {"temp_files": removed, "orphan_versions": orphans, "interrupted_jobs": interrupted}

    def _query(self, sql: str, params=()) -> list[sqlite3.Row]:
        with self.connect() as con:
            return con.execute(sql, params).fetchall()

    # --- datasets and versions ---------------------------------------------------------------
    def create_dataset(self, name: str, table: pa.Table, op: str = "import", params: dict | None = None,
                       description: str = "") -> VersionInfo:
        """A new dataset whose version 1 is `table` (row ids are assigned when missing)."""
        display = " ".join(str(name).split())[:120] or "dataset"
        base = slug(safe_name(display)) if slug(display) == "dataset" else slug(display)
        table = ensure_row_ids(table)
        for attempt in range(1000):
            dataset_id = base if attempt == 0 else f"{base}-{attempt + 1}"
            if not (self.root / "datasets" / dataset_id).exists() and not self._query(
                    "SELECT 1 FROM datasets WHERE id=?", (dataset_id,)):
                break
        path = self._write_version_file(dataset_id, 1, table)
        try:
            with self.connect(write=True) as con:
                con.execute("INSERT INTO datasets(id, name, created_at, description) VALUES (?,?,?,?)",
                            (dataset_id, display, time.time(), description))
                self._insert_version(con, dataset_id, 1, None, op, params or {}, path, table)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self.version(dataset_id, 1)

    def commit_version(self, dataset_id: str, table: pa.Table, parent: int, op: str,
                       params: dict | None = None) -> VersionInfo:
        """Write `table` as the next version after `parent`; refused if `parent` is not the newest."""
        head = self.dataset(dataset_id).head
        if head != parent:
            raise StaleVersionError(dataset_id, parent, head)
        table = ensure_row_ids(table)
        path = self._write_version_file(dataset_id, parent + 1, table)
        try:
            with self.connect(write=True) as con:
                head = con.execute("SELECT MAX(number) FROM versions WHERE dataset_id=?",
                                   (dataset_id,)).fetchone()[0]
                if head != parent:
                    raise StaleVersionError(dataset_id, parent, head)
                self._insert_version(con, dataset_id, parent + 1, parent, op, params or {}, path, table)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self.version(dataset_id, parent + 1)

    def restore(self, dataset_id: str, number: int, parent: int) -> VersionInfo:
        """Make an older version the newest again, as a new version (nothing is overwritten)."""
        old = self.version(dataset_id, number)
        return self.commit_version(dataset_id, self.read(old), parent, "restore", {"from_version": number})

    def _write_version_file(self, dataset_id: str, number: int, table: pa.Table) -> Path:
        # A unique name per write: two racing writers never rename onto the same file.
        path = self.root / "datasets" / dataset_id / f"v{number:05d}-{uuid.uuid4().hex[:8]}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, compression="zstd")
        return path

    def _insert_version(self, con, dataset_id, number, parent, op, params, path, table):
        columns = [c for c in table.column_names]
        splits = {}
        if SPLIT in columns:
            counts = table.column(SPLIT).value_counts().to_pylist()
            splits = {str(item["values"]): item["counts"] for item in counts}
        con.execute(
            "INSERT INTO versions(dataset_id, number, parent, op, params, file, rows, columns, splits,"
            " row_schema, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (dataset_id, number, parent, op, json.dumps(params, ensure_ascii=False, default=str),
             str(path.relative_to(self.root)), table.num_rows, json.dumps(columns, ensure_ascii=False),
             json.dumps(splits), detect_schema(columns), time.time()))

    def datasets(self) -> list[DatasetInfo]:
        rows = self._query(
            "SELECT d.*, v.number AS head, v.rows AS rows, (SELECT COUNT(*) FROM versions x WHERE"
            " x.dataset_id=d.id) AS n FROM datasets d JOIN versions v ON v.dataset_id=d.id AND"
            " v.number=(SELECT MAX(number) FROM versions WHERE dataset_id=d.id) ORDER BY d.created_at DESC")
        return [DatasetInfo(r["id"], r["name"], r["created_at"], r["head"], r["rows"], r["description"],
                            r["n"]) for r in rows]

    def dataset(self, dataset_id: str) -> DatasetInfo:
        dataset_id = self.dataset_id_for(dataset_id)
        for info in self.datasets():
            if info.id == dataset_id:
                return info
        raise NotFoundError(f"No dataset '{dataset_id}' in {self.root} / 工作区中没有数据集“{dataset_id}”")

    def dataset_id_for(self, name: str) -> str:
        """The id a person means: the id itself, the name the dataset was given (`--name law_faq`), or the id
        that name makes (law_faq -> law-faq); anything else comes back as it is (and is then not found)."""
        name = str(name)
        if self._query("SELECT 1 FROM datasets WHERE id=?", (name,)):
            return name
        display = " ".join(name.split())
        named = [row["id"] for row in self._query("SELECT id FROM datasets WHERE name=? ORDER BY created_at",
                                                  (display,))]
        if len(named) > 1:
            raise NotFoundError(f"'{display}' names {len(named)} datasets ({', '.join(named)}); give the id / "
                                f"名为“{display}”的数据集有 {len(named)} 个（{'、'.join(named)}），请使用 id")
        if named:
            return named[0]
        made = slug(display, default="")
        if made and made != name and self._query("SELECT 1 FROM datasets WHERE id=?", (made,)):
            return made
        return name

    def versions(self, dataset_id: str) -> list[VersionInfo]:
        rows = self._query("SELECT * FROM versions WHERE dataset_id=? ORDER BY number", (dataset_id,))
        return [self._version_info(r) for r in rows]

    def version(self, dataset_id: str, number: int | None = None) -> VersionInfo:
        dataset_id = self.dataset_id_for(dataset_id)
        if number is None:
            number = self.dataset(dataset_id).head
        rows = self._query("SELECT * FROM versions WHERE dataset_id=? AND number=?", (dataset_id, number))
        if not rows:
            raise NotFoundError(f"No version {number} of dataset '{dataset_id}' / 数据集“{dataset_id}”没有版本 {number}")
        return self._version_info(rows[0])

    def resolve(self, ref: str) -> VersionInfo:
        """`name@3` or `name` (newest version) -> VersionInfo; the name may be the id or the name given at import."""
        dataset_id, _, number = str(ref).partition("@")
        return self.version(dataset_id, int(number) if number else None)

    def _version_info(self, r) -> VersionInfo:
        return VersionInfo(r["dataset_id"], r["number"], r["parent"], r["op"], json.loads(r["params"]),
                           self.root / r["file"], r["rows"], json.loads(r["columns"]), json.loads(r["splits"]),
                           r["row_schema"], r["created_at"])

    def read(self, version: VersionInfo, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(version.path, columns=columns, memory_map=True)

    # --- saved field mappings -------------------------------------------------------------------
    def save_mapping(self, name: str, mapping: dict) -> None:
        with self.connect(write=True) as con:
            con.execute("INSERT OR REPLACE INTO mappings(name, mapping, updated_at) VALUES (?,?,?)",
                        (name, json.dumps(mapping, ensure_ascii=False), time.time()))

    def mappings(self) -> dict[str, dict]:
        return {r["name"]: json.loads(r["mapping"]) for r in self._query(
            "SELECT * FROM mappings ORDER BY updated_at DESC")}

    # --- later stages list here too (filled by training and evaluation) -----------------------
    def runs(self) -> list[dict]:
        return [dict(r) for r in self._query("SELECT * FROM runs ORDER BY created_at DESC")]

    def reports(self) -> list[dict]:
        return [dict(r) for r in self._query("SELECT * FROM reports ORDER BY created_at DESC")]

    def path_for_upload(self, filename: str) -> Path:
        """Where an uploaded file is kept: a sanitized name in a fresh folder under uploads/."""
        folder = self.root / "uploads" / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        return folder / safe_name(filename)


def ensure_row_ids(table: pa.Table) -> pa.Table:
    """Give every row a stable int64 `_id` (kept across versions; new rows get fresh ids)."""
    if ROW_ID in table.column_names:
        column = table.column(ROW_ID)
        if column.null_count == 0 and pa.types.is_int64(column.type):
            return table
        raise ValueError("_id column must be int64 without nulls")
    import numpy as np

    return table.add_column(0, ROW_ID, pa.array(np.arange(table.num_rows, dtype=np.int64)))
