"""The Augment page finds its job in the workspace's catalog, not in the session: a reload or a new tab (a fresh
AppTest session, with empty st.session_state) shows the running job's card and live sample, then its summary."""
import json
import threading

import pyarrow as pa

from tests.llm.conftest import answer
from tests.pages.conftest import no_errors, page
from tests.waiting import wait_for
from workbench import jobs
from workbench.augment.jobs import live_sample
from workbench.llm import Endpoint, save_endpoint

PARAPHRASES = {"皇上今日可好？": ["皇上近来可好？", "皇上身子可还安康？"], "娘娘吉祥": ["给娘娘请安", "娘娘万福"]}


def gated_server(scripted):
    """Answers the first row at once and holds the second row's answer until the returned event is set."""
    release = threading.Event()

    def reply(request):
        prompt = request["messages"][0]["content"]
        source = next(text for text in PARAPHRASES if text in prompt)
        if source == "娘娘吉祥":
            release.wait(60)
        return answer(json.dumps({"paraphrases": PARAPHRASES[source]}, ensure_ascii=False))

    scripted.replies = [reply]
    return release


def start_job(app_env) -> str:
    at = page("augment").run()
    at.selectbox(key="augment_dataset").select("huan").run()
    at.selectbox(key="augment_endpoint").select("scripted")
    # the default of "only the first N rows" is the picked dataset's own (it kept the first dataset's 1 before)
    assert at.number_input(key="augment_max_rows_huan").value == app_env.version("huan").rows
    at.button(key="augment_start").click().run()
    no_errors(at)
    return at.session_state["augment_job"]


def test_a_new_session_shows_the_running_job_its_live_sample_and_then_its_summary(app_env, scripted):
    release = gated_server(scripted)
    save_endpoint(app_env, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    app_env.create_dataset("huan", pa.table({"instruction": list(PARAPHRASES), "output": ["安好。", "起来吧。"]}))
    app_env.create_dataset("other", pa.table({"instruction": ["问"], "output": ["答"]}))  # newest: the usual default
    job_id = start_job(app_env)
    try:
        wait_for(lambda: live_sample(app_env, job_id))  # the first row is answered, the second one is held
        fresh = page("augment").run()  # a reload: nothing in st.session_state
        no_errors(fresh)
        assert "augment_job" not in fresh.session_state
        assert fresh.selectbox(key="augment_dataset").value == "huan"  # back on the job's dataset
        assert [h.value for h in fresh.main.subheader] == ["Latest augment job on this dataset"]
        assert "running" in fresh.main.get("progress")[0].proto.text and fresh.button(key=f"augment_cancel_{job_id}")
        sample = fresh.dataframe[0].value
        assert list(sample["ok"]) == [True] and "皇上近来可好？" in sample["text"][0]
        # on another dataset the job is named, not lost
        fresh.selectbox(key="augment_dataset").select("other").run()
        no_errors(fresh)
        assert not fresh.main.subheader and "running on another dataset: huan@1 · paraphrase the instruction ×2" in fresh.main.info[0].value
    finally:
        release.set()
    assert jobs.wait(app_env, job_id).state == "succeeded"
    later = page("augment").run()  # the next day, in a new tab: the finished job and what it kept and dropped
    no_errors(later)
    assert later.selectbox(key="augment_dataset").value == "huan"
    assert "finished" in later.main.get("progress")[0].proto.text
    assert [s.value for s in later.success] == ["Saved huan@2: 4 new rows (4 generated; not kept: –)."]
    assert len(later.dataframe[0].value) == 2 and not later.main.info


def test_the_summary_says_why_rows_were_dropped_after_a_reload(app_env, scripted):
    scripted.replies = [answer("当然可以！这里是一些改写：皇上今天还好吗？")]  # prose, not the asked-for JSON
    save_endpoint(app_env, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    app_env.create_dataset("huan", pa.table({"instruction": ["皇上今日可好？"], "output": ["安好。"]}))
    job_id = start_job(app_env)
    assert jobs.wait(app_env, job_id).state == "succeeded"
    fresh = page("augment").run()
    no_errors(fresh)
    assert [w.value for w in fresh.warning] == ["Nothing was kept: 1 answers not in the asked-for JSON."]
    assert "JSON format the prompt asks for" in fresh.main.info[0].value


def test_a_dataset_without_augment_jobs_shows_only_the_form(app_env):
    app_env.create_dataset("huan", pa.table({"instruction": ["问"], "output": ["答"]}))
    at = page("augment").run()
    no_errors(at)
    assert not at.main.subheader and not at.main.get("progress") and not at.main.info
