"""Incremental detokenization: the streamed pieces add up to the whole answer's decode, never end inside a
character, and each new token decodes only a short window (not the answer so far)."""
import json

import pytest

from workbench.llm.streaming import TextDeltas

MIXED = ("皇上，臣妾做不到啊！Hello there, 这是一段 long mixed text 🙂 with emoji 😀 and 标点符号「」、。"
         "Line two:\n  indented 代码 `x = 1`; numbers 12345 and 华妃娘娘 arrives… ")


@pytest.fixture(scope="module")
def smollm2_tokenizer(tmp_path_factory):
    """SmolLM2's real byte-level BPE tokenizer (Chinese falls back to byte tokens), extracted from the bundled GGUF."""
    from transformers import AutoTokenizer

    from workbench import models
    from workbench.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("tokenizer") / "workspace")
    return AutoTokenizer.from_pretrained(str(models.tokenizer_folder(ws, models.SMOLLM2_ID)))


@pytest.fixture(scope="module")
def sentencepiece_tokenizer(huanhuan_rows):
    """A Llama-style tokenizer (SentencePiece '▁' spaces, <0xE4>-style byte fallback, leading space stripped on
    decode), trained on a little of huanhuan so that most Chinese characters fall back to bytes."""
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers
    from transformers import PreTrainedTokenizerFast

    def llama_like(model):
        tokenizer = Tokenizer(model)
        tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                               decoders.Strip(" ", 1, 0)])
        return tokenizer

    draft = llama_like(models.BPE(unk_token="<unk>"))
    texts = [row["instruction"] + row["output"] for row in huanhuan_rows[:200]] + [MIXED.replace(" ", " the ")]
    draft.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, limit_alphabet=120,
                                                         special_tokens=["<unk>", "<s>", "</s>"]))
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{f"<0x{byte:02X}>": 3 + byte for byte in range(256)}}
    for token in sorted(draft.get_vocab(), key=draft.get_vocab().get):
        vocab.setdefault(token, len(vocab))
    merges = [tuple(merge.split(" ")) if isinstance(merge, str) else tuple(merge)
              for merge in json.loads(draft.to_str())["model"]["merges"]]
    tokenizer = llama_like(models.BPE(vocab, merges, unk_token="<unk>", byte_fallback=True))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def streamed(tokenizer, ids, step=1):
    deltas = TextDeltas(tokenizer)
    pieces = [deltas.add(ids[start:start + step]) for start in range(0, len(ids), step)]
    return pieces, deltas


def decoded_whole_each_time(tokenizer, ids):
    """The former TextDeltas (the whole answer decoded at every token): its pieces and its rest(cut) for both cuts."""
    def decode(until):
        return tokenizer.decode(ids[:until], skip_special_tokens=True)

    pieces, sent = [], ""
    for until in range(1, len(ids) + 1):
        whole = decode(until).rstrip("\ufffd")
        pieces.append(whole[len(sent):] if len(whole) > len(sent) else "")
        sent = whole if len(whole) > len(sent) else sent
    return pieces, {cut: (decode(len(ids)).rstrip("\ufffd") if cut else decode(len(ids)))[len(sent):]
                    for cut in (True, False)}


@pytest.mark.parametrize("which", ["smollm2_tokenizer", "sentencepiece_tokenizer"])
def test_pieces_add_up_to_the_whole_decode_of_a_long_mixed_answer(which, request, huanhuan_rows):
    tokenizer = request.getfixturevalue(which)
    text = MIXED + "".join(row["output"] + " And then: " + row["instruction"] + "\n" for row in huanhuan_rows[:60])
    ids = tokenizer.encode(text, add_special_tokens=False)
    byte_tokens = sum(tokenizer.decode([i]).endswith("\ufffd") for i in ids)
    assert len(ids) > 3000 and byte_tokens > 500  # long, and many characters spread over byte tokens
    whole = tokenizer.decode(ids, skip_special_tokens=True)
    for step in (1, 3):
        pieces, deltas = streamed(tokenizer, ids, step)
        assert "".join(pieces) + deltas.rest(cut=False) == whole, step
        assert not any(piece.endswith("\ufffd") for piece in pieces)
        assert sum(bool(piece) for piece in pieces) > len(pieces) // 3  # text comes as it is generated


@pytest.mark.parametrize("which", ["smollm2_tokenizer", "sentencepiece_tokenizer"])
def test_the_pieces_are_those_of_decoding_the_whole_answer_at_every_token(which, request):
    """The same pieces, token by token, and the same held-back rest wherever the answer is cut."""
    tokenizer = request.getfixturevalue(which)
    ids = tokenizer.encode(MIXED * 3, add_special_tokens=False)
    expected, _ = decoded_whole_each_time(tokenizer, ids)
    pieces, _ = streamed(tokenizer, ids)
    assert pieces == expected
    for cut in range(1, 150):
        _, rest = decoded_whole_each_time(tokenizer, ids[:cut])
        _, deltas = streamed(tokenizer, ids[:cut])
        assert deltas.rest(cut=True) == rest[True], cut
        # an answer ended after a character's first bytes: byte fallback turns a whole unfinished byte run into
        # one U+FFFD per byte when decoded whole, so only how many U+FFFD the kept rest holds may differ
        assert deltas.rest(cut=False).rstrip("\ufffd") == rest[False].rstrip("\ufffd"), cut


def test_an_end_of_text_token_adds_nothing_and_a_cut_character_is_dropped(smollm2_tokenizer):
    tokenizer = smollm2_tokenizer
    ids = tokenizer.encode("你好，世界", add_special_tokens=False)
    pieces, deltas = streamed(tokenizer, ids + [tokenizer.eos_token_id])
    assert "".join(pieces) == "你好，世界" and pieces[-1] == "" and deltas.rest(cut=False) == ""
    pieces, deltas = streamed(tokenizer, ids[:-1])  # the last character lost its last byte token
    assert "".join(pieces) == "你好，世" and deltas.rest(cut=True) == "" and deltas.rest(cut=False) == "\ufffd"


@pytest.mark.parametrize("which", ["smollm2_tokenizer", "sentencepiece_tokenizer"])
def test_each_token_decodes_a_short_window_not_the_answer_so_far(which, request, huanhuan_rows):
    tokenizer = request.getfixturevalue(which)
    ids = tokenizer.encode("".join(row["output"] + " Then " for row in huanhuan_rows[:80]), add_special_tokens=False)
    assert len(ids) > 3000
    lengths = []

    class Counting:
        def decode(self, token_ids, **options):
            lengths.append(len(token_ids))
            return tokenizer.decode(token_ids, **options)

    pieces, _ = streamed(Counting(), ids)
    assert "".join(pieces) == tokenizer.decode(ids).rstrip("\ufffd")
    assert max(lengths) <= 8  # a character is at most 4 byte tokens, and the window starts one piece back
    assert len(lengths) <= 2 * len(ids)  # at most two decodes per token
