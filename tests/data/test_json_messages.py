"""The JSON decoders' English messages come out in Chinese words, with where and the original kept."""
import json

import orjson
import pytest

from workbench.data.json_messages import json_error_zh, json_phrase_zh

BROKEN = {  # text -> the Chinese phrase its error must be given
    '{"a": 1 "b": 2}': "缺少逗号“,”",
    '{"a" 1}': "缺少冒号“:”",
    '{a: 1}': "键名应为双引号括起的文本（或对象末尾多了一个逗号）",
    '{"a": "x': "字符串没有结束（缺少右双引号“\"”）",
    '{"a": }': "这里应为一个值（文本要用双引号括起；检查是否多了逗号）",
    '{"a": 1}}': "一个 JSON 值之后还有多余的内容",
    '{"a": "\\q"}': "无效的反斜杠“\\”转义",
    '{"a": "\\u12"}': "无效的 \\uXXXX 转义",
    '{"a": "x\ny"}': "字符串中有未转义的控制字符（如换行、制表符，应写成 \\n、\\t）",
}


@pytest.mark.parametrize("text, phrase", BROKEN.items())
def test_python_json_messages_are_said_in_chinese_with_line_and_column(text, phrase):
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(text)
    error = caught.value
    assert json_error_zh(error.msg, error.lineno, error.colno) == (
        f"第 {error.lineno} 行第 {error.colno} 列，{phrase}（原文：{error.msg}）")


@pytest.mark.parametrize("text", [*BROKEN, '{"a": tru}', '{"a": [1,2,]}', '{"a": 01}', '[1 2]', '{"a": '])
def test_orjson_messages_are_known_too_and_lose_their_english_position(text):
    with pytest.raises(orjson.JSONDecodeError) as caught:
        orjson.loads(text)
    message = str(caught.value)
    assert json_phrase_zh(message), message
    said = json_error_zh(message, 4, 2)
    assert said.startswith("第 4 行第 2 列，") and " line " not in said and "原文：" in said


def test_an_unknown_message_is_still_located_and_kept():
    assert json_error_zh("something new", 2) == "第 2 行，无法解析（原文：something new）"
