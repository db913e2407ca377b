"""Step plans and batches: deterministic row order, micro-batch limits, and packed == padded (loss and grads)."""
import numpy as np
import pytest

from workbench.train import modeling, packing
from workbench.train.formatting import IGNORE, Example, tokenize_rows

ROWS = [{"instruction": "Name a fruit.", "output": "Apple."},
        {"system": "Answer in one word.", "instruction": "What colour is the sky on a clear day at noon?",
         "output": "Blue, usually a bright and clear blue."},
        {"instruction": "Say hello.", "output": "Hello!", "history": '[["hi", "hey there"]]'},
        {"instruction": "What do bees make?", "input": "Be precise.", "output": "Honey and beeswax."}]


# --- plans ---------------------------------------------------------------------------------------------
def test_step_rows_are_deterministic_and_each_epoch_is_a_permutation():
    rows, batch, accumulation, seed = 23, 3, 2, 11
    per_epoch = packing.steps_per_epoch(rows, batch, accumulation)
    assert per_epoch == 4  # ceil(23 / 6)
    epochs = []
    for epoch in range(3):
        steps = [packing.step_rows(rows, epoch * per_epoch + k, batch, accumulation, seed) for k in range(per_epoch)]
        assert [len(s) for s in steps] == [6, 6, 6, 5]
        order = np.concatenate(steps)
        assert sorted(order.tolist()) == list(range(rows))  # every row exactly once per epoch
        epochs.append(order.tolist())
    assert epochs[0] != epochs[1] != epochs[2]  # reshuffled every epoch
    again = [packing.step_rows(rows, step, batch, accumulation, seed).tolist() for step in range(3 * per_epoch)]
    assert sum(epochs, []) == sum(again, [])  # step k always sees the same rows (what resume relies on)
    assert packing.step_rows(rows, 0, batch, accumulation, seed + 1).tolist() != epochs[0][:6]


def test_total_steps_from_epochs_and_max_steps():
    assert packing.total_steps(40, 4, 2, 1.0, None) == 5
    assert packing.total_steps(40, 4, 2, 0.5, None) == 3  # fractions stop part-way (rounded up)
    assert packing.total_steps(40, 4, 2, 3.0, 7) == 7
    assert packing.total_steps(40, 4, 2, 1.0, 12) == 12  # max_steps overrides epochs: the data repeats
    assert len(set(packing.step_rows(40, 11, 4, 2, seed=0)) - set(range(40))) == 0  # step 12 draws from epoch 3
    assert packing.total_steps(3, 8, 1, 1.0, None) == 1


def test_micro_batches_respect_batch_size_and_token_cap():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 100, size=50)
    indices = rng.permutation(50)
    for batch_size, cap in ((4, 100), (8, 150), (16, 1000), (3, 99)):
        groups = packing.micro_batches(indices, lengths, batch_size, cap)
        assert sorted(sum(groups, [])) == sorted(indices.tolist())  # every row once
        for group in groups:
            assert 1 <= len(group) <= batch_size
            assert int(lengths[group].sum()) <= cap
        # groups never mix rows of different batch_size chunks of the plan
        chunk_of = {int(row): position // batch_size for position, row in enumerate(indices)}
        assert all(len({chunk_of[row] for row in group}) == 1 for group in groups)
    assert packing.micro_batches(indices, lengths, 50, 10_000) == [sorted(indices.tolist(), key=lambda i: -lengths[i])]


def test_packed_batch_restarts_positions_and_marks_row_bounds():
    a = Example(np.array([5, 6, 7]), np.array([IGNORE, 6, 7]), False)
    b = Example(np.array([8, 9]), np.array([IGNORE, 9]), False)
    batch = packing.packed_batch([a, b])
    assert batch.input_ids.tolist() == [[5, 6, 7, 8, 9]]
    assert batch.position_ids.tolist() == [[0, 1, 2, 0, 1]]
    assert batch.cu_seqlens.tolist() == [0, 3, 5] and batch.attention_mask is None
    assert batch.targets.tolist() == [[6, 7, IGNORE, 9, IGNORE]]  # shifted within each row, never across
    assert (batch.max_row, batch.tokens, batch.answer_tokens) == (3, 5, 3)
    padded = packing.padded_batch([a, b], pad_id=0)
    assert padded.input_ids.tolist() == [[5, 6, 7], [8, 9, 0]]
    assert padded.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert padded.targets.tolist() == [[6, 7, IGNORE], [9, IGNORE, IGNORE]]
    assert (padded.tokens, padded.answer_tokens) == (5, 3)


# --- packed vs padded on the tiny model -------------------------------------------------------------------
def lora_model(folder, attention, state=None):
    import torch

    from tests.train.conftest import config

    torch.manual_seed(0)
    model = modeling.add_adapter(modeling.load_base(folder, attention, torch.float32),
                                 config("tiny", lora_dropout=0.0), None)
    if state is None:  # B starts at zero (and A's gradient with it): give every adapter weight a value
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if parameter.requires_grad:
                    parameter.normal_(0, 0.05)
    else:
        model.load_state_dict(state)
    return model.train()


@pytest.fixture(scope="module")
def examples(tokenizer):
    examples, problems = tokenize_rows(tokenizer, ROWS, max_length=128)
    assert not problems and len({len(e.input_ids) for e in examples}) == len(ROWS)  # different lengths
    return examples


def loss_and_grads(model, batch):
    model.zero_grad(set_to_none=True)
    loss = modeling.batch_loss(model, batch, "cpu")
    loss.backward()
    return float(loss.detach()), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_packed_and_padded_batches_give_the_same_loss_and_lora_gradients(tiny_lm, tokenizer, examples):
    packed_model = lora_model(tiny_lm, modeling.attention_for("cpu", packing=True))
    assert packed_model.config.get_text_config()._attn_implementation == modeling.ROW_ATTENTION
    padded_model = lora_model(tiny_lm, modeling.attention_for("cpu", packing=False), packed_model.state_dict())
    packed_batch = packing.make_batch(examples, True, tokenizer.pad_token_id)
    padded_batch = packing.make_batch(examples, False, tokenizer.pad_token_id)
    assert packed_batch.answer_tokens == padded_batch.answer_tokens == sum(e.answer_tokens for e in examples)
    packed_loss, packed_grads = loss_and_grads(packed_model, packed_batch)
    padded_loss, padded_grads = loss_and_grads(padded_model, padded_batch)
    assert packed_loss == pytest.approx(padded_loss, rel=1e-5)
    assert packed_grads.keys() == padded_grads.keys() and any("lora_A" in n for n in packed_grads)
    for name, grad in packed_grads.items():
        assert grad.abs().max() > 0, name
        assert np.allclose(grad.numpy(), padded_grads[name].numpy(), rtol=1e-4, atol=1e-6 * grad.abs().max()), name


def test_packed_rows_do_not_attend_to_each_other(tiny_lm, examples):
    model = lora_model(tiny_lm, modeling.attention_for("cpu", packing=True))
    together = float(modeling.batch_loss(model, packing.packed_batch(examples), "cpu"))
    alone = sum(float(modeling.batch_loss(model, packing.packed_batch([e]), "cpu")) for e in examples)
    assert together == pytest.approx(alone, rel=1e-5)
    reversed_order = float(modeling.batch_loss(model, packing.packed_batch(examples[::-1]), "cpu"))
    assert reversed_order == pytest.approx(together, rel=1e-5)


def test_chunked_head_loss_equals_the_plain_cross_entropy():
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    hidden = torch.randn(modeling.LOGIT_CHUNK * 2 + 17, 16, requires_grad=True)
    weight = torch.randn(20_000, 16, requires_grad=True)
    targets = torch.randint(0, 20_000, (hidden.shape[0],))
    chunked = modeling.head_loss(hidden, weight, targets)
    chunked.backward()
    grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad, weight.grad = None, None
    plain = F.cross_entropy(hidden @ weight.t(), targets, reduction="sum")
    plain.backward()
    assert float(chunked) == pytest.approx(float(plain), rel=1e-5)
    assert torch.allclose(grads[0], hidden.grad, rtol=1e-4, atol=1e-5)
    assert torch.allclose(grads[1], weight.grad, rtol=1e-4, atol=1e-5)
