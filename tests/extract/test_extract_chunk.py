"""Chunking: exact spans, natural boundaries in real Chinese text, headings start chunks, sizes in tokens."""
import re

import pytest
from pydantic import ValidationError

from workbench.extract import ChunkConfig, chunk_document, chunk_text, read_pasted, sections

SENTENCE_END = "。！？；…!?;.”’」』）)"
GUIDE = """前言：这份指南介绍账户和订单。

# 用户指南

欢迎使用。本指南分为两部分。

## 账户

### 如何重置密码？

打开设置页面，点击“忘记密码”。按提示操作即可。

```bash
# 这不是标题，是代码注释
reset --user me
```

## 订单

### How do I cancel an order?

Open My orders and click Cancel. Refunds take 3.5 days on average.
"""


@pytest.fixture(scope="module")
def novel(huanhuan_rows):
    """About 30,000 characters of real Chinese dialogue: outputs joined into paragraphs of ten lines."""
    outputs = [row["output"].strip() for row in huanhuan_rows[:1200] if row["output"].strip()]
    paragraphs = ["".join(outputs[i:i + 10]) for i in range(0, len(outputs), 10)]
    return read_pasted("\n\n".join(paragraphs), "huanhuan")


def covered(text, chunks):
    seen = [False] * len(text)
    for chunk in chunks:
        for i in range(chunk.start, chunk.end):
            seen[i] = True
    return all(seen[i] or text[i].isspace() for i in range(len(text)))


@pytest.mark.parametrize("size, overlap", [(200, 0), (300, 60), (1000, 100)])
def test_chunks_of_real_chinese_text_are_exact_spans_within_size_and_cover_everything(novel, size, overlap):
    chunks = chunk_document(novel, size=size, overlap=overlap)
    text = novel.text
    assert len(chunks) > len(text) // size
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text and 0 < len(chunk.text) <= size
        assert chunk.document_id == novel.id and chunk.id == f"{novel.id}:{chunk.index}"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert covered(text, chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start and after.start >= before.end - overlap
        assert (after.start < before.end) == (overlap > 0 and after.start < before.end)


def test_chunks_end_and_start_at_sentence_boundaries(novel):
    chunks = chunk_document(novel, size=300, overlap=60)
    ends_at_sentence = sum(chunk.text[-1] in SENTENCE_END for chunk in chunks)
    assert ends_at_sentence >= 0.97 * len(chunks)
    starts = [novel.text[:chunk.start].rstrip()[-1] for chunk in chunks[1:]]
    assert sum(ch in SENTENCE_END for ch in starts) >= 0.9 * len(starts)
    assert all(ch in SENTENCE_END + "，、,：:" for ch in starts)  # else after a comma, never inside a phrase


def test_overlap_repeats_the_end_of_the_previous_chunk(novel):
    chunks = chunk_document(novel, size=300, overlap=80)
    overlapping = [(a, b) for a, b in zip(chunks, chunks[1:]) if b.start < a.end]
    assert len(overlapping) >= 0.8 * (len(chunks) - 1)
    for a, b in overlapping:
        shared = novel.text[b.start:a.end]
        assert a.text.endswith(shared.rstrip()) and b.text.startswith(shared.strip())


def test_chunking_is_deterministic(novel):
    assert chunk_document(novel, 400, 50) == chunk_document(novel, 400, 50)


def test_headings_start_chunks_and_carry_their_path():
    document = read_pasted(GUIDE, "guide.md")
    chunks = chunk_document(document, size=1000, overlap=0)
    assert [(c.headings, c.text.split("\n")[0]) for c in chunks] == [
        ((), "前言：这份指南介绍账户和订单。"),
        (("用户指南",), "# 用户指南"),
        (("用户指南", "账户"), "## 账户"),
        (("用户指南", "账户", "如何重置密码？"), "### 如何重置密码？"),
        (("用户指南", "订单"), "## 订单"),
        (("用户指南", "订单", "How do I cancel an order?"), "### How do I cancel an order?"),
    ]
    assert "# 这不是标题" in chunks[3].text  # a comment inside a code fence is not a heading
    assert chunks[3].heading_path == "用户指南 > 账户 > 如何重置密码？"
    assert all(GUIDE[c.start:c.end] == c.text for c in chunks)


def test_a_section_longer_than_the_size_is_split_inside_the_section():
    text = "# 标题\n\n" + "这是一句话。" * 100
    chunks = chunk_text(text, size=100, overlap=12)
    assert len(chunks) > 6 and all(c.headings == ("标题",) for c in chunks)
    assert all(len(c.text) <= 100 and c.text.endswith("。") for c in chunks)


def test_text_without_any_boundary_is_cut_at_the_size_with_the_exact_overlap():
    text = "无标点的长文本" * 100
    chunks = chunk_text(text, size=100, overlap=20)
    assert [len(c.text) for c in chunks[:-1]] == [100] * (len(chunks) - 1)
    assert all(b.start == a.end - 20 for a, b in zip(chunks, chunks[1:]))


def test_english_sentences_and_decimals():
    text = "Version 3.14 is out. It fixes the login bug! Does it need a restart? No; just reload. " * 20
    chunks = chunk_text(text, size=120, overlap=0)
    assert all(re.search(r"[.!?;]$", c.text) for c in chunks)
    assert not any(c.text.endswith("3.") for c in chunks)


def test_sizes_in_tokens_with_a_real_tokenizer(novel):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Punctuation()
    tokenizer.train_from_iterator([novel.text[:20000]], trainers.BpeTrainer(vocab_size=4000, special_tokens=["[UNK]"]))
    chunks = chunk_document(novel, size=64, overlap=8, tokenizer=tokenizer)
    starts = [start for start, _ in tokenizer.encode(novel.text).offsets]
    for chunk in chunks:
        tokens = sum(chunk.start <= s < chunk.end for s in starts)
        assert tokens <= 64 + 1  # a chunk can start inside a token (after a sentence end), at most one extra
    assert covered(novel.text, chunks)
    assert len(chunks) < len(chunk_document(novel, size=64, overlap=8))  # a token is more than one character


def test_sections_of_text_without_headings():
    assert [(s.start, s.end, s.headings) for s in sections("纯文本。")] == [(0, 4, ())]


def test_config_is_validated_in_both_languages():
    assert ChunkConfig().size == 1000
    with pytest.raises(ValidationError, match="重叠"):
        ChunkConfig(size=100, overlap=80)
    with pytest.raises(ValueError):
        chunk_text("abc", size=10, overlap=10)
