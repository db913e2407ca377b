"""Quality report and fixes on real Chinese rows (huanhuan): duplicates, near-duplicates, leakage,
empty and too-long rows, labels, languages; the fast MinHash path against datasketch itself."""
import json
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from workbench.data import near_duplicates as nd
from workbench.data.language_mix import LANGUAGES, language_codes
from workbench.data.quality import QualityReport, quality_report
from workbench.data.quality_labels import label_problems
from workbench.data.quality_cli import describe
from workbench.data.quality_fixes import (QualityOptions, apply_fix, cache_path, cached_report, group_rows,
                                          leakage_rows, report_for_version)
from workbench.data.split import SplitConfig, split_table
from workbench.workspace import StaleVersionError

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["instruction", "input", "output"]


@pytest.fixture(scope="module")
def huanhuan(huanhuan_rows) -> pa.Table:
    table = pa.Table.from_pylist(huanhuan_rows)
    return table.add_column(0, "_id", pa.array(np.arange(table.num_rows, dtype=np.int64)))


@pytest.fixture(scope="module")
def edited(huanhuan_rows):
    """huanhuan plus 60 copies of longer rows with one to three characters changed (ids 3729...)."""
    rng = random.Random(7)
    sources = [i for i, r in enumerate(huanhuan_rows) if len(r["output"]) >= 30][:60]
    copies = []
    for i in sources:
        text = list(huanhuan_rows[i]["output"])
        for _ in range(1 + i % 3):
            text[rng.randrange(len(text))] = "朕"
        copies.append({**huanhuan_rows[i], "output": "".join(text)})
    rows = huanhuan_rows + copies
    table = pa.Table.from_pylist(rows).add_column(0, "_id", pa.array(np.arange(len(rows), dtype=np.int64)))
    return table, list(zip(sources, range(len(huanhuan_rows), len(rows))))


@pytest.fixture(scope="module")
def bpe(huanhuan_rows) -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["[UNK]"], show_progress=False)
    tokenizer.train_from_iterator((r["instruction"] + r["output"] for r in huanhuan_rows), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]")


def reference_text(row: dict) -> str:
    return "\x00".join(" ".join(unicodedata.normalize("NFKC", row[f] or "").split()).lower() for f in FIELDS)


def trigram_jaccard(a: str, b: str) -> float:
    x, y = set(nd.shingles(a)), set(nd.shingles(b))
    return len(x & y) / len(x | y)


# --- exact duplicates ------------------------------------------------------------------------------
def test_exact_groups_match_a_python_reference_on_huanhuan(huanhuan, huanhuan_rows):
    """Every group of identical normalized rows is found, whole, with its first row kept."""
    expected = {}
    for i, row in enumerate(huanhuan_rows):
        expected.setdefault(reference_text(row), []).append(i)
    expected = sorted(g for g in expected.values() if len(g) > 1)
    report = quality_report(huanhuan)
    assert report.exact_groups == expected
    assert len(expected) == 7 and max(map(len, expected)) == 50  # "你是谁？" -> "我是甄嬛，家父是大理寺少卿甄远道。"
    assert report.rows_to_drop("exact") == sorted(i for g in expected for i in g[1:])


def test_normalizing_ignores_width_spacing_and_case_but_not_moving_text_between_fields():
    table = pa.table({"instruction": ["你是谁？", "你是谁?", "\u3000你是谁?\t", "HELLO  there", "hello\nthere", "ab", "a"],
                      "output": ["我是甄嬛", "我是甄嬛", "我是甄嬛", "World", " world", "", "b"]})
    report = quality_report(table)
    assert report.exact_groups == [[0, 1, 2], [3, 4]]


def test_a_group_spanning_splits_keeps_its_train_row():
    table = pa.table({"_id": pa.array([10, 11, 12, 13], pa.int64()), "instruction": ["同一句", "同一句", "同一句", "另一句"],
                      "output": ["答"] * 4, "_split": ["test", "validation", "train", "train"]})
    report = quality_report(table)
    assert report.exact_groups == [[12, 10, 11]]
    assert report.rows_to_drop("exact") == [10, 11]
    assert [(p["id"], p["train_id"], p["kind"]) for p in report.leakage] == [(10, 12, "exact"), (11, 12, "exact")]


# --- near duplicates -----------------------------------------------------------------------------
def test_signatures_are_datasketch_minhash_values():
    """The vectorized path gives what datasketch's own MinHash gives for the same shingles."""
    texts = ["你是谁？\x00\x00我是甄嬛", "", "a", "ab", "abc", "皇上万福金安。" * 5, "𠀀𠀁x", "hello world"]
    sig = nd.signatures(texts, num_perm=64, seed=3)
    for column, text in enumerate(texts):
        reference = MinHash(num_perm=64, seed=3, scheme="affine32", hashfunc=nd.shingle_hash)
        reference.update_batch(nd.shingles(text))
        assert sig[:, column].tolist() == reference.hashvalues.tolist(), text


def test_banding_finds_the_buckets_datasketch_minhash_lsh_finds(huanhuan_rows):
    """Candidate pairs are pairs MinHashLSH returns, and they connect the same rows."""
    texts = list(dict.fromkeys(reference_text(r) for r in huanhuan_rows))[:1500]
    sig = nd.signatures(texts)
    bands, rows = nd.lsh_bands(0.6)
    ours = {tuple(p) for p in nd.candidate_pairs(sig, bands, rows).tolist()}
    lsh = MinHashLSH(threshold=0.6, num_perm=nd.NUM_PERM, weights=nd.RECALL_WEIGHTS)
    assert (lsh.b, lsh.r) == (bands, rows)
    sketches = [LeanMinHash(seed=nd.SEED, hashvalues=sig[:, i], scheme="affine32") for i in range(len(texts))]
    for i, sketch in enumerate(sketches):
        lsh.insert(i, sketch)
    theirs = {(min(i, j), max(i, j)) for i, s in enumerate(sketches) for j in lsh.query(s) if i != j}
    assert ours and ours <= theirs
    left, right = (np.array(side, dtype=np.int64) for side in zip(*theirs))
    ours_left, ours_right = (np.array(side, dtype=np.int64) for side in zip(*ours))
    assert (nd.connected_components(len(texts), ours_left, ours_right)
            == nd.connected_components(len(texts), left, right)).all()


def test_small_edits_of_chinese_rows_are_found_and_unrelated_rows_are_not(edited):
    """Copies clearly above the threshold are all found (LSH tuned for recall); estimates are close to the
    exact trigram Jaccard; groups hold only rows that really are alike."""
    table, pairs = edited
    report = quality_report(table)
    texts = {i: reference_text(r) for i, r in enumerate(table.select(FIELDS).to_pylist())}
    group_of = {i: n for n, g in enumerate(report.near_groups) for i in g["ids"]}
    found = {copy: group_of.get(copy) is not None and group_of.get(copy) == group_of.get(original)
             for original, copy in pairs}
    clear = [copy for original, copy in pairs if trigram_jaccard(texts[original], texts[copy]) >= 0.88]
    near = [copy for original, copy in pairs if 0.8 <= trigram_jaccard(texts[original], texts[copy]) < 0.88]
    assert len(clear) >= 20 and all(found[copy] for copy in clear)
    assert len(near) >= 10 and sum(found[copy] for copy in near) >= 0.6 * len(near)
    assert not any(found[copy] for original, copy in pairs if trigram_jaccard(texts[original], texts[copy]) < 0.7)
    for group in report.near_groups:
        kept = group["ids"][0]
        for row_id, estimate in zip(group["ids"], group["similarity"]):
            assert abs(estimate - trigram_jaccard(texts[kept], texts[row_id])) < 0.15, (kept, row_id)
        for row_id in group["ids"]:  # linked to the group by a pair near the threshold
            assert max(trigram_jaccard(texts[row_id], texts[j]) for j in group["ids"] if j != row_id) >= 0.7
    dropped = set(report.rows_to_drop("near"))
    assert {copy for copy, ok in found.items() if ok} <= dropped and set(report.rows_to_drop("exact")) <= dropped


def test_near_threshold_is_honoured():
    base = "紫禁城是明清两代的皇宫，位于北京中轴线的中心，是中国古代宫廷建筑之精华。"
    close = base.replace("皇宫", "宫殿")  # Jaccard ~0.83
    table = pa.table({"text": [base, close, "完全不同的一句话，讲的是别的事情。"]})
    assert [g["ids"] for g in quality_report(table, near_threshold=0.7).near_groups] == [[0, 1]]
    assert quality_report(table, near_threshold=0.95).near_groups == []


# --- leakage -------------------------------------------------------------------------------------
def test_leakage_after_a_real_split_is_every_evaluation_row_that_repeats_train(edited):
    table, pairs = edited
    table = split_table(table, SplitConfig(seed=42))
    report = quality_report(table)
    splits = dict(zip(table.column("_id").to_pylist(), table.column("_split").to_pylist()))
    texts = {i: reference_text(r) for i, r in zip(table.column("_id").to_pylist(), table.select(FIELDS).to_pylist())}
    train_texts = {texts[i] for i, s in splits.items() if s == "train"}
    expected_exact = sorted(i for i, s in splits.items() if s != "train" and texts[i] in train_texts)
    found = {p["id"]: p for p in report.leakage}
    assert sorted(i for i, p in found.items() if p["kind"] == "exact") == expected_exact and expected_exact
    for pair in found.values():
        assert splits[pair["train_id"]] == "train" and splits[pair["id"]] == pair["split"] != "train"
        assert pair["kind"] == "exact" or trigram_jaccard(texts[pair["id"]], texts[pair["train_id"]]) >= 0.6
    near_leaks = [(a, b) for a, b in pairs if sorted({splits[a], splits[b]}) in (["test", "train"], ["train", "validation"])
                  and trigram_jaccard(texts[a], texts[b]) >= 0.88]  # edited copies clearly above the threshold
    assert len(near_leaks) >= 5 and all((a if splits[a] != "train" else b) in found for a, b in near_leaks)


# --- empty, too long, labels, languages ------------------------------------------------------------
def test_empty_rows_are_blank_required_fields_only():
    table = pa.table({"instruction": ["问", "  ", None, "\u3000", "问"], "input": ["", "", "", "", ""],
                      "output": ["答", "答", "答", "答", "\n"]})
    report = quality_report(table)
    assert report.empty == {"required_fields": ["instruction", "output"], "per_field":
                            {"instruction": 3, "input": 5, "output": 1}, "ids": [1, 2, 3, 4]}
    assert quality_report(table, required_fields=["input"]).empty["ids"] == [0, 1, 2, 3, 4]


def test_too_long_counts_characters_or_tokens_of_the_fields_summed(huanhuan, bpe):
    chars = quality_report(huanhuan, max_tokens=100)
    lengths = [len(r["instruction"]) + len(r["output"]) for r in huanhuan.to_pylist()]
    assert chars.too_long["ids"] == [i for i, n in enumerate(lengths) if n > 100]
    assert chars.too_long["longest"] == max(lengths) and chars.too_long["unit"] == "chars"
    tokens = quality_report(huanhuan, max_tokens=30, tokenizer=bpe)
    counted = [sum(len(bpe(r[f], add_special_tokens=False)["input_ids"]) for f in FIELDS if r[f])
               for r in huanhuan.to_pylist()]
    assert tokens.too_long["ids"] == [i for i, n in enumerate(counted) if n > 30] and tokens.too_long["unit"] == "tokens"
    assert tokens.too_long["lengths"] == [n for n in counted if n > 30]
    cells = pa.table({"text": ["皇上万福金安", None, "", "皇上万福金安"], "number": pa.array([1, 22, None, 1])})
    small = quality_report(cells, max_tokens=0, tokenizer=bpe)  # nulls count 0, numbers as their text
    count = [len(bpe(text, add_special_tokens=False)["input_ids"]) for text in ("皇上万福金安", "1", "22")]
    assert small.too_long["lengths"] == [count[0] + count[1], count[2], count[0] + count[1]]


def test_label_balance_per_split():
    table = pa.table({"text": [f"评论{i}" for i in range(7)], "label": ["好", "好", "好", "差", "差", " ", None],
                      "_split": ["train", "train", "test", "train", "test", "train", "train"]})
    labels = quality_report(table, label_field="label").labels
    assert labels["counts"] == [{"label": "好", "count": 3, "share": round(3 / 7, 4)},
                                {"label": "差", "count": 2, "share": round(2 / 7, 4)}]
    assert labels["by_split"] == {"train": {"好": 2, "差": 1}, "test": {"好": 1, "差": 1}}
    assert labels["distinct"] == 2 and labels["imbalance"] == 1.5 and labels["blank"] == 2


def test_blank_labels_are_no_class_and_whitespace_or_width_variants_are_reported():
    """'正面 ' and '负面　' are one class each in the balance (21/19, not 21/1), but reported: split and training
    would keep them apart. A blank label is counted on its own, not as a class."""
    values = ["中性"] * 21 + ["负面"] * 19 + ["负面\u3000"] + ["正面"] * 18 + ["正面 "] + [None] + ["ＯＫ", "OK"]
    table = pa.table({"text": [f"评论{i}" for i in range(len(values))], "output": values})
    report = quality_report(table, label_field="output")
    labels = report.labels
    assert [(c["label"], c["count"]) for c in labels["counts"]] == [("中性", 21), ("负面", 20), ("正面", 19), ("OK", 2)]
    assert labels["blank"] == 1 and labels["distinct"] == 4 and labels["imbalance"] == 10.5
    assert labels["variants"] == [{"label": "ＯＫ", "as": "OK", "count": 1}, {"label": "正面 ", "as": "正面", "count": 1},
                                  {"label": "负面\u3000", "as": "负面", "count": 1}]
    blank, variants = label_problems(labels)
    assert blank == "1 row with a blank label (not counted as a class) / 1 行标签为空（不计为类别）"
    assert "labels that differ only by whitespace or width: 'ＯＫ' → 'OK' (1 row), '正面 ' → '正面' (1 row)" in variants
    assert " / 仅空白或全角/半角不同的标签：" in variants
    assert report.summary()["label_problems"] == [blank, variants] and report.summary()["label_blank"] == 1
    report.ref = "reviews@1"
    chinese = describe(report, "zh")
    assert "标签（output）：4 种，最多/最少 = 10.5；'中性' 21 行，'负面' 20 行，'正面' 19 行，'OK' 2 行，1 行为空" in chinese
    assert "4 distinct, largest/smallest 10.5; '中性' 21, '负面' 20, '正面' 19, 'OK' 2, 1 blank" in describe(report, "en")
    assert "    ! 仅空白或全角/半角不同的标签：'ＯＫ' → 'OK'（1 行）" in chinese and "differ only" not in chinese
    assert "    ! 1 row with a blank label" in describe(report, "en")


def test_language_rule():
    texts = ["甄嬛传第一集", "hello world, how are you", "请把这句话翻译成英文：good morning everyone",
             "我用Python写代码", "Translate: 你好", "こんにちは、元気ですか", "12345 !!!", "", "Привет мир",
             "ＡＢＣ ｄｅｆ"]
    got = [LANGUAGES[c] for c in language_codes(texts)]
    assert got == ["zh", "en", "mixed", "zh", "mixed", "other", "other", "other", "other", "en"]


def test_language_mix_per_split_on_huanhuan(huanhuan):
    report = quality_report(split_table(huanhuan, SplitConfig(seed=1)))
    assert report.languages["counts"]["zh"] >= 3700 and sum(report.languages["counts"].values()) == 3729
    assert sum(sum(v.values()) for v in report.languages["by_split"].values()) == 3729


def test_unknown_fields_are_refused_with_both_languages(huanhuan):
    with pytest.raises(ValueError, match="不存在|无效"):
        quality_report(huanhuan, fields=["nope"])


# --- versions, fixes, cache, job, CLI ---------------------------------------------------------------
def test_fixes_write_new_versions_that_say_what_they_dropped(ws, edited):
    table, _ = edited
    first = ws.create_dataset("huanhuan", split_table(table.drop_columns(["_id"]), SplitConfig(seed=42)))
    report = report_for_version(ws, first, QualityOptions(max_tokens=150))
    assert cached_report(first, QualityOptions(max_tokens=150)).to_dict() == report.to_dict()
    assert json.loads(cache_path(first, QualityOptions(max_tokens=150)).read_text())["ref"] == first.ref
    leaked = [p["id"] for p in report.leakage]
    after_leakage = apply_fix(ws, first, report, "leakage")
    assert (after_leakage.op, after_leakage.parent, after_leakage.rows) == ("drop_leakage", 1, first.rows - len(leaked))
    assert after_leakage.params["dropped"] == sorted(leaked) and after_leakage.params["report"] == first.ref
    with pytest.raises(StaleVersionError):
        apply_fix(ws, first, report, "exact")
    # the report of v1 drives fixes on its descendants: groups keep their first row still there
    deduped = apply_fix(ws, after_leakage, report, "near")
    rows = set(ws.read(deduped, ["_id"]).column("_id").to_pylist())
    assert deduped.op == "dedup" and deduped.params["kind"] == "near" and deduped.params["threshold"] == 0.8
    in_near = {i for g in report.near_groups for i in g["ids"]}
    for group in [g["ids"] for g in report.near_groups] + [g for g in report.exact_groups if g[0] not in in_near]:
        assert len(rows & set(group)) == 1, group  # leakage only dropped evaluation rows that repeat train
    with pytest.raises(ValueError, match="Nothing to drop"):
        apply_fix(ws, deduped, report, "exact")
    too_long = apply_fix(ws, deduped, report, "too_long")
    assert too_long.params["max"] == 150 and too_long.params["unit"] == "chars"
    lengths = [len(r["instruction"]) + len(r["output"]) for r in ws.read(too_long).to_pylist()]
    assert max(lengths) <= 150


def test_grids_hold_the_row_text(ws, huanhuan):
    version = ws.create_dataset("h", split_table(huanhuan, SplitConfig(seed=42)))
    report = report_for_version(ws, version, QualityOptions())
    groups = group_rows(version, report, "exact", limit=2).to_pylist()
    assert groups[0]["keep"] and not groups[1]["keep"] and groups[0]["instruction"] == groups[1]["instruction"]
    leaks = leakage_rows(version, report, limit=3).to_pylist()
    assert len(leaks) == 3 and all(r["instruction"] == r["train instruction"] for r in leaks if r["kind"] == "exact")


def test_report_is_json_and_round_trips(huanhuan):
    report = quality_report(huanhuan, label_field="output", max_tokens=50)
    again = QualityReport.from_dict(json.loads(json.dumps(report.to_dict(), ensure_ascii=False)))
    assert again.to_dict() == report.to_dict() and again.rows_to_drop("near") == report.rows_to_drop("near")


def test_cli_prints_the_report_and_fixes_with_a_tokenizer_by_model_id(tmp_path, huanhuan, bpe):
    from workbench.models import register_local
    from workbench.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    folder = tmp_path / "tiny-bpe"
    bpe.save_pretrained(folder)
    (folder / "config.json").write_text('{"model_type": "gpt2"}')
    (folder / "model.safetensors").write_bytes(b"")  # never loaded: only the tokenizer is used
    model_id = register_local(ws, folder, "tiny bpe").id
    ws.create_dataset("huanhuan", split_table(huanhuan.drop_columns(["_id"]), SplitConfig(seed=42)))

    result = subprocess.run([sys.executable, "-m", "workbench", "--workspace", str(ws.root), "quality", "huanhuan",
                             "--label", "output", "--max-tokens", "30", "--tokenizer", model_id, "--json",
                             "--fix", "exact", "leakage"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    summary, *fixes = result.stdout.splitlines()
    counted = [sum(len(bpe(r[f], add_special_tokens=False)["input_ids"]) for f in FIELDS if r[f])
               for r in huanhuan.to_pylist()]
    summary = json.loads(summary)
    assert summary["exact_duplicate_rows"] == 112 and summary["too_long_rows"] == sum(n > 30 for n in counted)
    assert summary["label_distinct"] == 3437 and fixes[0] == "fix exact: dropped 112 rows -> huanhuan@2 (3,617 rows)"
    head = ws.version("huanhuan")
    after = quality_report(ws.read(head))  # nothing left to fix
    assert after.rows_to_drop("exact") == [] and after.leakage == [] and head.rows == 3729 - summary["exact_duplicate_rows"] - (
        0 if fixes[1].startswith("fix leakage: nothing") else int(fixes[1].split()[3]))


def test_cli_summary_reads_as_lines(huanhuan):
    report = quality_report(split_table(huanhuan, SplitConfig(seed=42)), label_field="output", max_tokens=100)
    report.ref = "huanhuan@2"
    text = describe(report)
    assert text.splitlines()[0].startswith("quality of huanhuan@2 (3,729 rows; fields instruction, input, output;")
    assert "  exact duplicates: 112 rows to drop in 7 groups" in text and "too long (> 100 chars)" in text
    assert "labels (output): 3,437 distinct" in text and "languages: zh 3,729" in text
