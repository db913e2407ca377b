"""Human overrides in the workspace catalog: kept across workspaces and re-runs; agreement is sklearn's κ."""
import json
import random

import pytest
from sklearn.metrics import cohen_kappa_score

from tests.evaluate.judge_server import client, judge_server, section
from workbench.evaluate.judge import JudgeConfig, JudgeItem, PairJudgement, judge_pointwise
from workbench.evaluate.overrides import (HUMAN_PICK, HUMAN_SCALE, HUMAN_SCORE, OverrideKey, agreement,
                                          agreement_for, arm_key, clear_override, human_values, judge_values,
                                          overrides_for, pair_arm, pick_key, review_metrics, set_override,
                                          stored_scores, stored_winners)
from workbench.workspace import Workspace

PERSONA = "现在你要扮演皇帝身边的女人--甄嬛"
BASE, VARIANT = arm_key("smollm2-135m-instruct"), arm_key("smollm2-135m-instruct", PERSONA)
CONFIG = JudgeConfig(judge="judge", rubric="judge_persona_style_zh")


def judge_reply(prompt, attempt):
    answer = section(prompt, "待评回复")  # the persona rubric's heading
    return json.dumps({"reason": "语气", "score": 8 if "本宫" in answer else 3}, ensure_ascii=False)


def run_judge(url):
    rows = [JudgeItem(row, arm, f"台词 {row}", f"本宫知道了 {row}" if arm == VARIANT else f"OK {row}",
                      variables={"persona": PERSONA}) for row in range(4) for arm in (BASE, VARIANT)]
    return judge_pointwise(client(url), CONFIG, rows)


def test_arm_keys_tell_prompt_variants_apart():
    assert BASE == "smollm2-135m-instruct" and arm_key("smollm2-135m-instruct", "") == BASE
    assert VARIANT.startswith("smollm2-135m-instruct+sys:") and VARIANT == arm_key("smollm2-135m-instruct", PERSONA)
    assert arm_key("smollm2-135m-instruct", PERSONA + "。") != VARIANT
    assert pair_arm("run-b", "base") == pair_arm("base", "run-b") == "base vs run-b"


def test_overrides_survive_a_fresh_workspace_object_and_a_rerun_of_the_judge(ws):
    with judge_server(judge_reply) as (_, url):
        first = run_judge(url)
        assert {(r.arm, r.score) for r in first} == {(BASE, 3), (VARIANT, 8)}
        for judgement, human in ((first[0], 5), (first[3], 9)):
            set_override(ws, OverrideKey("ds-hh", judgement.row_id, judgement.arm, CONFIG.metric), score=human,
                         scale="1-10", note="checked by hand")
        reopened = Workspace(ws.root)
        second = run_judge(url)  # a new evaluation run: new judgement objects, same keys
    stored = overrides_for(reopened, "ds-hh", CONFIG.metric)
    assert {(k.row_id, k.arm, o.score, o.note) for k, o in stored.items()} == {
        ("0", BASE, 5.0, "checked by hand"), ("1", VARIANT, 9.0, "checked by hand")}
    humans, judged = human_values(stored), judge_values(second)
    assert set(humans) <= set(judged) and judged[("0", BASE)] == 3 and judged[("1", VARIANT)] == 8
    result = agreement_for(reopened, "ds-hh", CONFIG.metric, second, scale="1-10")
    assert result.overridden == result.compared == 2 and result.exact == 0.0
    assert result.kappa == pytest.approx(cohen_kappa_score([3, 8], [5, 9], labels=list(range(1, 11)),
                                                           weights="quadratic"))


def test_setting_again_replaces_clearing_removes_and_metrics_and_arms_are_separate(ws):
    key = OverrideKey("ds", 7, "base", "judge:pointwise:judge_helpfulness_zh")
    set_override(ws, key, score=4, scale="1-10")
    set_override(ws, key, score=6, scale="1-10")
    other_metric = OverrideKey("ds", 7, "base", "judge:pointwise:judge_correctness_zh")
    set_override(ws, other_metric, score=2, scale="1-10")
    set_override(ws, OverrideKey("ds", 7, "tuned", key.metric), score=9, scale="1-10")
    assert [o.score for o in overrides_for(ws, "ds", key.metric, arms=["base"]).values()] == [6.0]
    assert len(overrides_for(ws, "ds")) == 3 and overrides_for(ws, "other") == {}
    assert clear_override(ws, key) is True and clear_override(ws, key) is False
    assert set(overrides_for(ws, "ds")) == {other_metric, OverrideKey("ds", "7", "tuned", key.metric)}


def test_a_pairwise_winner_is_an_arm_of_the_pair_or_a_tie(ws):
    metric = "judge:pairwise:judge_pairwise_zh"
    key = OverrideKey("ds", 1, pair_arm("tuned", "base"), metric)
    assert set_override(ws, key, winner="tuned").winner == "tuned"
    assert set_override(ws, OverrideKey("ds", 2, key.arm, metric), winner="平局").winner == "tie"
    with pytest.raises(ValueError, match="neither of base, tuned"):
        set_override(ws, key, winner="gpt-4")
    judged = judge_values([PairJudgement(1, "tuned", "base", "ok", "base", True),
                           PairJudgement(2, "base", "tuned", "failed")])
    assert judged == {("1", "base vs tuned"): "base"}  # order-free key; the failed pair is left out
    result = agreement(judged, human_values(overrides_for(ws, "ds", metric)))
    assert (result.compared, result.overridden, result.kappa, result.weights) == (1, 2, None, None)


@pytest.mark.parametrize("arguments, message", [
    ({"score": 11, "scale": "1-10"}, "outside the 1-10 scale"),
    ({"score": 0.5, "scale": "1-5"}, "超出了 1-5 的范围"),
    ({"score": float("nan"), "scale": "1-10"}, "outside"),
    ({"score": 3, "winner": "base"}, "not both"),
    ({}, "二者选一"),
])
def test_bad_overrides_are_refused_with_a_bilingual_message(ws, arguments, message):
    with pytest.raises(ValueError, match=message):
        set_override(ws, OverrideKey("ds", 1, "base", "m"), **arguments)
    assert overrides_for(ws, "ds") == {}


def test_an_override_key_needs_every_part():
    with pytest.raises(ValueError, match="dataset, a row, an arm and a metric"):
        OverrideKey("", 1, "base", "m")


def test_score_agreement_is_sklearns_quadratic_weighted_kappa_over_the_scale():
    generator = random.Random(7)
    keys = [(str(i), "base") for i in range(60)]
    judge = {k: generator.randint(1, 10) for k in keys}
    human = {k: min(10, max(1, v + generator.choice((-2, -1, 0, 0, 1)))) for k, v in judge.items()}
    judge[keys[0]] = None  # a failed judgement: not compared
    human.pop(keys[1])     # not reviewed
    result = agreement(judge, human, "1-10")
    compared = [k for k in keys if judge[k] is not None and k in human]
    expected = cohen_kappa_score([judge[k] for k in compared], [human[k] for k in compared],
                                 labels=list(range(1, 11)), weights="quadratic")
    assert result.kappa == pytest.approx(expected) and result.weights == "quadratic"
    assert (result.compared, result.overridden) == (58, 59)
    plain = cohen_kappa_score([judge[k] for k in compared], [human[k] for k in compared])
    assert result.kappa > plain  # near misses (7 vs 8) count as near agreement
    assert "κ = " in result.message() and "人工修正 59 条" in result.message("zh")


def test_zero_to_one_scores_are_binned_to_tenths_and_winners_use_plain_kappa():
    judge = {("1", "a"): 0.0, ("2", "a"): 1.0, ("3", "a"): 0.86, ("4", "a"): 0.3}
    human = {("1", "a"): 0.0, ("2", "a"): 1.0, ("3", "a"): 0.9, ("4", "a"): 0.0}
    result = agreement(judge, human, "0-1")
    assert result.kappa == pytest.approx(cohen_kappa_score([0, 10, 9, 3], [0, 10, 9, 0], labels=list(range(11)),
                                                           weights="quadratic"))
    assert result.exact == 0.75
    winners_judge = {("1", "p"): "a", ("2", "p"): "b", ("3", "p"): "tie", ("4", "p"): "a"}
    winners_human = {("1", "p"): "a", ("2", "p"): "tie", ("3", "p"): "tie", ("4", "p"): "a"}
    result = agreement(winners_judge, winners_human)
    assert result.weights is None
    assert result.kappa == pytest.approx(cohen_kappa_score(list(winners_judge.values()), list(winners_human.values())))


def test_agreement_is_undefined_not_a_number_when_it_cannot_be_computed():
    assert agreement({("1", "a"): 7}, {("1", "a"): 7}, "1-10").kappa is None
    constant = agreement({("1", "a"): 7, ("2", "a"): 7}, {("1", "a"): 7, ("2", "a"): 7}, "1-10")
    assert constant.kappa is None and constant.exact == 1.0 and "at least two" in constant.message()
    assert agreement({}, {}, "1-10").compared == 0


def test_a_report_without_a_judge_keeps_human_scores_and_picks_of_its_own(ws):
    assert review_metrics() == (HUMAN_SCORE, HUMAN_PICK)
    pairwise = JudgeConfig(judge="judge", mode="pairwise", rubric="judge_pairwise_zh")
    assert review_metrics(CONFIG, pairwise) == (CONFIG.metric, pairwise.metric)
    set_override(ws, OverrideKey("persona", "3", BASE, CONFIG.metric), score=4, scale="1-10")  # a judge's, kept
    set_override(ws, OverrideKey("persona", "3", BASE, HUMAN_SCORE), score=7, scale=HUMAN_SCALE)
    set_override(ws, OverrideKey("persona", "3", VARIANT, HUMAN_SCORE), score=2, scale=HUMAN_SCALE)
    with pytest.raises(ValueError):
        set_override(ws, OverrideKey("persona", "3", BASE, HUMAN_SCORE), score=11, scale=HUMAN_SCALE)
    assert stored_scores(ws, "persona", HUMAN_SCORE, [BASE]) == {("3", BASE): 7.0}
    assert stored_scores(ws, "persona", CONFIG.metric, [BASE, VARIANT]) == {("3", BASE): 4.0}
    key = pick_key("persona", 3, VARIANT, BASE, HUMAN_PICK)
    assert key == pick_key("persona", "3", BASE, VARIANT, HUMAN_PICK) and key.arm == pair_arm(BASE, VARIANT)
    set_override(ws, key, winner=VARIANT)
    assert stored_winners(ws, "persona", HUMAN_PICK) == {("3", pair_arm(BASE, VARIANT)): VARIANT}
    assert stored_winners(ws, "persona", pairwise.metric) == {}
