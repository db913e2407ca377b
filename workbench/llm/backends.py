"""Two backends behind one interface: `complete(messages, params)` and `complete_many(...)`.

- OpenAIBackend: any OpenAI-compatible chat-completions endpoint through the `openai` package, with a
  concurrency limit, our own retries (exponential backoff with jitter, `Retry-After` honoured) on
  429/5xx/timeouts/unreachable/invalid or empty answers, and a timeout per request.
- LocalBackend: a transformers model from the registry (bundled, local folder or finished run),
  generating a batch of prompts at once (left padding).
`complete_many` never raises for one bad row: each item comes back as a Completion or an LLMError.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from .endpoints import Endpoint, api_key, redact
from .types import Completion, GenerationParams, LLMError

Messages = list[dict]
Result = Completion | LLMError
BACKOFF_BASE_S, BACKOFF_CAP_S, RETRY_AFTER_CAP_S = 0.5, 20.0, 60.0


class Backend:
    endpoint: Endpoint

    def complete(self, messages: Messages, params: GenerationParams = GenerationParams()) -> Completion:
        raise NotImplementedError

    def complete_many(self, requests: Sequence[Messages], params: GenerationParams = GenerationParams(),
                      on_result: Callable[[int, Result], None] | None = None,
                      cancelled: Callable[[], bool] | None = None) -> list[Result]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def backend_for(ws, endpoint: Endpoint | str) -> Backend:
    from .endpoints import get_endpoint

    endpoint = get_endpoint(ws, endpoint) if isinstance(endpoint, str) else endpoint
    return OpenAIBackend(endpoint) if endpoint.kind == "openai" else LocalBackend(ws, endpoint)


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

    def complete_many(self, requests, params=GenerationParams(), on_result=None, cancelled=None) -> list[Result]:
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
        import openai

        extra = {"stop": list(params.stop)} if params.stop else {}
        if params.seed is not None:
            extra["seed"] = params.seed
        try:
            response = self._client.chat.completions.create(
                model=self.endpoint.model, messages=messages, max_tokens=params.max_new_tokens,
                temperature=params.temperature, top_p=params.top_p, **extra)
        except openai.APITimeoutError as error:
            raise LLMError("timeout", self._clean(error)) from None
        except openai.APIConnectionError as error:
            raise LLMError("unreachable", self._clean(error)) from None
        except openai.APIStatusError as error:
            raise self._status_error(error) from None
        except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError) as error:
            raise LLMError("bad_response", self._clean(error)) from None
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
    """Loads the model once (a GGUF is converted once into the workspace cache first)."""

    def __init__(self, ws, endpoint: Endpoint, progress: Callable[[str, float], None] | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from ..models import ModelError, load_causal_lm, resolve

        self.endpoint = endpoint
        try:
            spec = resolve(ws, endpoint.model)
            model, folder = load_causal_lm(ws, spec, progress, dtype=torch.float32)
        except ModelError as error:
            raise LLMError("model", str(error)) from None
        self.model_id = spec.id
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = model.eval()
        self._lock = threading.Lock()  # one generation at a time per loaded model

    def complete(self, messages: Messages, params: GenerationParams = GenerationParams()) -> Completion:
        result = self.complete_many([messages], params)[0]
        if isinstance(result, LLMError):
            raise result
        return result

    def complete_many(self, requests, params=GenerationParams(), on_result=None, cancelled=None) -> list[Result]:
        results: list[Result | None] = [None] * len(requests)
        size = self.endpoint.max_concurrency
        for start in range(0, len(requests), size):
            if cancelled is not None and cancelled():
                break
            batch = list(range(start, min(start + size, len(requests))))
            try:
                outputs = self._generate([requests[i] for i in batch], params)
            except Exception as error:  # noqa: BLE001 - a failed batch marks its rows, the job goes on
                outputs = [LLMError("model", f"{type(error).__name__}: {error}")] * len(batch)
            for index, output in zip(batch, outputs):
                results[index] = output
                if on_result is not None:
                    on_result(index, output)
        return results

    def _generate(self, batch: list[Messages], params: GenerationParams) -> list[Result]:
        import torch

        started = time.perf_counter()
        prompts = [self.tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in batch]
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        sampling = params.temperature > 0
        if params.seed is not None:
            torch.manual_seed(params.seed)
        options = {"do_sample": sampling, "max_new_tokens": params.max_new_tokens,
                   "pad_token_id": self.tokenizer.pad_token_id}
        if sampling:
            options.update(temperature=params.temperature, top_p=params.top_p)
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        if params.stop:
            options.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        with self._lock, torch.no_grad():
            output = self.model.generate(**inputs, **options)
        new = output[:, inputs["input_ids"].shape[1]:]
        seconds = (time.perf_counter() - started) / len(batch)
        results: list[Result] = []
        for row in new:
            tokens = [t for t in row.tolist() if t != self.tokenizer.pad_token_id]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            for stop in params.stop:
                text = text.split(stop)[0]
            finish = "length" if len(tokens) >= params.max_new_tokens else "stop"
            results.append(Completion(text, self.model_id, finish, int(inputs["input_ids"].shape[1]), len(tokens),
                                      seconds) if text.strip() else LLMError("empty"))
        return results
