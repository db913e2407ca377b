"""The model behind the published API: transformers on CPU (or vLLM, see vllm_engine.py).

    engine = load_engine(ws, "run-<id>")                  # base + adapter merged by models.load_causal_lm
    prepared = engine.prepare(messages, GenerationParams(max_new_tokens=64))
    engine.complete(prepared)                              # a Completion
    for piece in (stream := engine.stream(prepared)): ...  # text pieces; stream.result once it ended

One generation at a time per model (a lock): on CPU a second concurrent generation only halves the speed
of both, and it keeps memory flat. Requests wait their turn.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Callable

from ..llm.types import Completion, GenerationParams, sampling_options, without_cut_character


class RequestError(ValueError):
    """A request this model cannot take (its chat template refused the messages): answered with HTTP 400."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.param, self.code = param, code


# --- stop strings ------------------------------------------------------------------------------------
def cut_at_stop(text: str, stops) -> tuple[str, bool]:
    """(text before the first stop string, whether one was found)."""
    found = [index for index in (text.find(stop) for stop in stops) if index >= 0]
    return (text[:min(found)], True) if found else (text, False)


def held_back(text: str, stops) -> int:
    """How many trailing characters could still grow into a stop string (and must wait)."""
    return max((k for stop in stops for k in range(1, len(stop)) if text.endswith(stop[:k])), default=0)


class StopCutter:
    """Streamed text cut at the first stop string, so a client never sees a stop string or part of one."""

    def __init__(self, stops):
        self.stops, self.pending, self.stopped = tuple(stops), "", False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        text, self.stopped = cut_at_stop(self.pending + piece, self.stops)
        keep = 0 if self.stopped else held_back(text, self.stops)
        self.pending = text[len(text) - keep:] if keep else ""
        return text[:len(text) - keep]

    def finish(self) -> str:
        text, self.pending = self.pending, ""
        return text


def render_prompt(tokenizer, messages: list[dict]) -> str:
    """The prompt through the model's chat template; RequestError when the template refuses the messages."""
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception as error:  # jinja's TemplateError (e.g. roles it does not allow): the request's problem
        raise RequestError(f"The model's chat template cannot take these messages: {error} / "
                           f"模型的对话模板无法处理这些消息：{error}", "messages") from None


# --- transformers -----------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A request turned into prompt token ids, with its (length-capped) generation settings."""
    input_ids: object  # a (1, n) LongTensor
    params: GenerationParams


class TransformersEngine:
    name = "transformers"

    def __init__(self, ws, model: str, progress: Callable[[str, float], None] | None = None):
        from ..llm.backends import LocalBackend
        from ..llm.endpoints import Endpoint
        from ..train.formatting import ensure_chat_template

        backend = LocalBackend(ws, Endpoint("serve", "local", model=str(model), max_concurrency=1), progress)
        self.model_id, self.model, self.tokenizer = backend.model_id, backend.model, backend.tokenizer
        self.end_ids = backend.stop_ids  # an answer ending in one of these stopped, even at the length limit
        ensure_chat_template(self.tokenizer)  # a base model without one talks ChatML, as it was trained
        self.context_length = getattr(self.model.config, "max_position_embeddings", None)
        self._lock = threading.Lock()  # one generation at a time (see the module docstring)

    def prepare(self, messages: list[dict], params: GenerationParams) -> Prepared:
        prompt = render_prompt(self.tokenizer, messages)
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
        room = (self.context_length or 10**9) - ids.shape[1]
        if room < 1:
            raise RequestError(f"The messages are {ids.shape[1]} tokens; the model takes at most "
                               f"{self.context_length} / 消息共 {ids.shape[1]} 个 token，超过模型上限 "
                               f"{self.context_length}", "messages", "context_length_exceeded")
        if params.max_new_tokens > room:  # as much answer as the context leaves, not an error
            params = replace(params, max_new_tokens=room)
        return Prepared(ids, params)

    def complete(self, prepared: Prepared) -> Completion:
        output = self._generate(prepared)
        new = output[0, prepared.input_ids.shape[1]:].tolist()
        text, stopped = cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True), prepared.params.stop)
        return self._completion(prepared, text, len(new), stopped or self.ended(new))

    def stream(self, prepared: Prepared) -> "TextStream":
        from ..llm.streaming import TokenStreamer

        return TextStream(self, prepared, TokenStreamer(self.tokenizer))  # pieces of whole characters only

    def ended(self, new_ids: list[int]) -> bool:
        """The model itself ended the answer (an end-of-text token last)."""
        return bool(new_ids) and new_ids[-1] in self.end_ids

    def _completion(self, prepared: Prepared, text: str, tokens: int, stopped: bool) -> Completion:
        finish = "length" if tokens >= prepared.params.max_new_tokens and not stopped else "stop"
        text = without_cut_character(text) if finish == "length" else text
        return Completion(text, self.model_id, finish, int(prepared.input_ids.shape[1]), tokens)

    def _generate(self, prepared: Prepared, **extra):
        import torch

        params = prepared.params
        options = {"max_new_tokens": params.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                   **sampling_options(params)}
        if params.temperature > 0:  # top_k 0: OpenAI samples from the whole top_p nucleus, not the top 50
            options["top_k"] = 0
        if params.stop:
            options.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        with self._lock, torch.no_grad():
            if params.seed is not None:  # the global RNG: safe under the lock
                torch.manual_seed(params.seed)
            return self.model.generate(input_ids=prepared.input_ids,
                                       attention_mask=torch.ones_like(prepared.input_ids), **options, **extra)


class TextStream:
    """Iterate for text pieces as they are generated (in a thread); `result` is the Completion afterwards.

    Stopping the iteration early (the client went away) ends the generation at the next token."""

    def __init__(self, engine: TransformersEngine, prepared: Prepared, streamer):
        self.engine, self.prepared, self.streamer = engine, prepared, streamer
        self.result: Completion | None = None
        self._abandoned = threading.Event()
        self._box: dict = {}
        self._thread = threading.Thread(target=self._work, args=(_until_set(self._abandoned),), daemon=True)
        self._thread.start()

    def _work(self, criteria) -> None:
        try:
            self._box["output"] = self.engine._generate(self.prepared, streamer=self.streamer,
                                                        stopping_criteria=criteria)
        except BaseException as error:  # noqa: BLE001 - handed to the reader, which raises it
            self._box["error"] = error
            self.streamer.end()  # unblocks the reader

    def __iter__(self):
        cutter = StopCutter(self.prepared.params.stop)
        pieces: list[str] = []
        try:
            for piece in self.streamer:
                text = cutter.feed(piece)
                if text:
                    pieces.append(text)
                    yield text
                if cutter.stopped:
                    break
        finally:
            self._abandoned.set()
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        tokens = int(self._box["output"].shape[1] - self.prepared.input_ids.shape[1])
        stopped = cutter.stopped or self.engine.ended(self.streamer.ids)
        # the streamer held back a character the last tokens only began: dropped when the length limit cut it
        cut = tokens >= self.prepared.params.max_new_tokens and not stopped
        tail = cutter.feed(self.streamer.rest(cut)) + cutter.finish()
        if tail:
            pieces.append(tail)
            yield tail
        self.result = self.engine._completion(self.prepared, "".join(pieces), tokens, stopped or cutter.stopped)


def _until_set(event: threading.Event):
    """Stopping criteria that end generation once `event` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class UntilSet(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), event.is_set(), dtype=torch.bool)

    return StoppingCriteriaList([UntilSet()])


# --- choosing the engine ------------------------------------------------------------------------------
def vllm_usable() -> bool:
    """vLLM is installed and a CUDA GPU is present."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def load_engine(ws, model: str, engine: str = "auto", progress: Callable[[str, float], None] | None = None,
                log: Callable[[str], None] = print):
    """The engine for `model`: vLLM when asked or (auto) when usable, else transformers."""
    if engine not in ("auto", "transformers", "vllm"):
        raise ValueError(f"engine must be auto, transformers or vllm / 引擎必须是 auto、transformers 或 vllm: {engine}")
    if engine == "vllm" or (engine == "auto" and vllm_usable()):
        from .vllm_engine import VLLMEngine

        try:
            return VLLMEngine(ws, model)
        except Exception as error:  # noqa: BLE001 - untested path: fall back rather than fail the server
            if engine == "vllm":
                raise
            log(f"vLLM could not load the model ({type(error).__name__}: {error}); using transformers")
    return TransformersEngine(ws, model, progress)
