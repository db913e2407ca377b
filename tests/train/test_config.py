"""TrainConfig: validation messages per knob, presets, YAML that explains itself and round-trips."""
import pytest
from pydantic import ValidationError

from workbench.train.config import PRESETS, TrainConfig, config_errors, from_yaml, help_text, to_yaml


def test_bad_knobs_are_named_with_a_readable_message():
    errors = config_errors({"dataset": "qa", "lora_rank": 0, "learning_rate": -1e-4})
    assert "lora_rank: must be at least 1 / 必须至少为 1" in errors
    assert "learning_rate: learning rate must be > 0 / 学习率必须大于 0" in errors
    assert len(errors) == 2
    assert config_errors({"dataset": "qa", "learning_rate": 0}) == [
        "learning_rate: learning rate must be > 0 / 学习率必须大于 0"]
    assert any(e.startswith("lora_dropout:") for e in config_errors({"dataset": "qa", "lora_dropout": 1.5}))
    assert any(e.startswith("dataset:") for e in config_errors({}))
    assert config_errors({"dataset": "qa", "max_length": 1024, "tokens_per_micro_batch": 512}) == [
        "config: tokens_per_micro_batch must be >= max_length so one row always fits / 每个微批的 token 数必须不小于最大长度"]
    unknown = config_errors({"dataset": "qa", "learnig_rate": 1e-3})
    assert len(unknown) == 1 and unknown[0].startswith("learnig_rate:")
    with pytest.raises(ValidationError, match="lora_rank"):
        TrainConfig(dataset="qa", lora_rank=0)
    assert config_errors({"dataset": "qa"}) == []


def test_the_micro_batch_cap_is_one_max_length_row_on_cpu_and_4096_tokens_on_gpu_unless_chosen():
    assert TrainConfig(dataset="qa").tokens_per_micro_batch is None
    assert TrainConfig(dataset="qa").token_cap("cpu") == 512 and TrainConfig(dataset="qa").token_cap("cuda") == 4096
    assert TrainConfig(dataset="qa", max_length=8192).token_cap("cuda") == 8192
    assert TrainConfig(dataset="qa", tokens_per_micro_batch=2048).token_cap("cpu") == 2048
    assert config_errors({"dataset": "qa", "tokens_per_micro_batch": 0}) == [
        "tokens_per_micro_batch: must be at least 1 / 必须至少为 1"]


def test_presets_are_valid_configs():
    for name, knobs in PRESETS.items():
        assert config_errors({"dataset": "qa", **knobs}) == [], name


def test_yaml_round_trip_with_a_help_comment_per_knob():
    config = TrainConfig(dataset="qa", base_model="run-x", lora_targets=["q_proj", "v_proj"], max_steps=5,
                         name="甄嬛 · test")
    text = to_yaml(config)
    assert text.startswith("# Run with: python -m workbench train config.yaml")
    assert f"# {help_text('lora_rank')}\nlora_rank: 8" in text
    assert "甄嬛" in text  # unicode kept readable
    assert from_yaml(text) == config
    with pytest.raises(ValueError, match="mapping"):
        from_yaml("- a\n- b\n")
    with pytest.raises(ValidationError, match="bogus"):
        from_yaml("dataset: qa\nbogus: 1\n")


def test_auto_precision_is_bf16_on_a_cpu_with_bf16_instructions_else_fp32(monkeypatch):
    from workbench.train.modeling import TrainError, resolve_precision

    monkeypatch.setenv("WORKBENCH_CPU_BF16", "1")
    assert resolve_precision("auto", "cpu") == "bf16"
    assert resolve_precision("fp32", "cpu") == "fp32"  # a chosen precision is kept
    monkeypatch.setenv("WORKBENCH_CPU_BF16", "0")
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(TrainError, match="fp16 needs a GPU"):
        resolve_precision("fp16", "cpu")
