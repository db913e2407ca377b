import csv
import json
import zipfile

import pyarrow as pa
import pytest

from workbench.data.export import EXPORT_FORMATS, export_table, export_zip, left_out_fields
from workbench.data.split import SplitConfig, split_table

HISTORY = [["你好", "你好！有什么可以帮你？"], ["今天天气如何", "晴天"]]


def alpaca_table(with_split: bool = True) -> pa.Table:
    rows = 20
    table = pa.table({
        "_id": pa.array(range(rows), pa.int64()),
        "_line": pa.array(range(2, rows + 2), pa.int64()),
        "instruction": [f"问题{i}，含“引号”和,逗号" for i in range(rows)],
        "input": [None if i % 2 else f"输入\n第二行{i}" for i in range(rows)],
        "output": [f"回答{i}" for i in range(rows)],
        "system": ["你是甄嬛" if i == 3 else None for i in range(rows)],
        "history": [json.dumps(HISTORY, ensure_ascii=False) if i == 5 else "" for i in range(rows)],
    })
    return split_table(table, SplitConfig(train=0.6, validation=0.2, test=0.2)) if with_split else table


def chat_table() -> pa.Table:
    conversations = [
        [{"from": "human", "value": "在吗"}, {"from": "gpt", "value": "在的"},
         {"from": "human", "value": "讲个笑话"}, {"from": "gpt", "value": "好的……"}],
        [{"from": "human", "value": "1+1"}, {"from": "gpt", "value": "2"}],
    ]
    return pa.table({"_id": pa.array([0, 1], pa.int64()),
                     "conversations": [json.dumps(c, ensure_ascii=False) for c in conversations],
                     "system": ["你是助手", None]})


def by_instruction(records: list[dict]) -> dict:
    return {r["instruction"]: r for r in records}


def test_alpaca_json_round_trip_chinese_and_history(tmp_path):
    path = export_table(alpaca_table(), "alpaca_json", tmp_path / "out.json")
    text = path.read_text(encoding="utf-8")
    assert "问题0" in text and "\\u" not in text  # Chinese written as is
    records = json.loads(text)
    assert len(records) == 20
    assert set(records[0]) == {"instruction", "input", "output", "system", "history"}
    rows = by_instruction(records)
    assert rows["问题5，含“引号”和,逗号"]["history"] == HISTORY  # real nested lists, not JSON text
    assert rows["问题0，含“引号”和,逗号"] == {"instruction": "问题0，含“引号”和,逗号", "input": "输入\n第二行0",
                                        "output": "回答0", "system": "", "history": []}
    assert rows["问题3，含“引号”和,逗号"]["system"] == "你是甄嬛"
    assert rows["问题1，含“引号”和,逗号"]["input"] == ""
    assert not any(key.startswith("_") for r in records for key in r)


def test_alpaca_json_omits_empty_optional_fields(tmp_path):
    table = alpaca_table(with_split=False).drop_columns(["system"])
    table = table.set_column(table.column_names.index("history"), "history", pa.array(["[]"] * 20))
    records = json.loads(export_table(table, "alpaca_json", tmp_path / "a.json").read_text(encoding="utf-8"))
    assert set(records[0]) == {"instruction", "input", "output"}


def test_chat_rows_convert_to_alpaca(tmp_path):
    records = json.loads(export_table(chat_table(), "alpaca_json", tmp_path / "c.json").read_text(encoding="utf-8"))
    assert records[0] == {"instruction": "讲个笑话", "input": "", "output": "好的……", "system": "你是助手",
                          "history": [["在吗", "在的"]]}
    assert records[1] == {"instruction": "1+1", "input": "", "output": "2", "system": "", "history": []}


def test_jsonl_alpaca_and_chat_shapes(tmp_path):
    path = export_table(alpaca_table(), "jsonl", tmp_path / "a.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20 and json.loads(lines[5])["history"] == HISTORY
    chat = export_table(chat_table(), "jsonl", tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(chat[0])
    assert first["conversations"][0] == {"from": "human", "value": "在吗"} and first["system"] == "你是助手"
    assert set(first) == {"conversations", "system"}


def test_sharegpt_json(tmp_path):
    records = json.loads(export_table(alpaca_table(), "sharegpt_json", tmp_path / "s.json").read_text("utf-8"))
    row = next(r for r in records if r["conversations"][-2]["value"].startswith("问题5"))
    assert [t["from"] for t in row["conversations"]] == ["human", "gpt", "human", "gpt", "human", "gpt"]
    assert row["conversations"][0]["value"] == "你好"
    assert all("system" in r for r in records)  # some row has one, so every row carries the key
    chat = json.loads(export_table(chat_table(), "sharegpt_json", tmp_path / "c.json").read_text("utf-8"))
    assert chat[0]["system"] == "你是助手" and chat[1]["system"] == ""


def test_csv_bom_round_trip(tmp_path):
    table = alpaca_table()
    path = export_table(table, "csv", tmp_path / "out.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["instruction", "input", "output", "system", "history"]
    assert [r["instruction"] for r in rows] == table.column("instruction").to_pylist()
    assert rows[0]["input"] == "输入\n第二行0"
    assert json.loads(rows[5]["history"]) == HISTORY  # nested fields stay JSON text in CSV


def test_split_filter(tmp_path):
    table = alpaca_table()
    expected = [r["instruction"] for r in table.to_pylist() if r["_split"] == "test"]
    records = json.loads(export_table(table, "alpaca_json", tmp_path / "t.json", split="test").read_text("utf-8"))
    assert [r["instruction"] for r in records] == expected and len(expected) == 4
    with pytest.raises(ValueError, match="_split"):
        export_table(alpaca_table(with_split=False), "jsonl", tmp_path / "x.jsonl", split="test")
    with pytest.raises(ValueError, match="unknown split"):
        export_table(table, "jsonl", tmp_path / "x.jsonl", split="dev")


def test_hf_datasets_dataset_dict(tmp_path):
    import datasets

    folder = export_table(alpaca_table(), "hf_datasets", tmp_path / "hf")
    loaded = datasets.load_from_disk(str(folder))
    assert isinstance(loaded, datasets.DatasetDict)
    assert {name: len(part) for name, part in loaded.items()} == {"train": 12, "validation": 4, "test": 4}
    assert set(loaded["train"].column_names) == {"instruction", "input", "output", "system", "history"}
    every = [row for part in loaded.values() for row in part]
    assert next(r for r in every if r["instruction"].startswith("问题5"))["history"] == HISTORY
    assert not list(tmp_path.glob(".tmp-*"))


def test_hf_datasets_plain_and_chat(tmp_path):
    import datasets

    plain = datasets.load_from_disk(str(export_table(alpaca_table(False), "hf_datasets", tmp_path / "p")))
    assert isinstance(plain, datasets.Dataset) and len(plain) == 20
    chat = datasets.load_from_disk(str(export_table(chat_table(), "hf_datasets", tmp_path / "c")))
    assert chat[0]["messages"][0] == {"role": "system", "content": "你是助手"}
    assert [m["role"] for m in chat[1]["messages"]] == ["user", "assistant"]


def test_llamafactory_alpaca_folder(tmp_path):
    folder = export_table(alpaca_table(), "llamafactory", tmp_path / "lf", name="huanhuan")
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    columns = {"prompt": "instruction", "query": "input", "response": "output", "system": "system",
               "history": "history"}
    assert info == {f"huanhuan_{s}": {"file_name": f"huanhuan_{s}.json", "formatting": "alpaca", "columns": columns}
                    for s in ("train", "validation", "test")}
    train = json.loads((folder / "huanhuan_train.json").read_text(encoding="utf-8"))
    assert len(train) == 12 and all(set(r) == set(columns.values()) for r in train)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "dataset_dir" in readme and "dataset: huanhuan_train" in readme and "eval_dataset: huanhuan_validation" in readme


def test_llamafactory_unsplit_without_optional_columns(tmp_path):
    table = alpaca_table(False).drop_columns(["system", "history"])
    folder = export_table(table, "llamafactory", tmp_path / "lf")
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    assert info == {"dataset_train": {"file_name": "dataset_train.json", "formatting": "alpaca",
                                      "columns": {"prompt": "instruction", "query": "input", "response": "output"}}}
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "dataset_info.json", "dataset_train.json"]


def test_llamafactory_sharegpt_for_chat(tmp_path):
    folder = export_table(chat_table(), "llamafactory", tmp_path / "lf", name="chat")
    info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    assert info == {"chat_train": {
        "file_name": "chat_train.json", "formatting": "sharegpt",
        "columns": {"messages": "conversations", "system": "system"},
        "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}}}
    rows = json.loads((folder / "chat_train.json").read_text(encoding="utf-8"))
    assert rows[0]["conversations"][2] == {"from": "human", "value": "讲个笑话"} and rows[1]["system"] == ""


def test_folder_export_replaces_old_and_zips(tmp_path):
    out = tmp_path / "lf"
    export_table(alpaca_table(), "llamafactory", out, name="old")
    export_table(alpaca_table(), "llamafactory", out, name="new")
    assert not list(out.glob("old_*")) and (out / "new_train.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    archive = export_zip(out)
    with zipfile.ZipFile(archive) as zipped:
        assert "lf/dataset_info.json" in zipped.namelist()
        assert json.loads(zipped.read("lf/new_train.json").decode("utf-8"))


def test_unmapped_table_and_unknown_format(tmp_path):
    raw = pa.table({"_id": pa.array([0], pa.int64()), "prompt": ["问"], "label": ["答"]})
    with pytest.raises(ValueError, match="map the columns"):
        export_table(raw, "alpaca_json", tmp_path / "a.json")
    assert json.loads(export_table(raw, "jsonl", tmp_path / "a.jsonl").read_text("utf-8")) == {"prompt": "问", "label": "答"}
    with pytest.raises(ValueError, match="unknown export format"):
        export_table(raw, "parquet", tmp_path / "a.parquet")
    assert not (tmp_path / "a.json").exists()


def test_every_format_on_a_big_table(tmp_path):
    """Streaming in batches: 25k rows (more than two batches) in every format, rows all there."""
    n = 25_000
    table = pa.table({"_id": pa.array(range(n), pa.int64()), "instruction": [f"q{i}" for i in range(n)],
                      "input": [""] * n, "output": [f"a{i}" for i in range(n)]})
    for fmt in EXPORT_FORMATS:
        out = export_table(table, fmt, tmp_path / fmt)
        if fmt in ("alpaca_json", "sharegpt_json"):
            assert len(json.loads(out.read_text(encoding="utf-8"))) == n
        elif fmt == "jsonl":
            assert len(out.read_text(encoding="utf-8").splitlines()) == n
        elif fmt == "csv":
            assert len(out.read_text(encoding="utf-8-sig").splitlines()) == n + 1
        elif fmt == "llamafactory":
            assert len(json.loads((out / "dataset_train.json").read_text(encoding="utf-8"))) == n


def test_huanhuan_llamafactory_round_trip(tmp_path, huanhuan_rows):
    """The real dataset survives split + export: every row once, text byte-identical."""
    table = pa.table({"_id": pa.array(range(len(huanhuan_rows)), pa.int64()),
                      **{k: pa.array([r[k] for r in huanhuan_rows]) for k in ("instruction", "input", "output")}})
    table = split_table(table, SplitConfig(train=0.9, validation=0.05, test=0.05))
    folder = export_table(table, "llamafactory", tmp_path / "lf", name="huanhuan")
    exported = []
    for split in ("train", "validation", "test"):
        exported += json.loads((folder / f"huanhuan_{split}.json").read_text(encoding="utf-8"))
    key = lambda r: (r["instruction"], r["input"], r["output"])  # noqa: E731
    assert sorted(map(key, exported)) == sorted(map(key, huanhuan_rows))


def exported_keys(path, fmt) -> set[str]:
    """Every key any exported row has, whatever the file's shape."""
    if fmt == "csv":
        return set(next(csv.reader(path.read_text(encoding="utf-8-sig").splitlines())))
    if fmt == "jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    elif fmt == "hf_datasets":
        import datasets

        records = datasets.load_from_disk(str(path)).to_list()
    elif fmt == "llamafactory":
        records = json.loads((path / "dataset_train.json").read_text(encoding="utf-8"))
    else:
        records = json.loads(path.read_text(encoding="utf-8"))
    return {key for record in records for key in record}


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_the_fields_said_to_be_left_out_are_exactly_those_missing_from_the_file(tmp_path, fmt):
    """A template's `prompt` and a label column: named before export for every format that drops them, and the
    written file indeed lacks exactly those (and only those) of the table's own columns."""
    table = alpaca_table(with_split=False).append_column("prompt", pa.array(["渲染后的提示词"] * 20)).append_column(
        "label", pa.array(["正面"] * 20))
    left_out = left_out_fields(table.column_names, fmt)
    keys = exported_keys(export_table(table, fmt, tmp_path / fmt), fmt)
    assert [c for c in ("prompt", "label") if c not in keys] == left_out
    assert left_out == ([] if fmt == "csv" else ["prompt", "label"])


def test_chat_jsonl_keeps_its_own_columns_so_nothing_is_said_to_be_left_out(tmp_path):
    table = chat_table().append_column("topic", pa.array(["闲聊", "算术"]))
    assert left_out_fields(table.column_names, "jsonl") == []
    assert "topic" in exported_keys(export_table(table, "jsonl", tmp_path / "c.jsonl"), "jsonl")
    assert left_out_fields(table.column_names, "sharegpt_json") == ["topic"]
    assert "topic" not in exported_keys(export_table(table, "sharegpt_json", tmp_path / "c.json"), "sharegpt_json")
    assert left_out_fields(["_id", "_split", "_source", "prompt"], "alpaca_json") == []  # unmapped: export refuses
