"""Make a random-weight model say a chosen text: every generation step is forced to the script's next token id,
then to end-of-text. Used to cut an answer inside a Chinese character on purpose."""
from __future__ import annotations


def scripted_generate(generate, ids: list[int], end_id: int):
    """`model.generate` (the bound method) with each generation forced through `ids`, then `end_id`."""
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList

    class Script(LogitsProcessor):
        def __init__(self):
            self.prompt_length = None

        def __call__(self, input_ids, scores):
            self.prompt_length = self.prompt_length or input_ids.shape[1]
            step = input_ids.shape[1] - self.prompt_length
            forced = torch.full_like(scores, float("-inf"))
            forced[:, ids[step] if step < len(ids) else end_id] = 0.0
            return forced

    def scripted(*args, **options):
        return generate(*args, logits_processor=LogitsProcessorList([Script()]), **options)

    return scripted
