"""InferConfig (YAML round trip, located bilingual errors), the rows snapshot (Alpaca and chat rows, reference,
system-prompt override, lineage) and the checks that refuse an inference before it starts."""
import json

import pyarrow as pa
import pytest

from tests.infer.conftest import qa_table
from workbench import jobs
from workbench.infer import (Arm, InferConfig, InferInputError, check_config, config_errors, from_yaml,
                             list_inferences, start_inference, to_yaml)
from workbench.infer.prompts import arm_messages, inference_rows, select_rows


def arms(*models):
    return [{"label": f"arm{i}", "model": model} for i, model in enumerate(models)]


def test_the_yaml_round_trips_and_explains_each_knob():
    config = InferConfig(dataset="qa", split="all", arms=[Arm(label="base", model="smollm2-135m-instruct"),
                                                          Arm(label="persona", model="smollm2-135m-instruct",
                                                              system_prompt="你是甄嬛。")], max_rows=5)
    text = to_yaml(config)
    assert text.startswith("# Run with: python -m workbench infer config.yaml")
    assert "# Endpoints: requests in flight at once" in text and "你是甄嬛。" in text
    again = from_yaml(text)
    assert again == config and again.split is None  # "all" means every row
    assert InferConfig(dataset="qa", arms=arms("m")).split == "test"  # the held-out split by default
    assert Arm(label="x", model="m", system_prompt="  ").system_prompt is None  # blank = keep the row's own


def test_duplicate_labels_and_bad_knobs_are_located_in_both_languages():
    duplicate = config_errors({"dataset": "qa", "arms": [{"label": "a", "model": "m"}, {"label": "b", "model": "m"},
                                                         {"label": "a", "model": "n"}]})
    assert len(duplicate) == 1 and duplicate[0].startswith("arms[2].label:")
    assert "arms[0]" in duplicate[0] and "重名" in duplicate[0]
    problems = config_errors({"dataset": "qa", "arms": [{"label": "a"}, {"label": " ", "model": "m"}],
                              "temperature": 3, "max_rows": 0, "bogus": 1})
    assert "arms[0].model: required / 缺少必填项" in problems
    assert any(p.startswith("arms[1].label:") and "不能为空" in p for p in problems)
    assert any(p.startswith("temperature:") and "0 到 2" in p for p in problems)
    assert any(p.startswith("max_rows:") and "至少为 1" in p for p in problems)
    assert any(p.startswith("bogus:") and "未知参数" in p for p in problems)
    assert config_errors({"dataset": "qa", "arms": []}) == ["arms: add at least one / 至少需要一项"]
    with pytest.raises(ValueError) as caught:
        from_yaml("dataset: qa\narms: [{label: a, model: m}, {label: a, model: m}]\n")
    assert "arms[1].label" in str(caught.value)
    with pytest.raises(ValueError, match="YAML"):
        from_yaml("dataset: [unclosed")


def test_rows_keep_the_conversation_reference_and_lineage_and_the_arm_prompt_replaces_the_rows():
    table = pa.table({"instruction": ["问题一", "问题二"], "input": ["补充", ""], "output": ["答案一", "答案二"],
                      "system": ["行内系统提示", ""],
                      "history": [json.dumps([["早先的问题", "早先的回答"]], ensure_ascii=False), ""],
                      "_id": pa.array([10, 11], pa.int64()), "_source": ['{"document_id": "d1"}', ""],
                      "_chunk": ["c1", ""], "source_url": ["http://x", ""], "label": ["a", "b"]})
    first, second = inference_rows(table)
    assert first["row_id"] == 10 and first["prompt"] == "问题一\n补充" and first["reference"] == "答案一"
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant", "user"]
    assert first["system"] == "行内系统提示" and second["system"] is None
    assert first["lineage"] == {"_source": '{"document_id": "d1"}', "_chunk": "c1", "source_url": "http://x"}
    assert arm_messages(first, None) == first["messages"]
    replaced = arm_messages(first, "你是甄嬛。")
    assert replaced[0] == {"role": "system", "content": "你是甄嬛。"} and [m["role"] for m in replaced].count("system") == 1
    assert replaced[1:] == first["messages"][1:]

    chat = pa.table({"messages": [json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                                              {"role": "user", "content": "again"}, {"role": "assistant", "content": "ok"}]),
                                  json.dumps([{"role": "assistant", "content": "only an answer"}])]})
    turn, unusable = inference_rows(chat)
    assert turn["prompt"] == "again" and turn["reference"] == "ok" and len(turn["messages"]) == 3
    assert "error" not in turn and "no user turn" in unusable["error"] and "没有需要回答" in unusable["error"]


def test_split_selection_refuses_zero_rows_and_missing_splits(ws):
    ws.create_dataset("qa", qa_table())
    version, table = select_rows(ws, InferConfig(dataset="qa", arms=arms("m")))
    assert table.num_rows == 6 and set(table.column("_split").to_pylist()) == {"test"}
    assert select_rows(ws, InferConfig(dataset="qa", split="all", arms=arms("m")))[1].num_rows == 8
    assert select_rows(ws, InferConfig(dataset="qa", max_rows=2, arms=arms("m")))[1].num_rows == 2
    with pytest.raises(InferInputError) as caught:
        select_rows(ws, InferConfig(dataset="qa", split="validation", arms=arms("m")))
    assert "qa@1 has no split 'validation'; it has " in str(caught.value) and "没有“validation”划分" in str(caught.value)
    assert {"train", "test"} <= set(str(caught.value).split("it has ")[1].split(" (")[0].split(", "))
    ws.create_dataset("plain", qa_table().drop_columns(["_split"]))
    with pytest.raises(InferInputError, match="has no splits"):
        select_rows(ws, InferConfig(dataset="plain", arms=arms("m")))
    assert select_rows(ws, InferConfig(dataset="plain", split=None, arms=arms("m")))[1].num_rows == 8


def test_an_inference_with_problems_is_refused_before_anything_starts(ws):
    ws.create_dataset("qa", qa_table())
    config = InferConfig(dataset="qa", split="validation", arms=arms("smollm2-135m-instruct", "no-such-model",
                                                                     "local:nope"))
    problems = check_config(ws, config)
    assert problems[0].startswith("split:") and "has no split 'validation'" in problems[0]
    assert problems[1].startswith("arms[1].model:") and "no-such-model" in problems[1] and "未知模型" in problems[1]
    assert problems[2].startswith("arms[2].model:") and "nope" in problems[2]
    assert len(problems) == 3  # the bundled model is fine
    with pytest.raises(InferInputError) as caught:
        start_inference(ws, config)
    assert str(caught.value).splitlines() == problems
    assert list_inferences(ws) == [] and jobs.list_jobs(ws) == []
    missing = check_config(ws, InferConfig(dataset="nothing", arms=arms("smollm2-135m-instruct")))
    assert len(missing) == 1 and "nothing" in missing[0] and "没有数据集" in missing[0]
