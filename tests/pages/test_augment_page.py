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


def test_style_transfer_without_a_style_is_refused_with_a_message(app_env):
    app_env.create_dataset("huan", pa.table({"instruction": ["问"], "output": ["答"]}))
    at = page("augment").run()
    at.selectbox(key="augment_strategy").select("style_transfer").run()
    at.button(key="augment_start").click().run()
    assert at.error and "style" in at.error[0].value
