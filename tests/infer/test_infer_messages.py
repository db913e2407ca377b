"""The infer job's progress messages are "English / 中文", so the page shows the user's half only."""
from workbench.i18n import in_language
from workbench.infer.jobs import answered_message, loading_message


def test_progress_messages_split_into_the_users_language():
    loading = loading_message("smollm2-135m-instruct")
    assert in_language(loading, "en") == "loading smollm2-135m-instruct"
    assert in_language(loading, "zh") == "正在加载 smollm2-135m-instruct"
    answered = answered_message("base", 3, 1200)
    assert in_language(answered, "en") == "base: 3 of 1,200 answers"
    assert in_language(answered, "zh") == "base：已完成 3/1,200 条回答"


def test_a_chinese_or_slashed_name_does_not_break_the_split():
    assert in_language(answered_message("三臂 / 基础", 1, 4), "zh") == "三臂/基础：已完成 1/4 条回答"
    assert in_language(answered_message("三臂", 1, 4), "en") == "arm: 1 of 4 answers"
    assert in_language(loading_message("模型 / 甲"), "en") == "loading a model"
