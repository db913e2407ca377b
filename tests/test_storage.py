"""Atomic writes never leave a half-written target or a stray temp file; names never escape their folder."""
import json
import os
import time

import pytest

from workbench.storage import (MAX_NAME_BYTES, TMP_PREFIX, atomic_path, inside, remove_temp_files, safe_name, slug,
                               write_json_atomic, write_text_atomic)

NAME_LIMIT_BYTES = 255  # ext4, xfs, btrfs, APFS and NTFS (in UTF-16 units) all stop here


def temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)]


# --- atomic_path ---------------------------------------------------------------------------------------

def test_atomic_path_writes_beside_the_target_then_renames(tmp_path):
    """The temp file lives in the target's folder (same file system, so the rename is atomic)."""
    target = tmp_path / "new" / "folder" / "data.json"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(TMP_PREFIX) and tmp.name.endswith("data.json")
        tmp.write_text("完整", encoding="utf-8")
        assert not target.exists()  # nobody sees the target before the block ends
    assert target.read_text(encoding="utf-8") == "完整"
    assert temp_files(target.parent) == []


def test_atomic_path_error_keeps_the_old_target_and_removes_the_temp_file(tmp_path):
    target = tmp_path / "data.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new cont", encoding="utf-8")
            raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert temp_files(tmp_path) == []


def test_atomic_path_error_before_any_write_creates_no_target(tmp_path):
    target = tmp_path / "data.json"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"\x00" * 10)
            raise KeyboardInterrupt  # also BaseException, as when the user stops the app
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_replaces_an_existing_target_whole(tmp_path):
    target = tmp_path / "data.jsonl"
    target.write_text("a much longer old content\n" * 100, encoding="utf-8")
    with atomic_path(target) as tmp:
        tmp.write_text("short\n", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "short\n"


def test_write_json_atomic_keeps_chinese_and_round_trips(tmp_path):
    data = {"名称": "甄嬛传", "rows": [1, 2, 3], "nested": {"ok": True, "none": None}}
    target = tmp_path / "meta.json"
    write_json_atomic(target, data)
    text = target.read_text(encoding="utf-8")
    assert "甄嬛传" in text and "\\u" not in text
    assert json.loads(text) == data
    write_json_atomic(target, {"second": 2})
    assert json.loads(target.read_text(encoding="utf-8")) == {"second": 2}
    assert temp_files(tmp_path) == []


def test_write_json_atomic_that_cannot_serialize_leaves_the_old_file(tmp_path):
    target = tmp_path / "meta.json"
    write_json_atomic(target, {"version": 1})

    class Unprintable:
        def __str__(self):
            raise RuntimeError("cannot print")

    with pytest.raises(RuntimeError):
        write_json_atomic(target, {"version": Unprintable()})
    assert json.loads(target.read_text(encoding="utf-8")) == {"version": 1}
    assert temp_files(tmp_path) == []


def test_write_text_atomic_writes_utf8(tmp_path):
    target = tmp_path / "README.md"
    write_text_atomic(target, "用法：训练\n")
    assert target.read_bytes() == "用法：训练\n".encode("utf-8")


# --- remove_temp_files -----------------------------------------------------------------------------------

def test_remove_temp_files_only_removes_old_temp_files(tmp_path):
    (tmp_path / "sub").mkdir()
    old = tmp_path / "sub" / f"{TMP_PREFIX}aaaa-v00002.parquet"
    young = tmp_path / f"{TMP_PREFIX}bbbb-v00003.parquet"
    kept = tmp_path / "v00001.parquet"
    for path in (old, young, kept):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(kept, (hour_ago, hour_ago))  # old, but not a temp file
    assert remove_temp_files(tmp_path, min_age_seconds=600) == 1
    assert not old.exists() and young.exists() and kept.exists()
    assert remove_temp_files(tmp_path, min_age_seconds=0) == 1  # now the young one too
    assert not young.exists() and kept.exists()


def test_remove_temp_files_leaves_temp_folders_alone(tmp_path):
    """A temp *folder* is a folder export being built; only files are swept here."""
    folder = tmp_path / f"{TMP_PREFIX}cccc-export"
    folder.mkdir()
    assert remove_temp_files(tmp_path, min_age_seconds=0) == 0
    assert folder.is_dir()


# --- safe_name and slug ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\etc\\passwd", "/etc/passwd", "etc/../passwd"])
def test_safe_name_never_has_a_folder_part(name, tmp_path):
    result = safe_name(name)
    assert "/" not in result and "\\" not in result and not result.startswith(".")
    assert (tmp_path / result).resolve().parent == tmp_path.resolve()
    assert "passwd" in result


def test_safe_name_examples():
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("甄嬛传 数据.json") == "甄嬛传_数据.json"  # Chinese kept, spaces become one underscore
    assert safe_name('a:b*c?"<d>|e.csv') == "a_b_c_d_e.csv"  # characters Windows forbids
    assert safe_name("tab\there\nnewline\x00nul.txt") == "tab_here_newline_nul.txt"
    assert safe_name(".hidden") == "hidden"
    assert safe_name("trailing dots... ") == "trailing_dots"  # Windows drops them silently


@pytest.mark.parametrize("name", ["", "   ", "...", "/", "../..", "___", "？？", "***"])
def test_safe_name_of_nothing_usable_is_the_default(name):
    assert safe_name(name, default="dataset") == "dataset"  # fullwidth ？ is not a letter either


@pytest.mark.parametrize("name", ["CON", "con", "PRN.txt", "aux.json", "NUL", "nul.tar.gz", "COM1.csv", "lpt9.jsonl"])
def test_safe_name_avoids_windows_device_names(name):
    result = safe_name(name)
    assert result.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    assert result.endswith(name[len(name.split(".")[0]):])  # the extension is kept


@pytest.mark.parametrize("name", ["console.txt", "COM10", "nullable.json", "auxiliary"])
def test_safe_name_keeps_names_that_only_start_like_device_names(name):
    assert safe_name(name) == name


def test_safe_name_cuts_long_names_before_the_extension():
    """Readers choose the format by the suffix, so a long upload name must keep `.jsonl`."""
    name = "customer_support_conversations_export_" * 4 + ".jsonl"
    result = safe_name(name)
    assert len(result) <= 80 and result.endswith(".jsonl")
    assert result.startswith("customer_support_conversations_export_customer")
    assert not result[:-len(".jsonl")].endswith(("_", ".", " ", "-"))


@pytest.mark.parametrize("letter", ["甄", "𠀀", "é"])  # 3-, 4- and 2-byte letters in UTF-8
def test_safe_name_fits_the_file_system_even_with_a_temp_prefix(letter, tmp_path):
    """A long Chinese name must still fit 255 bytes after atomic_path adds its temp prefix."""
    result = safe_name(letter * 300 + ".json")
    assert result.endswith(".json") and set(result[:-5]) == {letter}
    assert len(result.encode("utf-8")) <= MAX_NAME_BYTES
    target = tmp_path / result
    with atomic_path(target) as tmp:
        assert len(tmp.name.encode("utf-8")) <= NAME_LIMIT_BYTES
        tmp.write_text("{}", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "{}"


def test_safe_name_keeps_short_names_and_unicode_normal_form():
    assert safe_name("data_v2.jsonl") == "data_v2.jsonl"
    decomposed = "cafe\u0301.csv"  # e + combining accent, as macOS file names come
    assert safe_name(decomposed) == "caf\u00e9.csv"


def test_slug_is_ascii_and_bounded():
    assert slug("Product reviews (sample) 商品评论示例") == "product-reviews-sample"
    assert slug("嬛嬛") == "dataset" and slug("嬛嬛", default="model") == "model"
    assert slug("../../etc/passwd") == "etc-passwd"
    long = slug("word " * 50)
    assert len(long) <= 40 and long.startswith("word-word")
    assert all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in slug("A_b.c/d\\e:f 中 g"))


# --- inside --------------------------------------------------------------------------------------------------

def test_inside(tmp_path):
    root = tmp_path / "workspace"
    (root / "datasets").mkdir(parents=True)
    assert inside(root, root)
    assert inside(root, root / "datasets" / "x.parquet")
    assert inside(root, root / "datasets" / ".." / "exports")
    assert not inside(root, root / ".." / "elsewhere")
    assert not inside(root, tmp_path / "workspace-other" / "x")  # a shared prefix is not inside
    assert not inside(root, "/etc/passwd")


def test_inside_follows_symlinks(tmp_path):
    root = tmp_path / "workspace"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    assert not inside(root, root / "link" / "file.txt")


def test_a_long_chinese_upload_name_is_saved_and_still_readable(ws):
    """An upload keeps its suffix (the reader needs it) and fits the file system with the temp prefix."""
    import io

    from workbench.data.importer import save_upload
    from workbench.data.read import read_file

    name = "甄嬛传角色扮演对话微调数据集" * 8 + ".jsonl"  # 112 characters, 330 bytes
    path = save_upload(ws, name, io.BytesIO('{"instruction": "你是谁？", "output": "臣妾甄嬛。"}\n'.encode("utf-8")))
    assert inside(ws.root / "uploads", path) and path.suffix == ".jsonl"
    assert read_file(path).table.column("output").to_pylist() == ["臣妾甄嬛。"]
