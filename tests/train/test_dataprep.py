"""The helper process that tokenizes a run's data while the trainer imports torch and loads the model: the same
examples as tokenizing in process, a TrainError relayed with its words, and a helper that dies is not fatal."""
import numpy as np
import pytest

from tests.train.conftest import config
from workbench.train.dataprep import Helper, prepare_run_data
from workbench.train.modeling import TrainError
from workbench.train.runs import create_run


def new_run(ws, cfg):
    version = ws.version(cfg.dataset, cfg.version)
    return create_run(ws, cfg, version.dataset_id, version.number, cfg.base_model)


def test_the_helper_gives_the_examples_tokenizing_here_would(train_ws):
    ws, model_id = train_ws
    cfg = config(model_id)
    helper = Helper(ws, new_run(ws, cfg).id)
    data = helper.result()
    here, tokenizer = prepare_run_data(ws, cfg)
    assert data.pad_token_id == here.pad_token_id == tokenizer.pad_token_id
    assert len(data.train) == len(here.train) == 32 and len(data.evaluation) == len(here.evaluation) == 8
    for mine, theirs in zip(data.train + data.evaluation, here.train + here.evaluation):
        assert np.array_equal(mine.input_ids, theirs.input_ids) and np.array_equal(mine.labels, theirs.labels)
    assert data.problems == here.problems == []
    assert not helper.path.exists()  # the hand-over file is gone


def test_a_train_error_in_the_helper_is_raised_with_its_words(train_ws):
    ws, model_id = train_ws
    helper = Helper(ws, new_run(ws, config(model_id, split="holdout")).id)
    with pytest.raises(TrainError, match="dataset qa@1 has no 'holdout' split.*没有“holdout”划分"):
        helper.result()


def test_a_helper_that_dies_leaves_the_work_to_the_trainer(train_ws):
    ws, model_id = train_ws
    helper = Helper(ws, new_run(ws, config(model_id)).id)
    helper.process.kill()
    assert helper.result() is None and not helper.path.exists()
