"""Templates page (AppTest): browse, live preview on real rows, clear errors, apply, edit your own."""
from tests.pages.conftest import no_errors, page
from workbench.templates import template_versions


def sample(ws):
    from workbench.samples import load_sample

    return load_sample(ws)


def pick(at, template_id, category=None):
    if category:
        at.selectbox(key="tpl_category").set_value(category).run()
    return at.selectbox(key="tpl_pick").set_value(template_id).run()


def errors(at):
    return " ".join(e.value for e in at.error)


def test_browse_filters_the_library_and_shows_a_rendered_example(app_env):
    at = page("templates").run()
    no_errors(at)
    assert len(at.selectbox(key="tpl_pick").options) >= 50
    at.selectbox(key="tpl_category").set_value("judge").run()
    at.selectbox(key="tpl_lang").set_value("zh").run()
    assert all("zh" in option for option in at.selectbox(key="tpl_pick").options)
    at.text_input(key="tpl_search").input("甄嬛").run()
    at.selectbox(key="tpl_category").set_value("system").run()
    no_errors(at)
    assert at.selectbox(key="tpl_pick").value == "persona_zhenhuan_zh"
    assert any("现在你要扮演皇帝身边的女人——甄嬛。" in code.value and "{{" not in code.value for code in at.code)
    assert not at.error


def test_the_first_template_shown_is_in_the_users_language(app_env):
    from workbench.templates import get_template

    for language in ("zh", "en"):
        at = page("templates")
        at.session_state["lang"] = language
        first = at.run().selectbox(key="tpl_pick").value
        assert get_template(app_env, first).language == language


def test_live_preview_on_sample_rows_then_apply_writes_a_version(app_env):
    version = sample(app_env)
    at = pick(page("templates").run(), "classify_text_zh", "instruction")
    no_errors(at)
    assert any(code.value.endswith("商品评论：物流很快，包装完好，耳机音质比预期好太多了。") for code in at.code)
    at.selectbox(key="tpl_col_classify_text_zh_text").set_value("").run()  # keep the review in its own field
    assert any(code.value == "判断这条商品评论的情感，只回答：正面、负面或中性。" for code in at.code)
    at.text_input(key="tpl_fix_classify_text_zh_labels").input("").run()
    assert "variable 'labels' has no value" in errors(at) and "line 1" in errors(at)
    at.text_input(key="tpl_fix_classify_text_zh_labels").input("正面、负面或中性").run()
    at.button(key="tpl_apply").click().run()
    no_errors(at)
    head = app_env.version(version.dataset_id)
    assert (head.number, head.op, head.params["template"]) == (2, "template", "classify_text_zh")
    assert app_env.read(head).column("instruction")[0].as_py() == "判断这条商品评论的情感，只回答：正面、负面或中性。"
    assert any("Saved" in s.value for s in at.success)
    at.button(key="tpl_apply").click().run()  # the field has text now: refused with a message, not a traceback
    no_errors(at)
    assert "already has text" in errors(at) and app_env.version(version.dataset_id).number == 2


def test_duplicate_edit_and_a_bad_template_shows_a_located_error(app_env):
    at = pick(page("templates").run(), "classify_text_en", "instruction")
    at.text_input(key="tpl_copy_classify_text_en").input("My classifier").run()
    at.button(key="tpl_duplicate").click().run()
    no_errors(at)
    assert at.selectbox(key="tpl_pick").value == "my-classifier"
    at.text_area(key="tpl_text_my-classifier@1").input("Classify:\n{% if text %}{{ text }}").run()
    assert "line 2" in errors(at) and "endif" in errors(at)
    at.button(key="tpl_save").click().run()
    no_errors(at)
    assert len(template_versions(app_env, "my-classifier")) == 1  # nothing saved
    at.text_area(key="tpl_text_my-classifier@1").input("Label ({{ labels }}):\n{{ text }}").run()
    at.button(key="tpl_save").click().run()
    no_errors(at)
    assert [v.version for v in template_versions(app_env, "my-classifier")] == [1, 2]
    assert any(code.value == "Label ({{ labels }}):\n{{ text }}" for code in at.code)


def test_a_required_variable_empty_in_every_row_is_shown_before_apply_and_apply_asks_first(app_env, huanhuan_rows):
    """The walk: 甄嬛 → qa_role_dialogue_zh, whose required `passage` defaults to the empty `input` column."""
    import pyarrow as pa

    version = app_env.create_dataset("huanhuan", pa.Table.from_pylist(huanhuan_rows))
    at = page("templates").run()
    at.text_input(key="tpl_search").input("甄嬛").run()
    at = pick(at, "qa_role_dialogue_zh")
    no_errors(at)
    assert at.selectbox(key="tpl_col_qa_role_dialogue_zh_passage").value == "input"
    warned = " ".join(w.value for w in at.warning)
    rows = f"{len(huanhuan_rows):,}"
    assert (f"Template 'qa_role_dialogue_zh', line 11: required variable 'passage' (column 'input') is empty in "
            f"{rows} of {rows} rows (row _id 0, 1, 2, 3, 4, …)") in warned
    at.text_input(key="tpl_target_other").input("prompt").run()
    at.button(key="tpl_apply").click().run()
    no_errors(at)
    assert "required variable 'passage'" in errors(at) and not at.success
    assert app_env.dataset("huanhuan").head == 1  # nothing saved
    at.checkbox(key="tpl_allow_empty").check().run()
    at.button(key="tpl_apply").click().run()
    no_errors(at)
    head = app_env.version(version.dataset_id)
    assert head.number == 2 and head.params["empty"] == {"passage": len(huanhuan_rows)}
    # a column with text: no warning, no "apply anyway", the passage is in the prompt
    at.selectbox(key="tpl_col_qa_role_dialogue_zh_passage").set_value("output").run()
    assert not at.warning and "tpl_allow_empty" not in [c.key for c in at.checkbox]
    assert any(huanhuan_rows[0]["output"] in code.value for code in at.code)


def test_the_empty_value_warning_is_in_chinese_too(app_env):
    import pyarrow as pa

    app_env.create_dataset("huan", pa.table({"instruction": ["皇上驾到！"], "input": [""], "output": ["皇上万福金安。"]}))
    at = pick(page("templates").run(), "qa_role_dialogue_zh")
    at.session_state["lang"] = "zh"
    at.run()
    no_errors(at)
    assert any("必填变量“passage”（列“input”）在 1 行中有 1 行为空（数据行 _id 0）" in w.value for w in at.warning)
