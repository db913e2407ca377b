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


def test_a_job_with_enough_rows_takes_its_data_from_the_helper(train_ws, run_here, monkeypatch):
    from workbench.train import dataprep
    from workbench.train import jobs as train_jobs

    ws, model_id = train_ws
    assert train_jobs.rows_to_tokenize(ws, config(model_id)) == 40  # train 32 + validation 8
    assert train_jobs.rows_to_tokenize(ws, config(model_id, split=None)) == 40
    assert train_jobs.rows_to_tokenize(ws, config(model_id, eval_split=None)) == 32
    used, real = [], dataprep.Helper.result
    monkeypatch.setattr(dataprep.Helper, "result", lambda self: used.append(self) or real(self))
    run, info = run_here(ws, config(model_id, max_steps=2, eval_steps=0, save_steps=0))  # 40 < 1000: here
    assert info.state == "succeeded" and used == []
    monkeypatch.setattr(train_jobs, "HELPER_MIN_ROWS", 40)
    run, info = run_here(ws, config(model_id, max_steps=2, eval_steps=0, save_steps=0))
    assert info.state == "succeeded" and len(used) == 1, info.error
    assert run.summary["rows"] == 32 and (run.adapter / "tokenizer_config.json").is_file()
