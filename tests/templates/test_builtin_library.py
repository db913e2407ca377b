"""The builtin library: enough real templates, every category and language, and every example renders."""
from collections import Counter

import pytest
import yaml

from workbench.templates import (CATEGORIES, TemplateError, builtin_templates, get_template, list_templates, render,
                                 render_example, variables_of)
from workbench.templates.library import BUILTIN_DIR
from workbench.workspace import NotFoundError

BUILTINS = builtin_templates()
REQUIRED_KINDS = {
    "augmentation": {"paraphrase_instruction", "paraphrase_output", "self_instruct", "expand", "style_transfer",
                     "multi_turn"},
    "judge": {"pointwise", "pairwise", "groundedness"},
    "system": {"persona", "law", "customer_service", "classifier", "summarizer", "translator", "code_assistant",
               "teacher", "doctor_disclaimer"},
    "rewrite": {"clarify", "concise", "formalize", "add_constraints"},
}


def test_at_least_fifty_with_unique_ids_across_files():
    ids = [entry["id"] for path in sorted(BUILTIN_DIR.glob("*.yaml"))
           for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["templates"]]
    assert len(ids) >= 50 and len(ids) == len(set(ids)) == len(BUILTINS)


def test_every_category_and_both_languages_are_covered():
    assert {t.category for t in BUILTINS.values()} == set(CATEGORIES)
    by_language = Counter(t.language for t in BUILTINS.values())
    assert by_language["zh"] >= 20 and by_language["en"] >= 20
    for category, kinds in REQUIRED_KINDS.items():
        assert kinds <= {t.kind for t in BUILTINS.values() if t.category == category}, category
    assert any(t.kind == "persona" and "甄嬛" in t.text for t in BUILTINS.values())  # for the huanhuan data


@pytest.mark.parametrize("template_id", sorted(BUILTINS))
def test_example_renders_with_exactly_its_variables(template_id):
    """Declared variables are the text's variables; the example gives every required one and nothing else."""
    template = BUILTINS[template_id]
    declared = {v.name for v in template.variables}
    assert set(variables_of(template.text)) == declared
    assert {v.name for v in template.variables if v.required} <= set(template.example) <= declared
    output = render_example(template)
    assert output.strip() and "{{" not in output and "{%" not in output
    assert template.name.zh and template.name.en and template.description


@pytest.mark.parametrize("template_id", sorted(i for i, t in BUILTINS.items() if t.category in ("qa_generation", "judge")))
def test_generation_and_judge_templates_ask_for_strict_json_with_its_shape(template_id):
    template = BUILTINS[template_id]
    output = render_example(template)
    assert template.output == "json" and "JSON" in output
    shape = output[output.rindex("\n{"):]  # the shape is stated last, as one JSON-like line
    assert shape.strip().startswith("{\"") and shape.strip().endswith("}")


def test_a_missing_required_variable_of_a_builtin_is_a_named_error():
    template = BUILTINS["qa_from_passage_zh"]
    with pytest.raises(TemplateError) as caught:
        render(template, {})
    assert caught.value.variable == "passage" and "qa_from_passage_zh" in str(caught.value)


def test_list_filters_by_category_language_and_search():
    judges_zh = list_templates(category="judge", language="zh")
    assert judges_zh and all(t.category == "judge" and t.language == "zh" for t in judges_zh)
    assert [t.id for t in list_templates(category="system", query="甄嬛 persona")] == ["persona_zhenhuan_zh"]
    assert list_templates(query="no such words anywhere") == []


def test_unknown_or_malformed_refs_are_not_found(ws):
    for ref in ("no_such_template", "../etc/passwd", "classify_text_zh@2", "x@y"):
        with pytest.raises(NotFoundError):
            get_template(ws, ref)
