"""Every UI string and problem message exists in English and Chinese with the same placeholders."""
import re
import string

import pytest

from workbench.i18n import LANGUAGES, STRINGS, duration, t
from workbench.problems import MESSAGES, Problem

HAN = re.compile(r"[\u4e00-\u9fff]")


def placeholders(text: str) -> set[str]:
    """Field names of a str.format template (`{{` escapes are not fields); raises on a broken template."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_placeholders_helper_reads_format_fields():
    assert placeholders("Saved {ref} with {rows} rows.") == {"ref", "rows"}
    assert placeholders("now {total:.2f}") == {"total"}
    assert placeholders("an array ([{{...}}, ...])") == set()
    with pytest.raises(ValueError):
        placeholders("broken {field")


def test_languages_are_chinese_and_english():
    assert set(LANGUAGES) == {"zh", "en"}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_has_both_languages_with_the_same_placeholders(key):
    pair = STRINGS[key]
    assert isinstance(pair, tuple) and len(pair) == 2, f"{key}: expected (English, Chinese)"
    english, chinese = pair
    assert english.strip() and chinese.strip(), f"{key}: empty text"
    assert placeholders(english) == placeholders(chinese), f"{key}: placeholders differ"
    assert not HAN.search(english) or key == "home.title", f"{key}: Chinese in the English text"
    # A Chinese text that is only English is an untranslated copy (product names like "token" are fine;
    # punctuation such as the list separator "；" has no letters to translate).
    assert HAN.search(chinese) or english == chinese or chinese in ("token",) or not re.search("[A-Za-z]", chinese), \
        f"{key}: not translated"


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_formats_in_both_languages(key):
    values = {name: 1 for name in placeholders(STRINGS[key][0])}
    for lang in ("en", "zh"):
        text = t(key, lang, **values)
        assert "{" not in text and "}" not in text


def test_t_picks_the_language_and_fills_values():
    assert t("import.saved", "en", ref="reviews@1", rows=37) == "Saved reviews@1 with 37 rows."
    assert t("import.saved", "zh", ref="reviews@1", rows=37) == "已保存 reviews@1，共 37 行。"
    assert t("split.sum", "en", total=0.95) == "Ratios must add up to 1 (now 0.95)."
    assert t("nav.home") == "首页"  # Chinese is the default


def test_t_unknown_key_is_the_key_itself():
    assert t("no.such.key") == "no.such.key"
    assert t("no.such.key", "en", count=3) == "no.such.key"


def test_t_unknown_language_falls_back_to_english():
    assert t("nav.home", "fr") == "Home"


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_problem_code_has_both_languages_with_matching_placeholders(code):
    english, chinese = MESSAGES[code]
    assert english.strip() and chinese.strip()
    assert HAN.search(chinese) and not HAN.search(english)
    # The Chinese text may use the translated form of a value: `{found_zh}` for `{found}`.
    assert placeholders(english) == {re.sub(r"_zh$", "", name) for name in placeholders(chinese)}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_problem_message_renders_its_params(code):
    english, _ = MESSAGES[code]
    params = {name: f"<{name}>" for name in placeholders(english) if name != "field"}
    problem = Problem(code, field="<field>", params=params)
    for message in (problem.message_en, problem.message_zh):
        assert "{" not in message.replace("{...}", "") and "}" not in message.replace("{...}", "")
    for name in placeholders(english):
        assert f"<{name}>" in problem.message_en
    assert HAN.search(problem.message_zh)


def test_problem_chinese_message_translates_type_names():
    problem = Problem("wrong_type", field="output", params={"expected": "text", "found": "number"})
    assert problem.message_en == "Field 'output' must be text, got number."
    assert problem.message_zh == "字段“output”应为文本，实际为数字。"


def test_problem_missing_param_renders_empty_instead_of_failing():
    assert Problem("file_not_found").message_en == "File not found: "


@pytest.mark.parametrize("seconds, text", [
    (None, "–"), (0, "0s"), (59, "59s"), (59.9, "59s"), (60, "1m 00s"), (61, "1m 01s"), (605, "10m 05s"),
    (3599, "59m 59s"), (3600, "1h 00m"), (3661, "1h 01m"), (36000 + 59 * 60 + 59, "10h 59m"),
    (100 * 3600, "100h 00m"),
])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_a_bilingual_message_shows_the_users_half_and_other_text_stays_whole():
    from workbench.i18n import in_language

    assert in_language("done / 完成", "zh") == "完成" and in_language("done / 完成", "en") == "done"
    assert in_language("failed: no rows / 没有可增强的行", "en") == "failed: no rows"
    assert in_language("epoch 1 / 3", "zh") == "epoch 1 / 3"  # no Chinese half: not a bilingual message
    assert in_language("训练 / 验证", "en") == "训练 / 验证"  # Chinese on both sides: left whole
    assert in_language("", "zh") == ""


def test_every_training_choice_and_version_operation_reads_in_both_languages():
    from pathlib import Path

    from workbench.data.quality_fixes import FIX_OPS
    from workbench.train import views

    for group in views.KNOB_GROUPS:
        for knob in views.knobs(group):
            for option in knob.options if knob.kind == "choice" else ():
                assert f"train.choice.{knob.name}.{option}" in STRINGS, (knob.name, option)
    # every operation the code commits a version with: literal ones in the source, the quality fixes' names
    ops = set(FIX_OPS.values())
    for path in (Path(__file__).resolve().parents[1] / "workbench").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        ops |= set(re.findall(r'(?:commit_version|create_dataset)\([^"]{0,160}?"([a-z_]+)"', text))
        ops |= set(re.findall(r'\bop="([a-z_]+)"', text))
    assert {"import", "split", "map", "restore", "augment", "template", "extract", "add_rows"} <= ops  # found
    assert [op for op in sorted(ops) if f"op.{op}" not in STRINGS] == []


def test_every_job_kind_has_a_name_in_both_languages():
    from workbench.jobs import KIND_MODULES

    assert [kind for kind in KIND_MODULES if f"job.kind.{kind}" not in STRINGS] == []
