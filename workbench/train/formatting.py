"""Rows -> token ids and labels through the tokenizer's own chat template; loss only on answer tokens.

Each assistant turn (history answers and the final output) is found as the text the template adds
between "conversation so far + generation prompt" and "conversation including that answer", so the
end-of-turn token the template writes after an answer is learned too (the model learns to stop).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..records import row_messages

IGNORE = -100
# For base models without a chat template: plain ChatML, the format SmolLM2 and Qwen use.
FALLBACK_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


class FormatError(ValueError):
    """A row the chat template cannot turn into a training example (message says which and why)."""


@dataclass
class Example:
    input_ids: np.ndarray   # int64 [n]
    labels: np.ndarray      # int64 [n], IGNORE on prompt tokens
    truncated: bool

    @property
    def answer_tokens(self) -> int:
        return int((self.labels != IGNORE).sum())


def ensure_chat_template(tokenizer) -> str:
    """The template the run uses (the tokenizer's own, or ChatML for base models); set on the tokenizer."""
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = FALLBACK_TEMPLATE
    return tokenizer.chat_template


def answer_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of every assistant answer (with its end tag)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(messages[:index], tokenize=False, add_generation_prompt=True)
        last = index == len(messages) - 1  # the whole conversation: no third render
        upto = text if last else tokenizer.apply_chat_template(messages[:index + 1], tokenize=False)
        if not (upto.startswith(prompt) and text.startswith(upto)):
            raise FormatError("the chat template does not render conversations prefix by prefix, so answer tokens "
                              "cannot be located / 该对话模板无法逐轮渲染，无法定位回答部分")
        spans.append((len(prompt), len(upto)))
    return text, spans


def _example(ids, offsets, spans: list[tuple[int, int]], max_length: int) -> Example:
    """Labels = ids on tokens wholly inside an answer span; cut to max_length."""
    ids = np.asarray(ids, dtype=np.int64)
    bounds = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    starts, ends = bounds[:, 0], bounds[:, 1]
    in_answer = np.zeros(len(ids), dtype=bool)
    for begin, end in spans:
        in_answer |= (starts >= begin) & (ends <= end) & (ends > starts)
    labels = np.where(in_answer, ids, IGNORE)
    return Example(ids[:max_length], labels[:max_length], len(ids) > max_length)


ENCODE_CHUNK = 512  # rows per tokenizer call: one call encodes them in parallel (Rust), progress between calls
EMPTY_OUTPUT = "empty output / 输出为空"


def _render(tokenizer, rows: list[dict]) -> tuple[list[tuple], list[tuple[int, dict]]]:
    """(rendered rows as (position, location, text, answer spans), (position, problem) of rows with no answer to
    learn or a template that cannot render them). The chat template is Python, so rows are rendered one by one."""
    ensure_chat_template(tokenizer)
    rendered, problems = [], []
    for position, row in enumerate(rows):
        where = {"row": row.get("_id", position)}
        try:
            messages = row_messages(row)
            answers = [m for m in messages if m["role"] == "assistant"]
            if not answers or not all((m.get("content") or "").strip() for m in answers):
                # an empty answer (even after answered history turns) would teach the model to say nothing
                problems.append((position, {**where, "problem": EMPTY_OUTPUT}))
                continue
            rendered.append((position, where, *answer_spans(tokenizer, messages)))
        except FormatError as error:
            problems.append((position, {**where, "problem": str(error)}))
    return rendered, problems


def _encoded(tokenizer, rendered: list[tuple], progress=None):
    """(rendered row, token ids, character offsets) for each rendered row, encoded a chunk at a time."""
    for start in range(0, len(rendered), ENCODE_CHUNK):
        chunk = rendered[start:start + ENCODE_CHUNK]
        encoded = tokenizer([text for *_, text, _ in chunk], add_special_tokens=False, return_offsets_mapping=True)
        yield from zip(chunk, encoded["input_ids"], encoded["offset_mapping"])
        if progress:
            progress(min(start + ENCODE_CHUNK, len(rendered)), len(rendered))


def tokenize_rows(tokenizer, rows: list[dict], max_length: int, progress=None) -> tuple[list[Example], list[dict]]:
    """Examples for the rows that have something to learn, and located problems for those that do not."""
    rendered, problems = _render(tokenizer, rows)
    too_long = (f"the prompt alone is longer than max_length={max_length}, nothing left to learn / "
                f"提示词本身超过最大长度 {max_length}，没有可学习的回答")
    examples = []
    for (position, where, _, spans), ids, offsets in _encoded(tokenizer, rendered, progress):
        example = _example(ids, offsets, spans, max_length)
        if example.answer_tokens == 0:
            problems.append((position, {**where, "problem": too_long}))
            continue
        examples.append(example)
    return examples, [problem for _, problem in sorted(problems, key=lambda item: item[0])]


def length_report(tokenizer, rows: list[dict], max_length: int) -> dict:
    """What the max length and the row filter of training would do to `rows`, measured with the real tokenizer:
    rows longer than max_length (`truncated`), of them those kept with their answer cut (`cut`) and those whose
    prompt alone fills max_length (`dropped`); empty answers and rows the template cannot render (`unusable`);
    the rows left to learn from (`kept`); token counts per rendered row before the cut."""
    rendered, problems = _render(tokenizer, rows)
    lengths, cut, dropped = [], 0, 0
    for (*_, spans), ids, offsets in _encoded(tokenizer, rendered):
        lengths.append(len(ids))
        example = _example(ids, offsets, spans, max_length)  # the very filter tokenize_rows applies
        dropped += example.answer_tokens == 0
        cut += example.answer_tokens > 0 and example.truncated
    empty = sum(1 for _, problem in problems if problem["problem"] == EMPTY_OUTPUT)
    array = np.asarray(lengths or [0])
    return {"rows": len(lengths), "truncated": int((array > max_length).sum()), "cut": cut,
            "dropped": dropped, "empty": empty, "unusable": len(problems) - empty, "kept": len(lengths) - dropped,
            "max": int(array.max()),
            "mean": round(float(array.mean()), 1), "p95": int(np.percentile(array, 95)), "tokens": int(array.sum())}
