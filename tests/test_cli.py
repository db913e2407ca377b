"""`python -m workbench` runs the whole flow on the same config files the UI saves."""
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def cli(workspace, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(workspace), *args],
                            capture_output=True, text=True, cwd=ROOT)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_import_map_split_export_from_the_command_line(tmp_path):
    ws = tmp_path / "ws"
    csv = tmp_path / "reviews.csv"
    rows = [("判断情感", f"评论{i}", "正面" if i % 2 else "负面") for i in range(40)]
    csv.write_text("prompt,text,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows), encoding="gb18030")
    out = cli(ws, "import", str(csv), "--name", "reviews").stdout
    assert "imported 40 rows as reviews@1" in out and "gb18030" in out
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"instruction": "prompt", "input": "text", "output": "label",
                                       "keep_other_columns": True}, allow_unicode=True), encoding="utf-8")
    assert "reviews@2" in cli(ws, "map", "reviews", "--mapping", str(mapping), "--save-as", "seed").stdout
    split = tmp_path / "split.yaml"
    split.write_text(yaml.safe_dump({"train": 0.5, "validation": 0.25, "test": 0.25, "seed": 7,
                                     "stratify": "output"}), encoding="utf-8")
    assert "reviews@3" in cli(ws, "split", "reviews", "--config", str(split)).stdout
    target = tmp_path / "lf"
    cli(ws, "export", "reviews@3", "--format", "llamafactory", "--out", str(target))
    info = json.loads((target / "dataset_info.json").read_text(encoding="utf-8"))
    assert {"reviews_train", "reviews_validation", "reviews_test"} <= set(info)
    train = json.loads((target / info["reviews_train"]["file_name"]).read_text(encoding="utf-8"))
    assert len(train) == 20 and train[0]["instruction"] == "判断情感"
    assert "validate" and cli(ws, "validate", "reviews").returncode == 0
    versions = cli(ws, "versions", "reviews").stdout
    assert "import" in versions and "map" in versions and "split" in versions
    diff = json.loads(cli(ws, "diff", "reviews@2", "reviews@3").stdout)
    assert diff["changed"] == 40  # every row got a split


def test_bad_file_exits_2_with_a_located_message(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "output": "b"}\n{"instruction": oops}\n', encoding="utf-8")
    result = cli(tmp_path / "ws", "import", str(bad), check=False)
    assert result.returncode == 2
    assert "bad.jsonl:2" in result.stdout and "--drop-bad" in result.stdout
    assert cli(tmp_path / "ws", "datasets").stdout.strip() == ""
    zh = cli(tmp_path / "ws", "--lang", "zh", "import", str(bad), check=False).stdout  # in the user's language
    assert "1 行无法读取" in zh and "错误: bad.jsonl:2" in zh and "未导入" in zh
    ok = cli(tmp_path / "ws", "import", str(bad), "--drop-bad")
    assert "imported 1 rows" in ok.stdout


def test_jobs_verbs(tmp_path):
    ws = tmp_path / "ws"
    data = tmp_path / "d.json"
    data.write_text(json.dumps([{"instruction": "问", "output": "答"}], ensure_ascii=False), encoding="utf-8")
    cli(ws, "import", str(data), "--name", "d")
    assert '"rows": 1' in cli(ws, "stats", "d").stdout
    listing = cli(ws, "jobs", "list").stdout
    assert "stats" in listing and "succeeded" in listing
    assert cli(ws, "jobs", "cancel", check=False).returncode == 2


def test_models_verbs_list_and_refuse_a_folder_that_is_not_a_model(tmp_path):
    listed = cli(tmp_path / "ws", "models").stdout
    assert listed.splitlines()[0].startswith("smollm2-135m-instruct\tbundled\t")
    (tmp_path / "empty").mkdir()
    refused = cli(tmp_path / "ws", "models", "add", str(tmp_path / "empty"), check=False)
    assert refused.returncode == 2 and "error:" in refused.stderr and "Traceback" not in refused.stderr
    assert cli(tmp_path / "ws", "models", "add", check=False).returncode == 2
