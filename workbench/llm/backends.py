"""Two backends behind one interface: `complete(messages, params)` and `complete_many(...)`.

- OpenAIBackend: any OpenAI-compatible chat-completions endpoint through the `openai` package, with a
  concurrency limit, our own retries (exponential backoff with jitter, `Retry-After` honoured) on
  429/5xx/timeouts/unreachable/invalid or empty answers, and a timeout per request.
- LocalBackend: a transformers model from the registry (bundled, local folder or finished run),
  generating batches of prompts of similar length at once (left padding; a prompt start shared by the
  whole batch, such as a system prompt, is computed once).
`complete_many` never raises for one bad row: each item comes back as a Completion or an LLMError, or None
where `cancelled()` stopped it first (a local model checks it at every generated token).
"""
from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from .endpoints import Endpoint, api_key, redact
from .types import Completion, GenerationParams, LLMError, sampling_options, without_cut_character

Messages = list[dict]
Result = Completion | LLMError
BACKOFF_BASE_S, BACKOFF_CAP_S, RETRY_AFTER_CAP_S = 0.5, 20.0, 60.0
SHARED_PREFIX_MIN = 8  # tokens every prompt of a batch starts with; fewer are not worth a separate pass


class Backend:
    endpoint: Endpoint

    def complete(self, messages: Messages, params: GenerationParams = GenerationParams()) -> Completion:
        raise NotImplementedError

    def complete_many(self, requests: Sequence[Messages], params: GenerationParams = GenerationParams(),
                      on_result: Callable[[int, Result], None] | None = None,
                      cancelled: Callable[[], bool] | None = None,
                      on_progress: Callable[[float], None] | None = None) -> list[Result]:
        """Every request's Completion or LLMError, in request order; `on_result(index, result)` as each finishes,
        `on_progress(done)` for a backend that finishes many at once (how far the call is meanwhile)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def backend_for(ws, endpoint: Endpoint | str, progress: Callable[[str, float], None] | None = None) -> Backend:
    """The backend of an endpoint; `progress(stage, fraction)` hears a local model's loading stages (and may raise,
    e.g. JobCancelled, to stop it)."""
    from .endpoints import get_endpoint

    endpoint = get_endpoint(ws, endpoint) if isinstance(endpoint, str) else endpoint
    return OpenAIBackend(endpoint) if endpoint.kind == "openai" else LocalBackend(ws, endpoint, progress)


# --- OpenAI-compatible --------------------------------------------------------------------------------
class OpenAIBackend(Backend):
    def __init__(self, endpoint: Endpoint, secrets=None, sleep: Callable[[float], None] = time.sleep):
        import openai

        self.endpoint, self._sleep, self._secrets = endpoint, sleep, secrets
        self._client = openai.OpenAI(base_url=endpoint.base_url, api_key=api_key(endpoint, secrets) or "none",
                                     timeout=endpoint.timeout_s, max_retries=0)

    def complete(self, messages: Messages, params: GenerationParams = GenerationParams()) -> Completion:
        started, last = time.perf_counter(), None
        for attempt in range(1, self.endpoint.max_retries + 2):
            try:
                completion = self._once(messages, params)
                completion.seconds, completion.attempts = time.perf_counter() - started, attempt
                return completion
            except LLMError as error:
                last = error
                if not error.retryable or attempt > self.endpoint.max_retries:
                    break
                self._sleep(self._delay(attempt, getattr(error, "retry_after", None)))
        raise LLMError(last.kind, last.detail, attempts=attempt)

    def complete_many(self, requests, params=GenerationParams(), on_result=None, cancelled=None,
                      on_progress=None) -> list[Result]:
        # on_progress unused: each request finishes on its own, and on_result already says so
        results: list[Result | None] = [None] * len(requests)
        lock = threading.Lock()

        def one(index: int) -> None:
            if cancelled is not None and cancelled():
                return
            try:
                result: Result = self.complete(requests[index], params)
            except LLMError as error:
                result = error
            results[index] = result
            if on_result is not None:
                with lock:
                    on_result(index, result)

        with ThreadPoolExecutor(self.endpoint.max_concurrency) as pool:
            list(pool.map(one, range(len(requests))))
        return results

    def _once(self, messages: Messages, params: GenerationParams) -> Completion:
        response = self.create(messages, params)
        try:
            choice = response.choices[0]
            text = choice.message.content
        except (AttributeError, IndexError, TypeError):
            raise LLMError("bad_response", "no choices in the answer / 回答中没有 choices") from None
        if not isinstance(text, str) or not text.strip():
            raise LLMError("empty")
        usage = getattr(response, "usage", None)
        return Completion(text, getattr(response, "model", None) or self.endpoint.model, choice.finish_reason,
                          getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))

    def create(self, messages: Messages, params: GenerationParams, stream: bool = False):
        """The chat.completions request for these params (a chunk iterator when streaming); errors become LLMError."""
        extra = {"stop": list(params.stop)} if params.stop else {}
        if params.seed is not None:
            extra["seed"] = params.seed
        with self.mapped_errors():
            return self._client.chat.completions.create(
                model=self.endpoint.model, messages=messages, max_tokens=params.max_new_tokens,
                temperature=params.temperature, top_p=params.top_p, stream=stream, **extra)

    @contextlib.contextmanager
    def mapped_errors(self):
        """openai's exceptions as LLMError kinds (timeout, unreachable, HTTP status, bad_response), key-free."""
        import openai

        try:
            yield
        except openai.APITimeoutError as error:
            raise LLMError("timeout", self._clean(error)) from None
        except openai.APIConnectionError as error:
            raise LLMError("unreachable", self._clean(error)) from None
        except openai.APIStatusError as error:
            raise self._status_error(error) from None
        except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError) as error:
            raise LLMError("bad_response", self._clean(error)) from None

    def _status_error(self, error) -> LLMError:
        status = error.status_code
        kind = ("rate_limited" if status == 429 else "server" if status >= 500 else "auth" if status in (401, 403)
                else "not_found" if status == 404 else "bad_request")
        wrapped = LLMError(kind, f"HTTP {status}: {self._clean(error)[:300]}")
        header = error.response.headers.get("retry-after") if error.response is not None else None
        try:
            wrapped.retry_after = min(float(header), RETRY_AFTER_CAP_S) if header else None
        except ValueError:
            wrapped.retry_after = None
        return wrapped

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)

    def _clean(self, error: Exception) -> str:
        return redact(str(error), self.endpoint, self._secrets)

    def close(self) -> None:
        self._client.close()


# --- local transformers model -----------------------------------------------------------------------
class LocalBackend(Backend):
    """Loads the model once (a GGUF is converted once into the workspace cache first).

    Weights in bf16 on a CPU with bf16 instructions, else fp32 (`dtype` chooses; WORKBENCH_CPU_BF16=0 forces
    fp32 everywhere). `complete_many` sorts the prompts by token length and generates them in batches of `batch_size`
    (default: the endpoint's concurrency), left padded, so a batch holds similar lengths and little
    padding; results come back in request order. The prompts go through the model without their padding,
    the start they all share once, into a KV cache that grows in place (`prefill.prompt_cache`).
    """

    def __init__(self, ws, endpoint: Endpoint, progress: Callable[[str, float], None] | None = None,
                 batch_size: int | None = None, dtype=None):
        from transformers import AutoTokenizer

        from ..allocator import keep_freed_memory
        from ..models import ModelError, load_causal_lm, resolve
        from ..precision import cpu_dtype

        keep_freed_memory()  # the KV cache grows a step at a time: reuse its memory instead of faulting it in anew
        self.endpoint, self.batch_size = endpoint, batch_size or endpoint.max_concurrency
        # dtype None: bf16 where the CPU multiplies it natively (2.3x fp32's generated tokens/s on the bundled
        # model; greedy answers then depend on rounding, so a row can read differently alone and in a batch),
        # else fp32, where a row's answer is the same in any batch
        self.dtype = dtype or cpu_dtype()
        try:
            spec = resolve(ws, endpoint.model)
            model, folder = load_causal_lm(ws, spec, progress, dtype=self.dtype)
        except ModelError as error:
            raise LLMError("model", str(error)) from None
        self.model_id = spec.id
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = model.eval()
        eos = self.model.generation_config.eos_token_id
        self.stop_ids = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id,
                          *(eos if isinstance(eos, list) else [eos])} - {None}
        self._lock = threading.Lock()  # one generation at a time per loaded model

    def complete(self, messages: Messages, params: GenerationParams = GenerationParams()) -> Completion:
        result = self.complete_many([messages], params)[0]
        if isinstance(result, LLMError):
            raise result
        return result

    def complete_many(self, requests, params=GenerationParams(), on_result=None, cancelled=None,
                      on_progress: Callable[[float], None] | None = None) -> list[Result]:
        """As Backend's; `on_progress(done)`: while a batch generates, how much of this call is done, counting a row
        of the batch that has ended as done and the others by their share of max_new_tokens (a batch's answers come
        back together, minutes apart on a CPU: this is what moves a progress bar meanwhile)."""
        results: list[Result | None] = [None] * len(requests)
        prompts: list[list[int] | LLMError] = []
        for messages in requests:
            try:
                prompts.append(self.prompt_ids(messages))
            except Exception as error:  # noqa: BLE001 - e.g. a template that refuses this conversation
                prompts.append(LLMError("model", f"{type(error).__name__}: {error}"))
        order = sorted(range(len(requests)), key=lambda i: len(prompts[i]) if isinstance(prompts[i], list) else 0)
        for index in [i for i in order if isinstance(prompts[i], LLMError)]:
            results[index] = prompts[index]
            if on_result is not None:
                on_result(index, prompts[index])
        order = [i for i in order if not isinstance(prompts[i], LLMError)]
        before = len(requests) - len(order)  # the refused prompts are done already
        for start in range(0, len(order), self.batch_size):
            if cancelled is not None and cancelled():
                break
            batch = order[start:start + self.batch_size]
            step = (lambda rows, base=before + start: on_progress(base + rows)) if on_progress else None
            try:
                outputs = self._generate([prompts[i] for i in batch], params, cancelled, step)
            except Exception as error:  # noqa: BLE001 - a failed batch marks its rows, the job goes on
                outputs = [LLMError("model", f"{type(error).__name__}: {error}")] * len(batch)
            if outputs is None:  # cancelled mid-batch: its rows are cut short, none is finished
                break
            for index, output in zip(batch, outputs):
                results[index] = output
                if on_result is not None:
                    on_result(index, output)
        return results

    def prompt_ids(self, messages: Messages) -> list[int]:
        """Token ids of the conversation through the model's chat template, ready for the answer."""
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _generate(self, batch: list[list[int]], params: GenerationParams,
                  cancelled: Callable[[], bool] | None = None,
                  on_step: Callable[[float], None] | None = None) -> list[Result] | None:
        """The batch's answers; None when `cancelled()` turned true while generating (checked at every token).
        `on_step(rows)`: at every token, how many of the batch's rows are done (see complete_many)."""
        import torch

        from .prefill import padded_layout, prompt_cache

        started = time.perf_counter()
        shared = shared_prefix_length(batch)
        shared = shared if shared >= SHARED_PREFIX_MIN else 0
        input_ids, attention_mask = padded_layout(batch, shared, self.tokenizer.pad_token_id)
        with self._lock, torch.no_grad():
            cache = prompt_cache(self.model, batch, shared, params.max_new_tokens, self.tokenizer.pad_token_id)
            if params.seed is not None:
                torch.manual_seed(params.seed)
            options = {"max_new_tokens": params.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                       "past_key_values": cache, **sampling_options(params)}
            if params.stop:
                options.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            if cancelled is not None or on_step is not None:
                options["stopping_criteria"] = self._watch(input_ids.shape[1], params.max_new_tokens, cancelled,
                                                           on_step)
            output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **options)
        if cancelled is not None and cancelled():
            return None
        new = output[:, input_ids.shape[1]:]
        seconds = (time.perf_counter() - started) / len(batch)
        return [self._completion(row.tolist(), len(ids), params, seconds) for row, ids in zip(new, batch)]

    def _completion(self, generated: list[int], prompt_tokens: int, params: GenerationParams,
                    seconds: float) -> Result:
        # a row that finished early is padded while the rest of its batch goes on: count up to its end only
        end = next((i for i, token in enumerate(generated) if token in self.stop_ids), len(generated))
        tokens = generated[:end]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        for stop in params.stop:
            text = text.split(stop)[0]
        if not text.strip():
            return LLMError("empty")
        finish = "length" if self.cut_by_length(generated, params.max_new_tokens) else "stop"
        if finish == "length":
            text = without_cut_character(text)
        return Completion(text, self.model_id, finish, prompt_tokens, len(tokens), seconds)


    def _watch(self, prompt_length: int, max_new_tokens: int, cancelled: Callable[[], bool] | None,
               on_step: Callable[[float], None] | None):
        """A transformers StoppingCriteriaList called at every generated token: it reports the batch's progress to
        `on_step` and ends generation for every row once `cancelled()` is true."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        stop_ids = torch.tensor(sorted(self.stop_ids))

        class Watch(StoppingCriteria):
            ended = None  # rows that have made an end token

            def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
                if on_step is not None:
                    last = torch.isin(input_ids[:, -1], stop_ids.to(input_ids.device))
                    self.ended = last if self.ended is None else self.ended | last
                    ended = int(self.ended.sum())
                    made = input_ids.shape[1] - prompt_length
                    on_step(ended + (len(last) - ended) * min(1.0, made / max(1, max_new_tokens)))
                stop = cancelled is not None and bool(cancelled())
                return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

        return StoppingCriteriaList([Watch()])

    def cut_by_length(self, generated: list[int], max_new_tokens: int) -> bool:
        """The length limit cut the answer: max_new_tokens tokens made and no end-of-text token among them."""
        return len(generated) >= max_new_tokens and not self.stop_ids.intersection(generated)


def shared_prefix_length(batch: list[list[int]]) -> int:
    """How many leading tokens every prompt of the batch has in common (each keeps at least one of its own)."""
    if len(batch) < 2:
        return 0
    limit, first = min(len(ids) for ids in batch) - 1, batch[0]
    return next((i for i in range(limit) if any(ids[i] != first[i] for ids in batch[1:])), max(limit, 0))
