"""A finished training run is served under its model id as its base with the LoRA adapter merged in."""
import copy

import openai

from tests.serve.conftest import run_uvicorn
from tests.train.conftest import qa_table
from workbench.train.config import TrainConfig
from workbench.train.runs import create_run, finish_run

MESSAGES = [{"role": "user", "content": "Name a fruit."}]


def test_a_run_is_served_as_base_plus_its_adapter(serve_ws, tiny_model, tokenizer):
    import torch
    from peft import LoraConfig, get_peft_model

    from workbench.serve.app import create_app
    from workbench.serve.engine import TransformersEngine
    from workbench.serve.keys import new_key

    ws, base_id = serve_ws
    ws.create_dataset("qa", qa_table(8))
    run = create_run(ws, TrainConfig(dataset="qa", base_model=base_id), ws.version("qa").dataset_id, 1, base_id)
    torch.manual_seed(1)  # a random (non-zero) adapter, so the run answers differently from its base
    lora = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapter = get_peft_model(copy.deepcopy(tiny_model), lora)
    adapter.save_pretrained(run.folder / "adapter")
    tokenizer.save_pretrained(run.folder / "adapter")
    finish_run(ws, run.id, "succeeded", {"steps": 1})

    answers = {}
    for model_id in (run.model_id, base_id):
        key, digest = new_key()
        server, thread, url = run_uvicorn(create_app(TransformersEngine(ws, model_id), digest))
        try:
            with openai.OpenAI(base_url=url, api_key=key, max_retries=0) as client:
                assert [m.id for m in client.models.list()] == [model_id]
                answers[model_id] = client.chat.completions.create(
                    model=model_id, messages=MESSAGES, temperature=0, max_tokens=12).choices[0].message.content
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    assert answers[run.model_id] and answers[run.model_id] != answers[base_id]
