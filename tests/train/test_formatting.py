"""Rows -> token ids + labels through SmolLM2's real chat template: loss exactly on the answer tokens."""
import numpy as np

from workbench.train.formatting import IGNORE, length_report, tokenize_rows

ROW = {"_id": 7, "system": "Be brief.", "history": '[["hi", "hello there"], ["how are you", "fine thanks"]]',
       "instruction": "Add the numbers", "input": "2+2", "output": "four"}


def tokenized(tokenizer, row, max_length):
    """The example the training path makes of one row."""
    (example,), problems = tokenize_rows(tokenizer, [row], max_length)
    assert problems == []
    return example


def segments_of(row):
    """The ChatML text of the row as (text, is_answer) pieces, written out by hand."""
    turn = "<|im_start|>{}\n{}<|im_end|>\n"
    history = [["hi", "hello there"], ["how are you", "fine thanks"]]
    pieces = [(turn.format("system", row["system"]), False)]
    for question, answer in history + [[f"{row['instruction']}\n{row['input']}", row["output"]]]:
        pieces.append((turn.format("user", question) + "<|im_start|>assistant\n", False))
        pieces.append((f"{answer}<|im_end|>\n", True))
    return pieces


def test_labels_are_the_answer_tokens_and_their_end_of_turn_token_by_token(tokenizer):
    example = tokenized(tokenizer, ROW, max_length=512)
    ids, labels = [], []
    for text, is_answer in segments_of(ROW):
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if is_answer else [IGNORE] * len(piece)
    assert example.input_ids.tolist() == ids  # the template renders exactly the hand-written conversation
    for position, (token, label, expected) in enumerate(zip(example.input_ids, example.labels, labels)):
        assert label == expected, (position, tokenizer.decode([int(token)]), label)
    assert not example.truncated
    answered = tokenizer.decode(example.input_ids[example.labels != IGNORE])
    assert answered == "hello there<|im_end|>\nfine thanks<|im_end|>\nfour<|im_end|>\n"
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    ends = np.flatnonzero(example.input_ids == end)
    assert len(ends) == 7  # system, 3 user turns, 3 answers
    assert [int(example.labels[i] != IGNORE) for i in ends] == [0, 0, 1, 0, 1, 0, 1]
    prompt_text = tokenizer.decode(example.input_ids[example.labels == IGNORE])
    for prompt in ("Be brief.", "hi", "how are you", "Add the numbers\n2+2"):
        assert prompt in prompt_text


def test_truncation_cuts_to_max_length_and_says_so(tokenizer):
    full = tokenized(tokenizer, ROW, max_length=512)
    cut = tokenized(tokenizer, ROW, max_length=len(full.input_ids) - 3)
    assert cut.truncated and len(cut.input_ids) == len(cut.labels) == len(full.input_ids) - 3
    assert cut.input_ids.tolist() == full.input_ids[:-3].tolist()
    exact = tokenized(tokenizer, ROW, max_length=len(full.input_ids))
    assert not exact.truncated and exact.answer_tokens == full.answer_tokens


def test_bad_rows_are_reported_with_their_row_id_not_crashed_on(tokenizer):
    rows = [
        {"_id": 1, "instruction": "Name a fruit.", "output": "Apple."},
        {"_id": 2, "instruction": "Say nothing.", "output": "   "},
        {"_id": 3, "instruction": "Say nothing.", "output": None},
        {"_id": 4, "instruction": "word " * 100, "output": "Too late."},
        {"_id": 5, "instruction": "And now?", "output": "", "history": '[["hi", "hello"]]'},
        {"_id": 6, "messages": '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}]'},
    ]
    examples, problems = tokenize_rows(tokenizer, rows, max_length=48)
    assert len(examples) == 2
    by_row = {p["row"]: p["problem"] for p in problems}
    assert set(by_row) == {2, 3, 4, 5}
    assert "empty output" in by_row[2] and "empty output" in by_row[3]
    assert "empty output" in by_row[5]  # an empty final answer would teach the model to say nothing
    assert "longer than max_length=48" in by_row[4]
    # no `_id`: the position in the list locates the row
    _, problems = tokenize_rows(tokenizer, [{"instruction": "a", "output": ""}], max_length=48)
    assert problems == [{"row": 0, "problem": problems[0]["problem"]}]


def test_length_report_counts_rows_the_max_length_would_cut(tokenizer):
    rows = [{"instruction": "short", "output": "yes"}, {"instruction": "long " * 60, "output": "no"}]
    short = len(tokenized(tokenizer, rows[0], 512).input_ids)  # with SmolLM2's default system
    report = length_report(tokenizer, rows, max_length=short)
    assert report["rows"] == 2 and report["truncated"] == 1 and report["max"] > short + 50


def test_length_report_gate_counts_are_what_tokenize_rows_keeps_cuts_and_skips(tokenizer):
    rows = [{"instruction": "short", "output": "yes"}, {"instruction": "long " * 60, "output": "no"},
            {"instruction": "a question", "output": "a long answer " * 40}, {"instruction": "empty", "output": " "},
            {"messages": [{"role": "user", "content": "hi"}]}]
    max_length = len(tokenized(tokenizer, rows[0], 512).input_ids) + 4
    report = length_report(tokenizer, rows, max_length)
    examples, problems = tokenize_rows(tokenizer, rows, max_length)
    assert (report["kept"], report["cut"], report["dropped"], report["empty"]) == (2, 1, 1, 2)
    assert report["kept"] == len(examples) and report["cut"] == sum(e.truncated for e in examples)
    assert report["dropped"] + report["empty"] + report["unusable"] == len(problems)


def test_base_tokenizer_without_template_gets_chatml(tokenizer):
    from workbench.train.formatting import FALLBACK_TEMPLATE, ensure_chat_template

    plain = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    plain.chat_template = None
    example = tokenized(plain, {"instruction": "hi", "output": "hello"}, 64)  # the training path sets it
    assert plain.chat_template == FALLBACK_TEMPLATE == ensure_chat_template(plain)
    assert plain.decode(example.input_ids[example.labels != IGNORE]) == "hello<|im_end|>\n"
