"""Rendering: strict variables, located bilingual errors, a sandbox, and rendering on dataset rows."""
import pytest

from workbench.templates import Template, TemplateError, Variable, render, render_row, row_variables, variables_of


def error_of(text, variables=None) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        render(text, variables or {})
    return caught.value


def test_variables_are_listed_in_order_of_first_use():
    text = "{{ b }}{% for item in items %}{{ item.name }}{{ a }}{% endfor %}{% set c = 1 %}{{ c }}{{ range(2) }}"
    assert variables_of(text) == ["b", "items", "a"]


def test_a_syntax_error_names_the_line_in_both_languages():
    error = error_of("第一行\n{% if x %}\n第三行")
    assert error.kind == "syntax" and error.line == 3
    assert "line 3" in error.located("en") and "endif" in error.located("zh") and "第 3 行" in error.located("zh")
    unclosed = error_of("a\n{{ name }\n")
    assert unclosed.line == 2 and "'}'" in unclosed.located("en") and "第 2 行" in unclosed.located("zh")


def test_a_variable_without_value_is_named_and_located_never_blank():
    error = error_of("你好\n请总结：{{ passage }}\n字数：{{ count }}", {"count": "3"})
    assert (error.kind, error.variable, error.line) == ("missing", "passage", 2)
    assert "'passage'" in error.located("en") and "“passage”" in error.located("zh")
    assert str(error).count(" / ") >= 1  # English / Chinese in one message


def test_an_undefined_attribute_at_render_time_is_located():
    error = error_of("a\n{{ row.title }}", {"row": {}})
    assert (error.kind, error.line, error.variable) == ("undefined", 2, "title")


def test_the_sandbox_refuses_unsafe_and_runaway_expressions():
    assert error_of("{{ x.__class__.__mro__ }}", {"x": 1}).kind == "unsafe"
    assert error_of("{{ 'ab' * 10000000 }}").kind == "unsafe"
    assert error_of("{{ 1 / 0 }}").kind == "runtime"


def test_optional_variables_fall_back_to_defaults_and_blank_lines_are_trimmed():
    template = Template(id="t", name={"zh": "t", "en": "t"}, category="system", language="en",
                        text="Hi {{ who }}.\n{% if note %}\nNote: {{ note }}\n{% endif %}\n",
                        variables=[{"name": "who"}, {"name": "note", "required": False},
                                   {"name": "unused", "required": False, "default": "x"}])
    assert render(template, {"who": "Ann"}) == "Hi Ann."
    assert render(template, {"who": "Ann", "note": "be brief"}) == "Hi Ann.\nNote: be brief"


def test_render_row_maps_columns_and_treats_empty_cells_as_empty_text():
    row = {"text": "物流很快", "label": None, "other": "x"}
    text = "{{ labels }}|{{ review }}|{{ label }}"
    assert render_row(text, row, {"review": "text", "label": "label"}, {"labels": "正面、负面"}) == "正面、负面|物流很快|"
    assert row_variables("{{ text }}", row) == {"text": "物流很快"}  # no mapping: same-name columns
    assert row_variables("{{ text }}", row, {}) == {}  # an explicit mapping is taken as given


def test_chinese_variable_names_render_and_full_width_ones_are_refused_with_their_line():
    """Python reads the identifier ｘ as x in the code jinja2 compiles: {{ ｘ }} would silently show x's value."""
    assert variables_of("{{ 领域 }}：{{ 问题 }}") == ["领域", "问题"]
    assert render("{{ 领域 }}：{{ 问题 }}", {"领域": "劳动", "问题": "加班"}) == "劳动：加班"
    with pytest.raises(TemplateError) as caught:
        render("x={{ x }}\n{% if ｘ %}{{ ｘ }}{% endif %}", {"x": "half", "ｘ": "full"})
    error = caught.value
    assert (error.kind, error.line, error.variable) == ("variable_name", 2, "ｘ")
    assert "write it as 'x'" in error.located("en") and "第 2 行" in error.located("zh")
    with pytest.raises(ValueError, match="不是有效的变量名"):
        Variable(name="ｘ")
    assert Variable(name="领域").name == "领域"
