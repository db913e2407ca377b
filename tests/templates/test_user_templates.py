"""User templates: create, edit (each save a new immutable version), duplicate, delete (hide)."""
import threading

import pytest

from workbench.templates import (StaleTemplateError, TemplateError, create_template, delete_template,
                                 duplicate_template, get_template, list_templates, render, save_template,
                                 template_versions)
from workbench.templates.store import FOLDER


def test_each_save_is_a_new_version_and_old_versions_never_change(ws):
    first = create_template(ws, "Review classifier", "Classify: {{ text }}", language="en")
    assert (first.id, first.ref, [v.name for v in first.variables]) == ("review-classifier", "review-classifier@1", ["text"])
    v1 = ws.root / FOLDER / first.id / "v0001.yaml"
    before = v1.read_bytes()
    second = save_template(ws, first.id, 1, text="Classify as {{ labels }}:\n{{ text }}", optional=["labels"])
    assert (second.version, second.parent) == (2, 1)
    assert v1.read_bytes() == before
    assert get_template(ws, "review-classifier@1").text == "Classify: {{ text }}"
    assert get_template(ws, "review-classifier").version == 2
    assert [(v.name, v.required) for v in second.variables] == [("labels", False), ("text", True)]
    assert [v.ref for v in template_versions(ws, first.id)] == ["review-classifier@1", "review-classifier@2"]
    assert "|" in (ws.root / FOLDER / first.id / "v0002.yaml").read_text(encoding="utf-8")  # readable block text


def test_a_save_from_an_old_version_is_refused(ws):
    template = create_template(ws, "t", "{{ a }}")
    save_template(ws, template.id, 1, text="{{ a }}!")
    with pytest.raises(StaleTemplateError) as caught:
        save_template(ws, template.id, 1, text="{{ a }}?")
    assert "newest is 2" in str(caught.value) and "最新为版本 2" in str(caught.value)


def test_two_racing_saves_from_the_same_version_cannot_both_win(ws):
    template = create_template(ws, "race", "{{ a }}")
    results = []

    def save(text):
        try:
            results.append(save_template(ws, template.id, 1, text=text).version)
        except StaleTemplateError:
            results.append("stale")

    threads = [threading.Thread(target=save, args=(f"{{{{ a }}}} {i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [2, "stale", "stale", "stale"]
    assert len(template_versions(ws, template.id)) == 2


def test_a_syntax_error_is_refused_before_anything_is_written(ws):
    with pytest.raises(TemplateError) as caught:
        create_template(ws, "broken", "ok\n{% for x in items %}")
    assert caught.value.kind == "syntax" and caught.value.line == 2
    template = create_template(ws, "fine", "{{ a }}")
    with pytest.raises(TemplateError):
        save_template(ws, template.id, 1, text="{{ a }")
    assert len(template_versions(ws, template.id)) == 1


def test_duplicate_a_builtin_then_edit_the_copy(ws):
    copy = duplicate_template(ws, "classify_text_zh", "评论情感分类")
    assert copy.source == "user" and copy.derived_from == "classify_text_zh" and copy.id == "template"
    assert render(copy, copy.example) == render(get_template(ws, "classify_text_zh"), copy.example)
    assert [v.name for v in copy.variables if not v.required] == ["subject", "aspect", "text"]
    again = duplicate_template(ws, copy.ref)
    assert again.id != copy.id and again.derived_from == copy.ref
    assert get_template(ws, "classify_text_zh").source == "builtin"  # the builtin is untouched


def test_names_are_sanitized_into_safe_ids(ws):
    template = create_template(ws, "../../etc/passwd\x00 evil\nname", "{{ a }}")
    assert template.id == "etc-passwd-evil-name" and "\n" not in template.name.en
    assert (ws.root / FOLDER / template.id / "v0001.yaml").is_file()
    shadow = create_template(ws, "classify_text_zh", "{{ a }}")  # never shadows a builtin id
    assert shadow.id != "classify_text_zh"


def test_delete_hides_but_recorded_versions_still_resolve(ws):
    template = create_template(ws, "old one", "{{ a }}")
    delete_template(ws, template.id)
    assert template.id not in {t.id for t in list_templates(ws)}
    assert get_template(ws, f"{template.id}@1").text == "{{ a }}"
    delete_template(ws, template.id, restore=True)
    assert template.id in {t.id for t in list_templates(ws)}


def test_a_hand_broken_file_is_left_out_of_the_list_and_named_when_asked_for(ws):
    template = create_template(ws, "fragile", "{{ a }}")
    (ws.root / FOLDER / template.id / "v0002.yaml").write_text("id: [unclosed", encoding="utf-8")
    assert template.id not in {t.id for t in list_templates(ws)}
    with pytest.raises(ValueError, match="v0002.yaml"):
        get_template(ws, template.id)
    assert get_template(ws, f"{template.id}@1").text == "{{ a }}"
