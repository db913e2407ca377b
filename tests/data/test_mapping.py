import json
import time

import pyarrow as pa
import pytest
import yaml
from pydantic import ValidationError

from workbench.data.mapping import FieldMapping, apply_mapping, mapping_problems, preview_prompt, suggest_mapping


def seed_table() -> pa.Table:
    """The seed example: a classifier CSV with prompt,text,label, as the reader stores it."""
    return pa.table({
        "_id": pa.array([0, 1, 2], pa.int64()),
        "_line": pa.array([2, 3, 4], pa.int64()),
        "prompt": ["判断情感", "判断情感", None],
        "text": ["这部电影太好看了", "浪费时间", "一般"],
        "label": ["正面", "负面", "中性"],
    })


def test_suggest_maps_the_seed_csv():
    """prompt,text,label -> instruction,input,output."""
    mapping = suggest_mapping(["_id", "_line", "prompt", "text", "label"])
    assert mapping.sources() == {"instruction": "prompt", "input": "text", "output": "label"}


@pytest.mark.parametrize("columns, expected", [
    (["Question", "Answer"], {"instruction": "Question", "output": "Answer"}),
    (["query", "response", "history", "system"],
     {"instruction": "query", "output": "response", "history": "history", "system": "system"}),
    (["问题", "答案"], {"instruction": "问题", "output": "答案"}),
    (["指令", "输入", "输出"], {"instruction": "指令", "input": "输入", "output": "输出"}),
    (["instruction", "input", "output"], {"instruction": "instruction", "input": "input", "output": "output"}),
    (["text", "label"], {"input": "text", "output": "label"}),
    (["foo", "bar"], {}),
])
def test_suggest_heuristics(columns, expected):
    assert suggest_mapping(columns).sources() == expected


def test_apply_maps_columns_and_keeps_internal_columns():
    table = apply_mapping(seed_table(), FieldMapping(instruction="prompt", input="text", output="label"))
    assert table.column_names == ["_id", "_line", "instruction", "input", "output"]
    assert table.column("_id").type == pa.int64()
    assert table.column("instruction").to_pylist() == ["判断情感", "判断情感", None]
    assert table.column("output").to_pylist() == ["正面", "负面", "中性"]


def test_apply_constant_instruction_for_a_classifier():
    """A fixed instruction fills every row; input absent is fine."""
    mapping = FieldMapping(output="label", constants={"instruction": "判断这条评论的情感"})
    table = apply_mapping(seed_table(), mapping)
    assert table.column_names == ["_id", "_line", "instruction", "output"]
    assert table.column("instruction").to_pylist() == ["判断这条评论的情感"] * 3
    assert table.column("instruction").type == pa.string()


def test_apply_keeps_other_columns_when_asked():
    mapping = FieldMapping(input="text", output="label", constants={"instruction": "分类"}, keep_other_columns=True)
    table = apply_mapping(seed_table(), mapping)
    assert table.column_names == ["_id", "_line", "instruction", "input", "output", "prompt"]
    # The same source may feed a target and be kept under its own name for a stratified split.
    table = apply_mapping(seed_table().append_column("output", pa.array(["x", "y", "z"])),
                          FieldMapping(instruction="prompt", output="label", keep_other_columns=True))
    assert table.column_names == ["_id", "_line", "instruction", "output", "text"]  # the target wins a name clash
    assert table.column("output").to_pylist() == ["正面", "负面", "中性"]


def test_apply_casts_non_text_columns_to_text():
    table = pa.table({"_id": pa.array([0, 1], pa.int64()), "q": ["a", "b"], "score": pa.array([1, 2])})
    out = apply_mapping(table, FieldMapping(instruction="q", output="score"))
    assert out.column("output").type == pa.string()
    assert out.column("output").to_pylist() == ["1", "2"]


def test_apply_unknown_column_raises():
    with pytest.raises(ValueError, match="nope"):
        apply_mapping(seed_table(), FieldMapping(instruction="nope", output="label"))


def test_problems_unknown_column_and_required_fields():
    columns = ["_id", "prompt", "text", "label"]
    problems = mapping_problems(columns, FieldMapping(instruction="prompts", input="text"))
    codes = {(p.code, p.field) for p in problems}
    assert codes == {("mapping_unknown_column", "instruction"), ("mapping_required", "output")}
    unknown = next(p for p in problems if p.code == "mapping_unknown_column")
    assert "prompts" in unknown.message_en and "prompts" in unknown.message_zh
    assert "_id" not in unknown.message_en  # internal columns are not offered to the user


def test_problems_none_for_a_good_mapping_and_a_warning_for_both():
    assert mapping_problems(["prompt", "label"], FieldMapping(instruction="prompt", output="label")) == []
    assert mapping_problems(["label"], FieldMapping(output="label", constants={"instruction": "x"})) == []
    problems = mapping_problems(["p", "l"], FieldMapping(instruction="p", output="l", constants={"instruction": "x"}))
    assert [(p.code, p.severity) for p in problems] == [("mapping_column_and_constant", "warning")]


def test_mapping_validation_and_yaml_round_trip():
    with pytest.raises(ValidationError):
        FieldMapping(constants={"answer": "x"})
    mapping = FieldMapping(instruction="", output="label", constants={"instruction": "判断情感", "system": ""})
    assert mapping.instruction is None and mapping.constants == {"instruction": "判断情感"}
    text = yaml.safe_dump(mapping.model_dump(), allow_unicode=True)
    assert FieldMapping(**yaml.safe_load(text)) == mapping
    assert FieldMapping.model_validate_json(mapping.model_dump_json()) == mapping


def test_apply_one_million_rows_is_fast():
    n = 1_000_000
    table = pa.table({"_id": pa.array(range(n), pa.int64()), "prompt": pa.array(["q"] * n),
                      "text": pa.array(["t"] * n), "label": pa.array(["l"] * n)})
    mapping = FieldMapping(input="text", output="label", constants={"instruction": "判断这条评论的情感"},
                           keep_other_columns=True)
    start = time.perf_counter()
    out = apply_mapping(table, mapping)
    assert time.perf_counter() - start < 0.5
    assert out.num_rows == n and out.column("instruction")[n - 1].as_py() == "判断这条评论的情感"


def test_preview_chatml_default():
    row = {"instruction": "判断情感", "input": "好看", "output": "正面", "system": "你是助手",
           "history": json.dumps([["你好", "你好！"]], ensure_ascii=False)}
    assert preview_prompt(row) == (
        "<|im_start|>system\n你是助手<|im_end|>\n"
        "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n你好！<|im_end|>\n"
        "<|im_start|>user\n判断情感\n好看<|im_end|>\n<|im_start|>assistant\n正面<|im_end|>\n")
    assert preview_prompt(row, add_generation_prompt=True).endswith(
        "<|im_start|>user\n判断情感\n好看<|im_end|>\n<|im_start|>assistant\n")


def test_preview_custom_template_and_chat_rows():
    template = ("{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
                "{% else %}{{ m['content'] }}</s>{% endif %}{% endfor %}")
    assert preview_prompt({"instruction": "hi", "output": "hello"}, template) == "[INST] hi [/INST]hello</s>"
    chat = {"conversations": json.dumps([{"from": "human", "value": "问"}, {"from": "gpt", "value": "答"}])}
    assert preview_prompt(chat, template) == "[INST] 问 [/INST]答</s>"


def test_preview_template_errors_are_value_errors():
    with pytest.raises(ValueError, match="only user"):
        preview_prompt({"instruction": "a", "output": "b"},
                       "{% if messages[-1]['role'] == 'assistant' %}{{ raise_exception('only user') }}{% endif %}")
    with pytest.raises(ValueError):
        preview_prompt({"instruction": "a", "output": "b"}, "{% for %}")
    # The sandbox refuses access to Python internals.
    with pytest.raises(ValueError):
        preview_prompt({"instruction": "a", "output": "b"}, "{{ messages.__class__.__mro__[1].__subclasses__() }}")
