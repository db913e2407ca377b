"""vLLM as the engine on a GPU, a run's LoRA adapter applied per request (no merge).

UNTESTED HERE: this project's CI and development machines have no CUDA GPU and no vLLM, so this path
has never run. It is chosen only when `import vllm` works and CUDA is present (engine "auto"), and
`load_engine` falls back to transformers if it fails to load. Streaming sends the whole answer as one
piece: the offline `vllm.LLM` class generates to completion.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from ..llm.types import Completion, GenerationParams, without_cut_character
from ..models import converted_model_folder, resolve, tokenizer_folder
from ..train.formatting import ensure_chat_template

LORA_RANKS = (8, 16, 32, 64, 128, 256)  # the ranks vLLM allocates for; an adapter needs one at least its own


@dataclass
class VLLMPrepared:
    prompt: str
    params: GenerationParams


class VLLMEngine:
    name = "vllm"

    def __init__(self, ws, model: str):
        from vllm import LLM
        from vllm.lora.request import LoRARequest

        spec = resolve(ws, model)
        self.model_id, self.lora = spec.id, None
        folder = Path(spec.path) if spec.kind == "run" else None
        if folder is not None and (folder / "adapter" / "adapter_config.json").is_file():
            rank = json.loads((folder / "adapter" / "adapter_config.json").read_text(encoding="utf-8")).get("r", 16)
            self.llm = LLM(model=str(converted_model_folder(ws, spec.base)), tokenizer=str(folder / "adapter"),
                           enable_lora=True, max_lora_rank=next((r for r in LORA_RANKS if r >= rank), LORA_RANKS[-1]))
            self.lora = LoRARequest(spec.id, 1, str(folder / "adapter"))
        elif folder is not None:  # a full fine-tune
            self.llm = LLM(model=str(folder / "model"))
        else:
            self.llm = LLM(model=str(converted_model_folder(ws, spec)), tokenizer=str(tokenizer_folder(ws, spec)))
        self.tokenizer = self.llm.get_tokenizer()
        ensure_chat_template(self.tokenizer)  # a base model without one talks ChatML, as it was trained
        self._lock = threading.Lock()  # the offline LLM class is not meant for concurrent calls

    def prepare(self, messages: list[dict], params: GenerationParams) -> VLLMPrepared:
        from .engine import render_prompt

        return VLLMPrepared(render_prompt(self.tokenizer, messages), params)

    def complete(self, prepared: VLLMPrepared) -> Completion:
        from vllm import SamplingParams

        params = prepared.params
        sampling = SamplingParams(temperature=params.temperature, top_p=params.top_p, seed=params.seed,
                                  max_tokens=params.max_new_tokens, stop=list(params.stop) or None)
        with self._lock:
            output = self.llm.generate([prepared.prompt], sampling, lora_request=self.lora, use_tqdm=False)[0]
        answer = output.outputs[0]
        text = without_cut_character(answer.text) if answer.finish_reason == "length" else answer.text
        return Completion(text, self.model_id, answer.finish_reason or "stop",
                          len(output.prompt_token_ids or []), len(answer.token_ids))

    def stream(self, prepared: VLLMPrepared) -> "WholeAnswer":
        return WholeAnswer(self.complete(prepared))


class WholeAnswer:
    """A stream of one piece: the finished answer."""

    def __init__(self, completion: Completion):
        self.result = completion

    def __iter__(self):
        if self.result.text:
            yield self.result.text
