"""Applying a template to a dataset writes a new version (op "template") with what produced it."""
import pytest

from workbench.samples import load_sample
from workbench.templates import TemplateError, apply_template, create_template, preview_rows, save_template
from workbench.workspace import StaleVersionError

LABELS = {"labels": "正面、负面或中性", "subject": "商品评论"}


def test_the_sample_gets_its_classifier_instruction_with_the_review_as_input(ws):
    version = load_sample(ws)
    new = apply_template(ws, version, "classify_text_zh", "instruction", {}, LABELS)
    table = ws.read(new)
    assert (new.number, new.parent, new.op, new.rows) == (2, 1, "template", 37)
    assert set(table.column("instruction").to_pylist()) == {"判断这条商品评论的情感，只回答：正面、负面或中性。"}
    chinese = [row for row in table.to_pylist() if row["lang"] == "zh"]
    assert chinese and all(row["instruction"] == row["prompt"] for row in chinese)  # the seed's own instruction
    assert table.column("text").to_pylist() == ws.read(version).column("text").to_pylist()
    assert new.params == {"template": "classify_text_zh", "template_sha256": new.params["template_sha256"],
                          "target": "instruction", "mapping": {}, "constants": LABELS, "overwrite": False}


def test_mapping_a_column_puts_it_inside_and_a_system_field_can_be_added(ws):
    version = load_sample(ws)
    with_text = apply_template(ws, version, "classify_text_zh", "instruction", {"text": "text"}, LABELS)
    first = ws.read(with_text).to_pylist()[0]
    assert first["instruction"].endswith("商品评论：" + first["text"])
    system = apply_template(ws, with_text, "classifier_zh", "system", constants={"labels": "正面、负面、中性"})
    assert ws.read(system).column("system")[0].as_py().startswith("你是一个文本分类模型")


def test_existing_text_is_kept_unless_overwrite_is_chosen(ws):
    version = load_sample(ws)
    with pytest.raises(ValueError, match="already has text in 37 rows"):
        apply_template(ws, version, "classify_text_zh", "prompt", {}, LABELS)
    new = apply_template(ws, version, "classify_text_zh", "prompt", {"text": "text"}, LABELS, overwrite=True)
    assert ws.read(new).column_names == ws.read(version).column_names  # replaced in place
    with pytest.raises(ValueError):
        apply_template(ws, new, "classify_text_zh", "_id", {}, LABELS, overwrite=True)


def test_missing_variables_and_unknown_columns_are_clear_errors(ws):
    version = load_sample(ws)
    with pytest.raises(TemplateError) as caught:
        apply_template(ws, version, "classify_text_zh", "instruction", {})
    assert caught.value.variable == "labels" and "labels" in caught.value.located("zh")
    with pytest.raises(ValueError, match="nope"):
        apply_template(ws, version, "classify_text_zh", "instruction", {"text": "nope"}, LABELS)
    assert ws.version(version.dataset_id).number == 1  # nothing written


def test_a_row_that_fails_names_its_row_id(ws):
    version = load_sample(ws)
    mine = create_template(ws, "fails on negatives", "{{ 10 // ((label == '负面') | int - 1) }}")
    with pytest.raises(TemplateError) as caught:
        apply_template(ws, version, mine, "input", {"label": "label"})
    assert (caught.value.kind, caught.value.row) == ("runtime", 1)  # the first negative review
    assert "row _id 1" in caught.value.located("en") and "数据行 _id 1" in caught.value.located("zh")


def test_a_user_template_version_is_recorded_and_stale_saves_are_refused(ws):
    version = load_sample(ws)
    mine = create_template(ws, "lang tag", "[{{ lang }}] {{ text }}")
    save_template(ws, mine.id, 1, text="({{ lang }}) {{ text }}")
    new = apply_template(ws, version, f"{mine.id}@1", "input")  # no mapping: same-name columns
    assert new.params["template"] == f"{mine.id}@1" and new.params["mapping"] == {"lang": "lang", "text": "text"}
    assert ws.read(new).column("input")[0].as_py().startswith("[zh] ")
    with pytest.raises(StaleVersionError):
        apply_template(ws, version, mine.id, "input", overwrite=True)


def test_preview_shows_each_row_or_its_error(ws):
    table = ws.read(load_sample(ws)).slice(0, 2)
    ok = preview_rows(table, "{{ label }}: {{ text }}", {"label": "label", "text": "text"})
    assert [row["error"] for row in ok] == [None, None] and ok[0]["text"].startswith("正面: ")
    broken = preview_rows(table, "{{ label }}: {{ text }}", {"label": "label"})
    assert broken[0]["error"].variable == "text"


def test_a_big_apply_runs_as_a_background_job_with_the_same_result(ws):
    from workbench import jobs
    from workbench.templates.jobs import start_apply_job

    version = load_sample(ws)
    with pytest.raises(TemplateError):  # checked before any process starts
        start_apply_job(ws, version, "classify_text_zh", "instruction", {})
    job_id = start_apply_job(ws, version, "classify_text_zh", "instruction", {}, LABELS)
    info = jobs.wait(ws, job_id, timeout=60)
    assert info.state == "succeeded", info.error
    head = ws.version(version.dataset_id)
    assert info.result["version"] == head.ref and head.op == "template"
    assert ws.read(head).column("instruction")[0].as_py() == "判断这条商品评论的情感，只回答：正面、负面或中性。"


def role_play(ws):
    """Rows like huanhuan.json: the Alpaca `input` column is there but empty (blank, whitespace, null)."""
    import pyarrow as pa

    return ws.create_dataset("huan", pa.table({"instruction": ["皇上驾到！", "娘娘。", "起来吧。", "退下。"],
                                               "input": ["", "  ", None, "碎玉轩内"],
                                               "output": ["皇上万福金安。", "嗯。", "谢娘娘。", "是。"]}))


def test_a_required_variable_empty_in_rows_is_located_with_how_many_and_which(ws):
    """qa_role_dialogue_zh maps passage to `input` by default: jinja2 would render the blank cells silently."""
    from workbench.templates import empty_values, get_template, suggest_mapping

    version = role_play(ws)
    template = get_template(ws, "qa_role_dialogue_zh")
    mapping = suggest_mapping(template, version.columns)
    assert mapping == {"passage": "input"}
    [problem] = empty_values(ws.read(version), template, mapping, {"character": "甄嬛"})
    assert (problem.kind, problem.variable, problem.column, problem.count, problem.total) == \
        ("empty", "passage", "input", 3, 4)
    assert problem.rows == (0, 1, 2) and problem.line == 11  # the line of {{ passage }}
    assert problem.located("en") == ("Template 'qa_role_dialogue_zh', line 11: required variable 'passage' (column "
                                     "'input') is empty in 3 of 4 rows (row _id 0, 1, 2); map it to a column that "
                                     "has text or give it a fixed text")
    assert "必填变量“passage”（列“input”）在 4 行中有 3 行为空（数据行 _id 0、1、2）" in problem.located("zh")
    assert empty_values(ws.read(version), template, {"passage": "output"}, {"character": "甄嬛"}) == []
    # an optional variable may stay empty (it falls back to its default); an empty fixed text is empty in every row
    assert empty_values(ws.read(version), template, {"passage": "output", "count": "input"}, {"character": "甄嬛"}) == []
    [blank] = empty_values(ws.read(version), template, {"passage": "output"}, {"character": " "})
    assert (blank.variable, blank.column, blank.count) == ("character", None, 4) and "fixed text" in blank.located()


def test_many_empty_rows_name_the_first_ids_and_the_count(ws):
    import pyarrow as pa

    from workbench.templates import empty_values

    version = ws.create_dataset("many", pa.table({"text": [""] * 3613}))
    [problem] = empty_values(ws.read(version), "<{{ text }}>")
    assert problem.count == 3613 and problem.rows == (0, 1, 2, 3, 4)
    assert "is empty in 3,613 of 3,613 rows (row _id 0, 1, 2, 3, 4, …)" in problem.located()


def test_apply_refuses_empty_required_values_unless_asked_and_records_them(ws):
    from workbench.templates import EmptyValueError

    version = role_play(ws)
    with pytest.raises(EmptyValueError) as caught:
        apply_template(ws, version, "qa_role_dialogue_zh", "prompt", {"passage": "input"}, {"character": "甄嬛"})
    assert (caught.value.variable, caught.value.count) == ("passage", 3)
    assert ws.dataset("huan").head == 1  # nothing saved
    good = apply_template(ws, version, "qa_role_dialogue_zh", "prompt", {"passage": "output"}, {"character": "甄嬛"})
    assert "empty" not in good.params and "皇上万福金安。" in ws.read(good).column("prompt")[0].as_py()
    forced = apply_template(ws, good, "qa_role_dialogue_zh", "prompt", {"passage": "input"}, {"character": "甄嬛"},
                            overwrite=True, allow_empty=True)
    assert forced.params["empty"] == {"passage": 3}


def test_the_background_apply_is_refused_before_it_starts(ws):
    from workbench import jobs
    from workbench.templates import EmptyValueError
    from workbench.templates.jobs import start_apply_job

    version = role_play(ws)
    with pytest.raises(EmptyValueError):
        start_apply_job(ws, version, "qa_role_dialogue_zh", "prompt", {"passage": "input"}, {"character": "甄嬛"})
    assert jobs.list_jobs(ws) == []
