"""The workspace keeps every version, refuses stale saves, and survives a kill mid-save."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pyarrow as pa
import pytest

from workbench.workspace import StaleVersionError, Workspace


def table(n=3, text="x"):
    return pa.table({"instruction": [f"{text}{i}" for i in range(n)], "output": ["y"] * n})


def test_versions_are_immutable_and_restore_adds_a_version(ws):
    v1 = ws.create_dataset("嬛嬛", table(3))
    v2 = ws.commit_version(v1.dataset_id, table(5, "z"), parent=1, op="edit", params={"why": "test"})
    assert [v.number for v in ws.versions(v1.dataset_id)] == [1, 2]
    assert ws.read(v1).column("instruction").to_pylist() == ["x0", "x1", "x2"]
    v3 = ws.restore(v1.dataset_id, 1, parent=2)
    assert (v3.number, v3.op, v3.params, v3.parent) == (3, "restore", {"from_version": 1}, 2)
    assert ws.read(v3).column("instruction").to_pylist() == ["x0", "x1", "x2"]
    assert ws.read(v2).num_rows == 5  # the restored-over version is still there
    assert ws.dataset(v1.dataset_id).name == "嬛嬛"


def test_row_ids_are_assigned_once_and_kept(ws):
    v1 = ws.create_dataset("d", table(4))
    assert ws.read(v1).column("_id").to_pylist() == [0, 1, 2, 3]
    kept = ws.read(v1).slice(1, 2)
    v2 = ws.commit_version(v1.dataset_id, kept, 1, "delete")
    assert ws.read(v2).column("_id").to_pylist() == [1, 2]


def test_second_save_of_a_stale_version_is_refused(ws):
    v1 = ws.create_dataset("d", table())
    ws.commit_version(v1.dataset_id, table(1), parent=1, op="session A")
    with pytest.raises(StaleVersionError) as error:
        ws.commit_version(v1.dataset_id, table(2), parent=1, op="session B")
    assert "reload" in str(error.value) and "刷新" in str(error.value)
    assert [v.op for v in ws.versions(v1.dataset_id)] == ["import", "session A"]
    # the refused write leaves no file behind
    assert len(list(v1.path.parent.glob("*.parquet"))) == 2


def test_unsafe_names_never_leave_the_workspace(ws):
    version = ws.create_dataset("../../etc/passwd", table())
    assert version.path.resolve().is_relative_to(ws.root)
    assert "/" not in version.dataset_id and ".." not in version.dataset_id
    upload = ws.path_for_upload("../../etc/passwd")
    assert upload.resolve().is_relative_to(ws.root / "uploads") and upload.name == "etc_passwd"


def test_kill_during_a_million_row_save_leaves_previous_version_intact(tmp_path):
    root = tmp_path / "ws"
    first = Workspace(root).create_dataset("big", table(10))
    script = textwrap.dedent(f"""
        import pyarrow as pa, numpy as np
        from workbench.workspace import Workspace
        ws = Workspace({str(root)!r})
        n = 1_000_000
        t = pa.table({{"instruction": pa.array(np.char.add("row ", np.arange(n).astype(str))), "output": ["y"] * n}})
        print("writing", flush=True)
        ws.commit_version({first.dataset_id!r}, t, 1, "big edit")
        print("saved", flush=True)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    folder = first.path.parent
    deadline = time.time() + 30
    while not any(p.name.startswith(".tmp-") for p in folder.iterdir()):  # the write has begun
        assert time.time() < deadline and process.poll() is None
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    ws = Workspace(root)
    assert [v.number for v in ws.versions(first.dataset_id)] == [1]
    assert ws.read(ws.version(first.dataset_id, 1)).num_rows == 10
    leftovers = [p.name for p in first.path.parent.iterdir() if p != first.path]
    assert leftovers and all(name.startswith(".tmp-") for name in leftovers)  # never listed
    assert ws.recover(min_age_seconds=0)["temp_files"] == len(leftovers)  # swept once old


def test_saved_mappings_are_reusable(ws):
    ws.save_mapping("seed", {"instruction": "prompt", "input": "text", "output": "label"})
    assert ws.mappings()["seed"]["output"] == "label"


def test_a_dataset_is_found_by_the_name_it_was_given(ws):
    """`--name law_faq` saves id law-faq: the name given, and that name written as an id, both find it."""
    first = ws.create_dataset("law_faq", table(2))
    assert first.dataset_id == "law-faq"
    assert ws.resolve("law_faq").ref == ws.resolve("law-faq").ref == "law-faq@1"
    assert ws.resolve("law_faq@1").ref == "law-faq@1" and ws.dataset("law_faq").id == "law-faq"
    ws.create_dataset("Law FAQ", table(1))  # another name making the same id base: law-faq-2
    assert ws.resolve("Law FAQ").dataset_id == "law-faq-2" and ws.resolve("law faq").dataset_id == "law-faq"
    chinese = ws.create_dataset("法律 问答", table(1))  # Chinese names make no id of their own
    assert ws.resolve("法律 问答").dataset_id == chinese.dataset_id == "dataset"
    with pytest.raises(KeyError, match="没有数据集"):
        ws.resolve("劳动法")  # not read as 'dataset', the id every Chinese name starts from
    ws.create_dataset("law_faq", table(1))
    with pytest.raises(KeyError, match="law-faq, law-faq-3"):
        ws.resolve("law_faq")  # two datasets with that name: the id says which
    assert ws.resolve("law-faq").rows == 2


def test_cli_verbs_take_the_dataset_name_given_at_import(tmp_path, capsys):
    from workbench.cli import main

    source = tmp_path / "faq.jsonl"
    source.write_text('{"instruction": "问", "output": "答"}\n', encoding="utf-8")
    root = str(tmp_path / "ws")
    assert main(["--workspace", root, "import", str(source), "--name", "law_faq"]) == 0
    assert "law-faq@1" in capsys.readouterr().out
    assert main(["--workspace", root, "versions", "law_faq"]) == 0
    assert "law-faq@1" in capsys.readouterr().out
