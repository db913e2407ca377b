"""Streaming a local model's answer as text pieces that never carry part of a character.

A byte-level tokenizer spends up to four tokens on one Chinese character; decoding the first of them alone gives
U+FFFD. `TextDeltas` hands out only the new text up to the last whole character, holding back an incomplete one
until the next token completes it (incremental detokenization). It decodes a short window, not the whole answer:
from the tokens of the last piece it emitted (their context: a SentencePiece word's leading space) to the newest,
so the work per token stays the same however long the answer grows (vLLM's `detokenize_incrementally`).
`TokenStreamer` is that as a transformers streamer for `generate(streamer=...)`, read from another thread:

    streamer = TokenStreamer(tokenizer)              # generate(..., streamer=streamer) runs in a thread
    for piece in streamer: ...                       # whole characters only
    piece = streamer.rest(cut=finish == "length")    # what was held back: dropped when the answer was cut
The pieces then add up to the non-streamed answer (which `without_cut_character` trims the same way).
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from transformers.generation.streamers import BaseStreamer

from .types import LLMError, sampling_options, without_cut_character

_END = object()


class TextDeltas:
    """New text per added token ids, never ending inside a character.

    `ids[prefix:read]` decode to `prefix_text`, text already emitted; `ids[read:]` are the ids since, of which the
    first `held` characters (decoded after `prefix_text`) are emitted too. Both offsets move on once the window's
    text ends in a whole character, so `prefix` always starts a character and the window stays a few tokens."""

    def __init__(self, tokenizer):
        self.tokenizer, self.ids = tokenizer, []
        self.prefix, self.read, self.prefix_text, self.held = 0, 0, "", 0

    def add(self, ids) -> str:
        """The text the new ids complete ("" while they only start a character)."""
        self.ids.extend(int(i) for i in ids)
        text = self._decode(self.prefix)
        # text already emitted stays a prefix (a whole character decodes the same whatever follows it)
        sent = len(self.prefix_text) + self.held
        delta = without_cut_character(text)[sent:]
        if text.endswith("\ufffd"):
            self.held += len(delta)
        else:
            self.prefix, self.read = self.read, len(self.ids)
            self.prefix_text, self.held = self._decode(self.prefix), 0
        return delta

    def rest(self, cut: bool) -> str:
        """The text held back at the end: kept if the model ended there, dropped if the length limit cut it."""
        text = self._decode(self.prefix)
        return (without_cut_character(text) if cut else text)[len(self.prefix_text) + self.held:]

    def _decode(self, start: int) -> str:
        return self.tokenizer.decode(self.ids[start:], skip_special_tokens=True)


class TokenStreamer(BaseStreamer):
    """`generate`'s streamer (the prompt it puts first is skipped); iterate for whole-character text pieces."""

    def __init__(self, tokenizer, timeout: float | None = None):
        self.deltas, self.timeout = TextDeltas(tokenizer), timeout
        self._pieces: queue.Queue = queue.Queue()
        self._prompt_seen = False

    @property
    def ids(self) -> list[int]:
        """The ids generated so far (an end-of-text token included)."""
        return self.deltas.ids

    def put(self, value) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        piece = self.deltas.add(value.reshape(-1).tolist())
        if piece:
            self._pieces.put(piece)

    def end(self) -> None:
        self._pieces.put(_END)

    def rest(self, cut: bool) -> str:
        return self.deltas.rest(cut)

    def __iter__(self) -> Iterator[str]:
        while (piece := self._pieces.get(timeout=self.timeout)) is not _END:
            yield piece


def stream_local(backend, messages: list[dict], params) -> Iterator[str]:
    """A LocalBackend's answer as whole-character pieces (greedy or sampled, seeded); raises LLMError on failure."""
    import torch

    tokenizer = backend.tokenizer
    inputs = {"input_ids": torch.tensor([backend.prompt_ids(messages)])}
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    streamer = TokenStreamer(tokenizer, timeout=600)
    options = {"max_new_tokens": params.max_new_tokens, "pad_token_id": tokenizer.pad_token_id,
               "streamer": streamer, **sampling_options(params)}
    failure: list[BaseException] = []

    def generate():
        try:
            with backend._lock, torch.no_grad():
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                backend.model.generate(**inputs, **options)
        except Exception as error:  # noqa: BLE001 - reported to the reader below
            failure.append(error)
            streamer.end()

    thread = threading.Thread(target=generate, daemon=True)
    thread.start()
    yield from streamer
    thread.join()
    if failure:
        raise LLMError("model", f"{type(failure[0]).__name__}: {failure[0]}")
    rest = streamer.rest(backend.cut_by_length(streamer.ids, params.max_new_tokens))
    if rest:
        yield rest
