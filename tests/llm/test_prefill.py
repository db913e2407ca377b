"""The padding-free prompt pass of local batches: its cache gives the logits and greedy answers of running the
whole padded batch through the model (with and without a shared prompt start, over several groups), the cache
grows in place and stays right when replaced, and models whose cache is not plain dynamic layers fall back."""
import pytest
import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from workbench.llm import prefill

PAD = 0


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=300, max_position_embeddings=256, initializer_range=0.3,
                         pad_token_id=PAD, eos_token_id=1, bos_token_id=2)
    return LlamaForCausalLM(config).eval()


def batch_of(lengths: list[int], shared: int) -> list[list[int]]:
    generator = torch.Generator().manual_seed(sum(lengths) + shared)
    start = torch.randint(3, 300, (shared,), generator=generator).tolist()
    return [start + torch.randint(3, 300, (n - shared,), generator=generator).tolist() for n in lengths]


@pytest.mark.parametrize("shared", [0, 9])
def test_the_prompt_cache_gives_the_padded_batch_logits_and_answers(model, monkeypatch, shared):
    monkeypatch.setattr(prefill, "PREFILL_TOKENS", 40)
    batch = batch_of([10, 11, 14, 17, 17, 23, 30], shared)  # the shortest keeps one token after the start
    assert len(prefill._groups(batch, shared)) >= 3
    input_ids, mask = prefill.padded_layout(batch, shared, PAD)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        whole = model(input_ids=input_ids, attention_mask=mask, position_ids=positions).logits[:, -1]
        cache = prefill.prompt_cache(model, batch, shared, reserve=6, pad_id=PAD)
        assert cache.get_seq_length() == input_ids.shape[1] - 1
        last = model(input_ids=input_ids[:, -1:], attention_mask=mask, position_ids=positions[:, -1:],
                     past_key_values=cache).logits[:, -1]
        assert torch.allclose(last, whole, atol=1e-4)

        greedy = dict(max_new_tokens=6, do_sample=False, pad_token_id=PAD, eos_token_id=None)
        plain = model.generate(input_ids=input_ids, attention_mask=mask, **greedy)
        cached = model.generate(input_ids=input_ids, attention_mask=mask,
                                past_key_values=prefill.prompt_cache(model, batch, shared, 6, PAD), **greedy)
    assert torch.equal(cached, plain)
    assert len({tuple(row) for row in plain[:, -6:].tolist()}) > 1  # the answers depend on the prompt


def test_one_token_prompts_need_no_cache(model):
    assert prefill.prompt_cache(model, [[5], [7]], 0, 4, PAD) is None


def test_the_cache_grows_in_place_and_copies_when_out_of_room_or_replaced():
    keys = torch.arange(2 * 1 * 5 * 2, dtype=torch.float32).view(2, 1, 5, 2)
    layer = prefill.ReservedLayer(keys.clone(), keys.clone(), length=3, reserve=2)
    storage = layer._keys.data_ptr()
    new = torch.full((2, 1, 1, 2), -1.0)
    out_keys, _ = layer.update(new, new)
    assert layer._keys.data_ptr() == storage and out_keys.shape[-2] == 4
    assert torch.equal(out_keys, torch.cat([keys[:, :, :3], new], dim=-2))
    more = torch.full((2, 1, 3, 2), -2.0)
    out_keys, out_values = layer.update(more, more)  # 7 positions: past the room of 5
    assert layer._keys.data_ptr() != storage and layer._keys.shape[-2] == 7 + 2
    assert torch.equal(out_keys, torch.cat([keys[:, :, :3], new, more], dim=-2)) and torch.equal(out_values, out_keys)
    layer.reorder_cache(torch.tensor([1]))  # another cache operation replaces the tensors: one row left
    out_keys, _ = layer.update(new[:1], new[:1])
    assert out_keys.shape == (1, 1, 8, 2) and torch.equal(out_keys[0, :, :7], torch.cat([keys[:, :, :3], new, more],
                                                                                           dim=-2)[1])


def test_a_model_with_sliding_window_layers_falls_back_to_plain_generation():
    config = Qwen2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, vocab_size=50, use_sliding_window=True, sliding_window=4,
                         max_window_layers=0)
    model = Qwen2ForCausalLM(config).eval()
    assert any(type(layer).__name__ != "DynamicLayer" for layer in DynamicCache(config=config).layers)
    assert prefill.prompt_cache(model, [[3, 4, 5], [6, 7]], 0, 4, PAD) is None
