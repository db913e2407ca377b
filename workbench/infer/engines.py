"""Which engine answers an arm: an OpenAI-compatible endpoint, vLLM (GPU) or local transformers.

Every engine is an `llm.Backend`: `complete_many(requests, params, on_result, cancelled)` answers each request
with a Completion or an LLMError and stops between batches when `cancelled()` turns true.
- endpoints: `concurrency` requests in flight (OpenAIBackend, with its retries and timeout);
- local models: LocalBackend, length-sorted left-padded batches of `batch_size`;
- vLLM when `import vllm` works and CUDA is present (continuous batching on the GPU).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import time
from collections.abc import Callable

from ..llm.backends import Backend, LocalBackend, OpenAIBackend
from ..llm.endpoints import Endpoint, list_endpoints
from ..llm.types import Completion, LLMError, without_cut_character

VLLM_CHUNK = 256  # prompts handed to vLLM at once: it batches inside; the cancel check runs between chunks


def arm_endpoint(ws, model: str) -> Endpoint:
    """The endpoint for an arm's `model`: a saved endpoint or `local:<id>`, else a local model id or folder.

    Raises ModelError (a located, bilingual message) when a local model cannot be found.
    """
    from ..models import resolve

    endpoints = {e.name: e for e in list_endpoints(ws)}
    endpoint = endpoints.get(model)
    if endpoint is None and model.startswith("local:"):
        endpoint = Endpoint(model, "local", model=model.split(":", 1)[1])
    if endpoint is not None:
        if endpoint.kind == "local":
            resolve(ws, endpoint.model)
        return endpoint
    spec = resolve(ws, model)
    return Endpoint(f"local:{spec.id}"[:80], "local", model=model)


def vllm_available() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def open_backend(ws, model: str, config, progress: Callable[[str, float], None] | None = None) -> Backend:
    """The loaded engine for one model with the config's batch size / concurrency (loads weights once)."""
    endpoint = arm_endpoint(ws, model)
    if endpoint.kind == "openai":
        return OpenAIBackend(dataclasses.replace(endpoint, max_concurrency=config.concurrency))
    if vllm_available():
        return VLLMBackend(ws, endpoint)
    return LocalBackend(ws, endpoint, progress, batch_size=config.batch_size)


class VLLMBackend(Backend):
    """vLLM's offline engine over the whole list (it schedules the batches itself).

    UNTESTED HERE: the development machines have no CUDA GPU and no vLLM, so this path has never run; it is
    chosen only when both are present. Loading (base + LoRA adapter for runs) is shared with the Serve engine.
    """

    def __init__(self, ws, endpoint: Endpoint):
        from ..serve.vllm_engine import VLLMEngine

        self.endpoint = endpoint
        self.engine = VLLMEngine(ws, endpoint.model)

    def complete_many(self, requests, params=None, on_result=None, cancelled=None, on_progress=None) -> list:
        from vllm import SamplingParams

        sampling = SamplingParams(temperature=params.temperature, top_p=params.top_p, seed=params.seed,
                                  max_tokens=params.max_new_tokens, stop=list(params.stop) or None)
        tokenizer, results = self.engine.tokenizer, [None] * len(requests)
        for start in range(0, len(requests), VLLM_CHUNK):
            if cancelled is not None and cancelled():
                break
            indices = range(start, min(start + VLLM_CHUNK, len(requests)))
            prompts = [tokenizer.apply_chat_template(requests[i], tokenize=False, add_generation_prompt=True)
                       for i in indices]
            started = time.perf_counter()
            outputs = self.engine.llm.generate(prompts, sampling, lora_request=self.engine.lora, use_tqdm=False)
            seconds = (time.perf_counter() - started) / len(indices)
            for index, output in zip(indices, outputs):
                answer = output.outputs[0]
                text = without_cut_character(answer.text) if answer.finish_reason == "length" else answer.text
                results[index] = (Completion(text, self.engine.model_id, answer.finish_reason,
                                             len(output.prompt_token_ids or []), len(answer.token_ids), seconds)
                                  if text.strip() else LLMError("empty"))
                if on_result is not None:
                    on_result(index, results[index])
        return results
