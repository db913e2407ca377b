"""Checkpoints: exact round trip, newest-complete lookup, and a full disk that leaves the last one valid."""
import errno
import os

import numpy as np
import pytest

from tests.train.conftest import config
from workbench.train import checkpoint, modeling


@pytest.fixture
def parts(tiny_lm):
    """(model, optimizer, scheduler) of a LoRA run after one optimizer step (so Adam has state)."""
    import torch
    from transformers import get_scheduler

    torch.manual_seed(0)
    model = modeling.add_adapter(modeling.load_base(tiny_lm, "sdpa", torch.float32), config("tiny"), None)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-2)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=2, num_training_steps=10)
    model(input_ids=torch.tensor([[1, 2, 3, 4]])).logits.sum().backward()
    optimizer.step(), scheduler.step(), optimizer.zero_grad()
    return model, optimizer, scheduler


def draws():
    import random

    import torch

    return torch.rand(3), np.random.rand(), random.random()


def test_save_latest_load_round_trip(tmp_path, parts):
    import torch

    model, optimizer, scheduler = parts
    folder = tmp_path / "checkpoints"
    assert checkpoint.latest(folder) is None
    saved = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    path = checkpoint.save(folder, 3, model, optimizer, scheduler, {"tokens": 120, "seconds": 1.5})
    assert path.name == "step-000003" and checkpoint.latest(folder) == path
    assert not list(folder.glob(".*.tmp"))
    after_save = draws()
    saved_lr, saved_moment = scheduler.get_last_lr(), optimizer.state_dict()["state"][0]["exp_avg"].clone()

    # move everything on, then restore
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(1.0)
    for _ in range(3):
        optimizer.step(), scheduler.step()
    draws()
    counters = checkpoint.load(path, model, optimizer, scheduler)
    assert counters == {"tokens": 120, "seconds": 1.5, "step": 3}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert torch.equal(parameter, saved[name]), name
    assert scheduler.get_last_lr() == saved_lr
    assert torch.equal(optimizer.state_dict()["state"][0]["exp_avg"], saved_moment)
    restored = draws()  # the random streams continue exactly where they were at the save
    assert torch.equal(restored[0], after_save[0]) and restored[1:] == after_save[1:]


def test_latest_skips_incomplete_folders_and_only_the_newest_are_kept(tmp_path, parts):
    model, optimizer, scheduler = parts
    folder = tmp_path / "checkpoints"
    for step in (2, 4, 6):
        checkpoint.save(folder, step, model, optimizer, scheduler, {})
    assert sorted(p.name for p in folder.iterdir()) == ["step-000004", "step-000006"]  # KEEP = 2
    (folder / "step-000008").mkdir()  # a crash before counters.json: not a checkpoint
    (folder / ".step-000010.tmp").mkdir()  # a crash mid-write
    assert checkpoint.latest(folder).name == "step-000006"
    checkpoint.save(folder, 10, model, optimizer, scheduler, {})  # the stale partial copy is replaced
    assert checkpoint.latest(folder).name == "step-000010" and not (folder / ".step-000010.tmp").exists()


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_leaves_the_previous_checkpoint_valid_and_no_partial_folder(tmp_path, parts, monkeypatch):
    import torch

    model, optimizer, scheduler = parts
    folder = tmp_path / "checkpoints"
    good = checkpoint.save(folder, 3, model, optimizer, scheduler, {"tokens": 7})
    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError) as raised:
        checkpoint.save(folder, 6, model, optimizer, scheduler, {"tokens": 9})
    assert raised.value.errno == errno.ENOSPC
    assert sorted(p.name for p in folder.iterdir()) == ["step-000003"]  # no step-000006, no .tmp
    monkeypatch.undo()
    assert checkpoint.latest(folder) == good
    assert checkpoint.load(good, model, optimizer, scheduler) == {"tokens": 7, "step": 3}


def test_trainer_turns_a_full_disk_into_a_train_error_naming_the_valid_checkpoint(train_ws, monkeypatch):
    import torch

    from workbench.train.modeling import TrainError
    from workbench.train.runs import create_run
    from workbench.train.trainer import Trainer

    ws, model_id = train_ws
    version = ws.version("qa")
    run = create_run(ws, config(model_id, max_steps=4), version.dataset_id, version.number, model_id)
    trainer = Trainer(ws, run.id)
    trainer.setup()
    trainer.train_step()
    trainer.save_checkpoint()
    trainer.train_step()
    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(TrainError) as raised:
        trainer.save_checkpoint()
    message = str(raised.value)
    assert "step 2" in message and "No space left on device" in message
    assert "step-000001 is still valid" in message and "resume" in message
    assert "Traceback" not in message
    folder = run.folder / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["step-000001"]
