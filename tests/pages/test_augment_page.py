"""The Augment page starts a real job against a real local endpoint and shows its result (AppTest)."""
import json

import pyarrow as pa

from tests.llm.conftest import answer
from tests.pages.conftest import no_errors, page
from workbench import jobs
from workbench.llm import Endpoint, save_endpoint


def test_augment_page_runs_a_job_and_reports_the_new_version(app_env, scripted):
    scripted.replies = [answer(json.dumps({"paraphrases": ["皇上近来可好？", "皇上身子可还安康？"]}, ensure_ascii=False))]
    save_endpoint(app_env, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    app_env.create_dataset("huan", pa.table({"instruction": ["皇上今日可好？"], "output": ["安好。"]}))
    at = page("augment").run()
    no_errors(at)
    at.selectbox(key="augment_endpoint").select("scripted")
    at.button(key="augment_start").click().run()
    no_errors(at)
    info = jobs.wait(app_env, at.session_state["augment_job"])
    assert info.state == "succeeded", info.log_tail()
    at.run()
    no_errors(at)
    assert any("2 new rows" in s.value for s in at.success)
    assert app_env.datasets()[0].rows == 3


def test_an_older_version_is_refused_with_what_to_pick_before_any_job_starts(app_env):
    app_env.create_dataset("huan", pa.table({"instruction": ["问"], "output": ["答"]}))
    app_env.restore("huan", 1, 1)  # huan@2 is the newest
    at = page("augment").run()
    at.selectbox(key="augment_version_huan").select(1).run()
    at.button(key="augment_start").click().run()
    no_errors(at)
    message = at.error[0].value
    assert "huan@1 is not the newest version of huan (huan@2 is)" in message and "Pick huan@2 under Version" in message
    assert "reload" not in message and "python -m" not in message
    assert "augment_job" not in at.session_state and not jobs.list_jobs(app_env)


def test_style_transfer_without_a_style_is_refused_with_a_message(app_env):
    app_env.create_dataset("huan", pa.table({"instruction": ["问"], "output": ["答"]}))
    at = page("augment").run()
    at.selectbox(key="augment_strategy").select("style_transfer").run()
    at.button(key="augment_start").click().run()
    assert at.error and "style" in at.error[0].value


def test_answers_without_the_json_are_counted_and_explained_not_a_bare_nothing_kept(app_env, scripted):
    scripted.replies = [answer("当然可以！这里是一些改写：皇上今天还好吗？")] * 2  # prose, not the asked-for JSON
    save_endpoint(app_env, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    app_env.create_dataset("huan", pa.table({"instruction": ["皇上今日可好？", "娘娘吉祥"], "output": ["安好。", "起来吧。"]}))
    at = page("augment").run()
    at.selectbox(key="augment_endpoint").select("scripted")
    at.button(key="augment_start").click().run()
    assert jobs.wait(app_env, at.session_state["augment_job"]).state == "succeeded"
    at.run()
    no_errors(at)
    assert at.warning[0].value == "Nothing was kept: 2 answers not in the asked-for JSON."
    assert "JSON format the prompt asks for" in at.info[0].value
    sample = at.dataframe[0]
    assert list(sample.value["ok"]) == [True, True] and sample.value["text"][0].startswith("当然可以")
    labels = {c.get("label") for c in json.loads(sample.proto.columns).values()}
    assert {"Source row", "Answered", "Answer (or error)"} <= labels
    assert app_env.datasets()[0].head == 1  # nothing saved
