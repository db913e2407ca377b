"""Each dataset operation reads version N and writes an immutable version N+1 that records what made it.

Real workspaces (SQLite catalog + Parquet files), the bundled sample (37 product reviews) and the real
huanhuan dataset (3,729 Alpaca rows).
"""
import csv
import hashlib
import io
import json
import threading
import zipfile
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest

from tests.conftest import HUANHUAN
from workbench.data import operations
from workbench.data.export import EXPORT_FORMATS, FOLDER_FORMATS, download_payload
from workbench.data.importer import commit_staged, stage_file
from workbench.data.mapping import FieldMapping
from workbench.data.split import SplitConfig
from workbench.records import SPLITS
from workbench.samples import SAMPLE_CSV, SAMPLE_MAPPING, load_sample
from workbench.workspace import StaleVersionError, Workspace

SAMPLE_COLUMNS = ["prompt", "text", "label", "lang"]


@pytest.fixture
def sample(ws):
    return load_sample(ws)


@pytest.fixture
def huanhuan(ws):
    staged = stage_file(ws, HUANHUAN)
    return commit_staged(ws, staged.id, "huanhuan 甄嬛")


@pytest.fixture
def mapped(ws, sample):
    return operations.map_fields(ws, sample, FieldMapping(**SAMPLE_MAPPING))


def sample_csv_rows() -> list[dict]:
    with open(SAMPLE_CSV, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def huanhuan_source() -> list[dict]:
    return json.loads(HUANHUAN.read_text(encoding="utf-8"))


class Snapshot:
    """A version's file bytes, rows and catalog entry, to prove an operation left it untouched."""

    def __init__(self, ws, version):
        self.ws, self.version = ws, version
        self.digest = hashlib.sha256(version.path.read_bytes()).hexdigest()
        self.rows = pq.read_table(version.path).to_pylist()

    def assert_unchanged(self):
        version = self.version
        assert hashlib.sha256(version.path.read_bytes()).hexdigest() == self.digest
        assert pq.read_table(version.path).to_pylist() == self.rows
        assert self.ws.version(version.dataset_id, version.number) == version  # catalog row too


def parquet_files(version) -> list[str]:
    return sorted(p.name for p in version.path.parent.iterdir() if p.suffix == ".parquet")


def rows_by_id(ws, version) -> dict[int, dict]:
    return {row["_id"]: row for row in ws.read(version).to_pylist()}


def assert_new_version(new, parent, op):
    assert (new.dataset_id, new.number, new.parent, new.op) == (parent.dataset_id, parent.number + 1,
                                                                 parent.number, op)
    assert new.path != parent.path and new.path.exists()


# --- the data under test ---------------------------------------------------------------------------------

def test_sample_imports_as_version_one_with_its_mapping(ws, sample):
    source = sample_csv_rows()
    assert len(source) == 37
    assert (sample.number, sample.parent, sample.op, sample.rows) == (1, None, "import", 37)
    assert sample.row_schema is None  # prompt,text,label,lang needs a mapping first
    rows = ws.read(sample).to_pylist()
    assert [row["_id"] for row in rows] == list(range(37))
    assert [{c: row[c] for c in SAMPLE_COLUMNS} for row in rows] == source
    assert ws.mappings()["product-reviews (sample)"] == SAMPLE_MAPPING


def test_huanhuan_imports_every_row(ws, huanhuan):
    assert (huanhuan.rows, huanhuan.row_schema) == (3729, "alpaca")
    rows = ws.read(huanhuan, ["instruction", "input", "output"]).to_pylist()
    assert rows == huanhuan_source()


# --- edit / delete / add -----------------------------------------------------------------------------------

def test_edit_rows_writes_a_new_version_and_keeps_the_parent(ws, sample):
    before = Snapshot(ws, sample)
    new = operations.edit_rows(ws, sample, {10: {"label": "负面"}, 3: {"text": "改过的评论", "label": "正面"}})
    assert_new_version(new, sample, "edit_rows")
    assert new.params == {"rows": [3, 10], "fields": ["label", "text"]}
    before.assert_unchanged()
    old, edited = rows_by_id(ws, sample), rows_by_id(ws, new)
    assert list(edited) == list(old)  # same ids, same order
    assert edited[3] == {**old[3], "text": "改过的评论", "label": "正面"}
    assert edited[10] == {**old[10], "label": "负面"}
    assert all(edited[i] == old[i] for i in old if i not in (3, 10))
    assert ws.dataset(sample.dataset_id).head == 2


def test_edit_rows_stores_text_and_null(ws, huanhuan):
    new = operations.edit_rows(ws, huanhuan, {0: {"input": None}, 1: {"output": ["不是文本", 1]}})
    rows = rows_by_id(ws, new)
    assert rows[0]["input"] is None
    assert rows[1]["output"] == '["不是文本",1]'  # cells stay text: JSON for anything else


@pytest.mark.parametrize("updates", [{9999: {"text": "x"}}, {1: {"no_such_column": "x"}}, {1: {"_id": 5}}])
def test_bad_edit_raises_and_writes_nothing(ws, sample, updates):
    before = Snapshot(ws, sample)
    with pytest.raises(ValueError):
        operations.edit_rows(ws, sample, updates)
    assert [v.number for v in ws.versions(sample.dataset_id)] == [1]
    assert parquet_files(sample) == [sample.path.name]
    before.assert_unchanged()


def test_delete_rows_keeps_the_other_ids_in_order(ws, huanhuan):
    before = Snapshot(ws, huanhuan)
    new = operations.delete_rows(ws, huanhuan, [3728, 100, 0])
    assert_new_version(new, huanhuan, "delete_rows")
    assert new.params == {"rows": [0, 100, 3728]}
    assert new.rows == 3726
    assert ws.read(new, ["_id"]).column("_id").to_pylist() == [i for i in range(3729) if i not in (0, 100, 3728)]
    source = huanhuan_source()
    kept = ws.read(new, ["instruction", "output"]).to_pylist()
    assert kept == [{"instruction": r["instruction"], "output": r["output"]}
                    for i, r in enumerate(source) if i not in (0, 100, 3728)]
    before.assert_unchanged()


def test_add_rows_gets_fresh_ids(ws, sample):
    before = Snapshot(ws, sample)
    rows = [{"prompt": "判断情感", "text": "还行吧", "label": "中性", "lang": "zh"},
            {"_id": 0, "_line": 2, "text": "copied row", "label": "neutral"}]  # its _id and _line are ignored
    new = operations.add_rows(ws, sample, rows)
    assert_new_version(new, sample, "add_rows")
    assert (new.params, new.rows) == ({"count": 2}, 39)
    table = ws.read(new).to_pylist()
    assert [row["_id"] for row in table] == list(range(39))
    assert table[:37] == ws.read(sample).to_pylist()
    assert table[37] == {"_id": 37, "_line": None, "prompt": "判断情感", "text": "还行吧", "label": "中性", "lang": "zh"}
    assert table[38] == {"_id": 38, "_line": None, "prompt": None, "text": "copied row", "label": "neutral",
                         "lang": None}
    before.assert_unchanged()


def test_deleted_last_id_is_never_reused_across_versions(ws, sample):
    """The id high-water mark travels in the Parquet file, so a new row is never mistaken for an old one."""
    without_last = operations.delete_rows(ws, sample, [36, 35])
    reread = Workspace(ws.root).version(sample.dataset_id)  # a fresh session reads it from disk
    added = operations.add_rows(ws, reread, [{"text": "new"}])
    assert without_last.number + 1 == added.number
    assert ws.read(added).column("_id").to_pylist()[-1] == 37


def test_add_rows_with_an_unknown_column_writes_nothing(ws, sample):
    with pytest.raises(ValueError, match="no_such_column"):
        operations.add_rows(ws, sample, [{"no_such_column": "x"}])
    assert len(ws.versions(sample.dataset_id)) == 1 and parquet_files(sample) == [sample.path.name]


# --- validate / drop invalid ----------------------------------------------------------------------------------

def test_validate_version_clean_real_data(ws, huanhuan):
    report = operations.validate_version(ws, huanhuan)
    assert (report.schema, report.total_rows, report.ok, len(report.error_rows)) == ("alpaca", 3729, True, 0)
    long_outputs = sum(len(row["output"]) > 50 for row in huanhuan_source())
    assert long_outputs > 0
    report = operations.validate_version(ws, huanhuan, max_length={"output": 50})
    assert report.counts["too_long"] == long_outputs
    assert report.ok  # too long is a warning, not an error
    assert all(p.file == "huanhuan@1" for p in report.problems)


def test_validate_version_unmapped_sample_as_alpaca_lists_missing_columns(ws, sample):
    report = operations.validate_version(ws, sample, schema="alpaca")
    assert not report.ok
    assert {p.field for p in report.problems if p.code == "missing_column"} == {"instruction", "output"}
    assert len(ws.versions(sample.dataset_id)) == 1  # validating never writes a version


def test_drop_invalid_rows_removes_exactly_the_broken_rows(ws, huanhuan):
    broken = operations.edit_rows(ws, huanhuan, {5: {"output": "   "}, 7: {"instruction": None},
                                                 3000: {"output": ""}})
    before = Snapshot(ws, broken)
    report = operations.validate_version(ws, broken)
    assert sorted(report.error_rows.tolist()) == [5, 7, 3000]
    cleaned = operations.drop_invalid_rows(ws, broken)
    assert_new_version(cleaned, broken, "drop_invalid")
    assert cleaned.params == {"schema": "alpaca", "dropped": 3,
                              "problems": {"empty_value": 2, "missing_field": 1}}
    ids = ws.read(cleaned, ["_id"]).column("_id").to_pylist()
    assert ids == [i for i in range(3729) if i not in (5, 7, 3000)]
    assert operations.validate_version(ws, cleaned).ok
    before.assert_unchanged()
    assert ws.read(ws.version(huanhuan.dataset_id, 1)).num_rows == 3729  # undo = pick version 1


def test_drop_invalid_rows_on_clean_data_keeps_every_row(ws, huanhuan):
    cleaned = operations.drop_invalid_rows(ws, huanhuan)
    assert (cleaned.params["dropped"], cleaned.rows) == (0, 3729)
    assert ws.read(cleaned).to_pylist() == ws.read(huanhuan).to_pylist()


# --- map ------------------------------------------------------------------------------------------------

def test_map_fields_renames_columns_and_saves_the_mapping(ws, sample):
    before = Snapshot(ws, sample)
    mapping = FieldMapping(instruction="prompt", input="text", output="label", keep_other_columns=True)
    new = operations.map_fields(ws, sample, mapping, save_as="评论分类")
    assert_new_version(new, sample, "map")
    assert new.params == mapping.model_dump()
    assert ws.mappings()["评论分类"] == mapping.model_dump()
    assert FieldMapping(**ws.mappings()["评论分类"]) == mapping  # loads back as the same mapping
    assert new.row_schema == "alpaca"
    assert new.columns == ["_id", "_line", "instruction", "input", "output", "lang"]
    old, mapped = rows_by_id(ws, sample), rows_by_id(ws, new)
    assert list(mapped) == list(old)
    for row_id, row in old.items():
        assert mapped[row_id] == {"_id": row_id, "_line": row["_line"], "instruction": row["prompt"],
                                  "input": row["text"], "output": row["label"], "lang": row["lang"]}
    before.assert_unchanged()


def test_map_fields_with_fixed_text_and_without_saving(ws, sample):
    mapping = FieldMapping(input="text", output="label", constants={"instruction": "这条评论是什么情感？"})
    new = operations.map_fields(ws, sample, mapping)
    assert new.columns == ["_id", "_line", "instruction", "input", "output"]
    assert set(ws.read(new).column("instruction").to_pylist()) == {"这条评论是什么情感？"}
    assert list(ws.mappings()) == ["product-reviews (sample)"]  # only the sample's own


@pytest.mark.parametrize("mapping", [FieldMapping(instruction="prompt", output="no_such_column"),
                                     FieldMapping(instruction="prompt", input="text")])  # no output at all
def test_map_fields_refuses_a_broken_mapping_without_saving_anything(ws, sample, mapping):
    with pytest.raises(ValueError) as error:
        operations.map_fields(ws, sample, mapping, save_as="broken")
    assert "output" in str(error.value) and "“output”" in str(error.value)  # English and Chinese
    assert "broken" not in ws.mappings()
    assert len(ws.versions(sample.dataset_id)) == 1 and parquet_files(sample) == [sample.path.name]


# --- split ------------------------------------------------------------------------------------------------

def split_of(ws, version) -> dict[int, str]:
    return {row["_id"]: row["_split"] for row in ws.read(version, ["_id", "_split"]).to_pylist()}


def assert_sizes_near(counts: dict, total: int, config: SplitConfig, slack: float = 1):
    for name in SPLITS:
        assert abs(counts.get(name, 0) - total * getattr(config, name)) <= slack, (name, counts)
    assert sum(counts.values()) == total


def test_split_version_stratified_keeps_label_balance(ws, mapped):
    before = Snapshot(ws, mapped)
    config = SplitConfig(train=0.6, validation=0.2, test=0.2, seed=7, stratify="output")
    new = operations.split_version(ws, mapped, config)
    assert_new_version(new, mapped, "split")
    assert new.params == config.model_dump() and new.params["stratify"] == "output"
    rows = ws.read(new).to_pylist()
    assert [r["_id"] for r in rows] == list(range(37))
    assert [{k: v for k, v in r.items() if k != "_split"} for r in rows] == ws.read(mapped).to_pylist()
    counts = Counter(r["_split"] for r in rows)
    assert new.splits == dict(counts)  # the catalog lists the real sizes
    assert_sizes_near(counts, 37, config)
    by_label = defaultdict(Counter)
    for row in rows:
        by_label[row["output"]][row["_split"]] += 1
    assert len(by_label) == 6
    for label, per_split in by_label.items():
        assert_sizes_near(per_split, sum(per_split.values()), config)
        assert per_split["train"] >= 3  # every label (5 to 7 rows) is in train
    before.assert_unchanged()


def test_split_version_grouped_keeps_groups_together(ws, huanhuan):
    """Repeated prompts ("你是谁？" 51 times) never straddle train and test."""
    config = SplitConfig(train=0.8, validation=0.1, test=0.1, seed=1, group="instruction")
    new = operations.split_version(ws, huanhuan, config)
    splits_of_group = defaultdict(set)
    for row in ws.read(new, ["instruction", "_split"]).to_pylist():
        splits_of_group[row["instruction"]].add(row["_split"])
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    largest_group = max(Counter(r["instruction"] for r in huanhuan_source()).values())
    assert_sizes_near(new.splits, 3729, config, slack=largest_group)


def test_split_version_grouped_and_stratified(ws, mapped):
    config = SplitConfig(train=0.5, validation=0.25, test=0.25, seed=3, group="lang", stratify="output")
    new = operations.split_version(ws, mapped, config)
    split_of_lang = defaultdict(set)
    for row in ws.read(new, ["lang", "_split"]).to_pylist():
        split_of_lang[row["lang"]].add(row["_split"])
    assert {lang: len(s) for lang, s in split_of_lang.items()} == {"zh": 1, "en": 1}
    assert new.params["group"] == "lang" and new.params["stratify"] == "output"


def test_split_version_is_seeded_and_resplitting_replaces_the_split(ws, mapped):
    config = SplitConfig(seed=11)
    first = operations.split_version(ws, mapped, config)
    again = operations.split_version(ws, first, config)
    other = operations.split_version(ws, again, SplitConfig(seed=12))
    assert split_of(ws, again) == split_of(ws, first)
    assert split_of(ws, other) != split_of(ws, first)
    assert ws.read(other).column_names.count("_split") == 1
    assert [v.op for v in ws.versions(mapped.dataset_id)] == ["import", "map", "split", "split", "split"]


def test_split_version_unknown_column_writes_nothing(ws, mapped):
    with pytest.raises(ValueError, match="nope"):
        operations.split_version(ws, mapped, SplitConfig(stratify="nope"))
    assert ws.dataset(mapped.dataset_id).head == mapped.number
    assert parquet_files(mapped) == sorted(p.path.name for p in ws.versions(mapped.dataset_id))


# --- stale versions: two sessions on the same version ------------------------------------------------------

# operation -> (the op name its version records, a call from a given version)
STALE_OPERATIONS = {
    "edit_rows": ("edit_rows", lambda ws, v: operations.edit_rows(ws, v, {1: {"output": "session B"}})),
    "delete_rows": ("delete_rows", lambda ws, v: operations.delete_rows(ws, v, [2])),
    "add_rows": ("add_rows", lambda ws, v: operations.add_rows(ws, v, [{"instruction": "q", "output": "a"}])),
    "drop_invalid_rows": ("drop_invalid", lambda ws, v: operations.drop_invalid_rows(ws, v)),
    "map_fields": ("map", lambda ws, v: operations.map_fields(
        ws, v, FieldMapping(instruction="output", output="instruction"))),
    "split_version": ("split", lambda ws, v: operations.split_version(ws, v, SplitConfig())),
}


@pytest.mark.parametrize("operation", sorted(STALE_OPERATIONS))
def test_second_session_saving_a_stale_version_is_refused_and_nothing_is_lost(ws, huanhuan, operation):
    session_a = ws
    session_b = Workspace(ws.root)  # another browser tab: its own catalog connection
    opened_by_b = session_b.version(huanhuan.dataset_id)
    saved_by_a = operations.edit_rows(session_a, session_a.version(huanhuan.dataset_id), {1: {"output": "session A"}})
    a_snapshot, base_snapshot = Snapshot(ws, saved_by_a), Snapshot(ws, huanhuan)
    op_name, apply = STALE_OPERATIONS[operation]
    with pytest.raises(StaleVersionError) as error:
        apply(session_b, opened_by_b)
    assert (error.value.parent, error.value.head) == (1, 2)
    assert [v.number for v in ws.versions(huanhuan.dataset_id)] == [1, 2]
    assert parquet_files(huanhuan) == sorted([huanhuan.path.name, saved_by_a.path.name])  # no stray file
    a_snapshot.assert_unchanged()
    base_snapshot.assert_unchanged()
    # B reloads and applies the change again on top of A's.
    retried = apply(session_b, session_b.version(huanhuan.dataset_id))
    assert (retried.number, retried.parent, retried.op) == (3, 2, op_name)
    if operation != "map_fields":  # A's edit survives B's change
        assert rows_by_id(ws, retried)[1]["output"] == ("session B" if operation == "edit_rows" else "session A")


def test_concurrent_saves_from_one_version_exactly_one_wins(ws, sample):
    results, barrier = [], threading.Barrier(6)

    def save(row_id):
        barrier.wait()
        try:
            results.append(operations.edit_rows(Workspace(ws.root), sample, {row_id: {"text": f"by {row_id}"}}))
        except Exception as error:  # noqa: BLE001 - anything but a stale refusal fails the assertion below, named
            results.append(error)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1 and sum(isinstance(r, StaleVersionError) for r in results) == 5, results
    assert [v.number for v in ws.versions(sample.dataset_id)] == [1, 2]
    assert len(parquet_files(sample)) == 2
    changed = [i for i, row in rows_by_id(ws, winners[0]).items() if row["text"].startswith("by ")]
    assert len(changed) == 1


# --- export -----------------------------------------------------------------------------------------------

@pytest.fixture
def split_sample(ws, mapped):
    return operations.split_version(ws, mapped, SplitConfig(train=0.6, validation=0.2, test=0.2, stratify="output"))


def read_export(path, fmt) -> dict[str | None, list[dict]]:
    """Rows of an export by split (None when the file holds every split)."""
    if fmt == "alpaca_json" or fmt == "sharegpt_json":
        return {None: json.loads(path.read_text(encoding="utf-8"))}
    if fmt == "jsonl":
        return {None: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]}
    if fmt == "csv":
        text = path.read_bytes().decode("utf-8-sig")
        return {None: list(csv.DictReader(io.StringIO(text)))}
    if fmt == "hf_datasets":
        import datasets

        loaded = datasets.load_from_disk(str(path))
        return {name: loaded[name].to_list() for name in loaded}
    info = json.loads((path / "dataset_info.json").read_text(encoding="utf-8"))
    return {name.rsplit("_", 1)[1]: json.loads((path / entry["file_name"]).read_text(encoding="utf-8"))
            for name, entry in info.items()}


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_version_every_format(ws, split_sample, fmt):
    before = Snapshot(ws, split_sample)
    path = operations.export_version(ws, split_sample, fmt)
    assert path.parent == ws.root / "exports" and path.exists()
    assert path.is_dir() == (fmt in FOLDER_FORMATS)
    assert str(split_sample.number) in path.name and split_sample.dataset_id in path.name
    exported = read_export(path, fmt)
    source = ws.read(split_sample).to_pylist()
    if fmt in FOLDER_FORMATS:  # one part per split, sized as the catalog says
        assert {name: len(rows) for name, rows in exported.items()} == split_sample.splits
    rows = [row for part in exported.values() for row in part]
    assert len(rows) == 37
    assert not any(key.startswith("_") for row in rows for key in row)
    if fmt == "sharegpt_json":
        prompts = sorted(row["conversations"][0]["value"] for row in rows)
        answers = sorted(row["conversations"][1]["value"] for row in rows)
        assert prompts == sorted(f"{r['instruction']}\n{r['input']}" for r in source)
    elif fmt == "csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Chinese right
        assert rows == [{k: r[k] for k in ("instruction", "input", "output", "lang")} for r in source]
        answers = sorted(row["output"] for row in rows)
    else:
        assert sorted((r["instruction"], r["input"]) for r in rows) == sorted(
            (r["instruction"], r["input"]) for r in source)
        answers = sorted(row["output"] for row in rows)
    assert answers == sorted(r["output"] for r in source)
    before.assert_unchanged()
    assert len(ws.versions(split_sample.dataset_id)) == 3  # exporting writes no version


def test_export_version_one_split(ws, split_sample):
    path = operations.export_version(ws, split_sample, "jsonl", split="test")
    assert "-test-" in path.name and path.suffix == ".jsonl"
    test_rows = [r for r in ws.read(split_sample).to_pylist() if r["_split"] == "test"]
    exported = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == split_sample.splits["test"] == len(test_rows)
    assert [r["input"] for r in exported] == [r["input"] for r in test_rows]


def test_export_version_to_a_chosen_path(ws, split_sample, tmp_path):
    out = tmp_path / "elsewhere" / "train.json"
    assert operations.export_version(ws, split_sample, "alpaca_json", split="train", out=out) == out
    assert len(json.loads(out.read_text(encoding="utf-8"))) == split_sample.splits["train"]
    assert list((ws.root / "exports").iterdir()) == []


def test_export_huanhuan_alpaca_json_is_the_source_file(ws, huanhuan):
    path = operations.export_version(ws, huanhuan, "alpaca_json")
    assert json.loads(path.read_text(encoding="utf-8")) == huanhuan_source()


def test_export_of_an_unmapped_version_fails_and_leaves_no_file(ws, sample):
    for fmt in ("alpaca_json", "sharegpt_json", "llamafactory"):
        with pytest.raises(ValueError, match="map the columns first"):
            operations.export_version(ws, sample, fmt)
    assert list((ws.root / "exports").iterdir()) == []


@pytest.mark.parametrize("fmt, mime", [("alpaca_json", "application/json"), ("jsonl", "application/x-ndjson"),
                                       ("csv", "text/csv")])
def test_download_payload_of_a_file(ws, split_sample, fmt, mime):
    path = operations.export_version(ws, split_sample, fmt)
    name, data, mime_type = download_payload(path)
    assert (name, data, mime_type) == (path.name, path.read_bytes(), mime)


@pytest.mark.parametrize("fmt", FOLDER_FORMATS)
def test_download_payload_of_a_folder_is_a_zip(ws, split_sample, fmt):
    folder = operations.export_version(ws, split_sample, fmt)
    name, data, mime_type = download_payload(folder)
    assert (name, mime_type) == (folder.name + ".zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        expected = {f"{folder.name}/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*") if p.is_file()}
        assert names == expected and names
        for member in expected:
            assert archive.read(member) == (folder.parent / member).read_bytes()
    assert folder.is_dir()  # the folder itself is kept
