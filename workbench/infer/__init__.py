"""Batch inference: a dataset split answered by several models ("arms") at once, as a resumable job.

    config = InferConfig(dataset="huanhuan", split="test", arms=[
        Arm(label="base", model="smollm2-135m-instruct"),
        Arm(label="tuned", model="run-20250101-120000-ab12"),
        Arm(label="base + persona", model="smollm2-135m-instruct", system_prompt="你是甄嬛。"),
        Arm(label="api", model="deepseek")])                          # a saved endpoint
    problems = check_config(ws, config)                             # located, bilingual; [] when fine
    inference_id, job_id = start_inference(ws, config)              # raises InferInputError on problems
    table = read_outputs(ws, inference_id)                          # pandas: one row per (arm, dataset row)

Torch is imported only when a job loads a model, so pages can import this package cheaply.
"""
from .config import ALL_ROWS, Arm, InferConfig, config_errors, from_yaml, help_text, to_yaml
from .jobs import check_config, start_inference
from .prompts import InferInputError
from .results import inference_summary, read_outputs
from .store import OUTPUT_COLUMNS, InferenceInfo, get_inference, list_inferences

__all__ = ["ALL_ROWS", "Arm", "InferConfig", "config_errors", "from_yaml", "help_text", "to_yaml", "check_config",
           "start_inference", "InferInputError", "inference_summary", "read_outputs", "OUTPUT_COLUMNS",
           "InferenceInfo", "get_inference", "list_inferences"]
