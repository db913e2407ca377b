"""The Extract page: rules on pasted text, an LLM job on a real local endpoint, review, save (AppTest)."""
import json

from tests.extract.conftest import FAQ_HTML, site  # noqa: F401  (a real HTTP server on 127.0.0.1)
from tests.llm.conftest import answer
from tests.pages.conftest import no_errors, page
from workbench import jobs
from workbench.llm import Endpoint, save_endpoint

FAQ = "问：宫中几时请安？\n答：卯时。\n\n问：谁管六宫？\n答：皇后。\n\n闲话一段，没有问答。"


def test_rules_on_pasted_text_are_reviewed_and_only_accepted_pairs_are_saved(app_env):
    at = page("extract").run()
    no_errors(at)
    at.text_area(key="extract_paste").input(FAQ).run()
    at.button(key="extract_find").click().run()
    no_errors(at)
    rows = at.session_state["extract_candidates"][0]
    assert [r["instruction"] for r in rows] == ["宫中几时请安？", "谁管六宫？"]
    assert rows[0]["chunk_text"].startswith("问：宫中几时请安？")
    review = json.loads(at.dataframe[0].proto.columns)  # rules give no grounding score: that column is hidden
    assert review["grounding"]["hidden"] and review["accept"]["label"] == "Keep"
    at.button(key="extract_save").click().run()
    no_errors(at)
    version = app_env.datasets()[0]
    assert version.rows == 2 and any("Saved" in s.value for s in at.success)
    saved = app_env.read(app_env.version(version.id)).to_pylist()
    assert saved[1]["output"] == "皇后。" and json.loads(saved[1]["_source"])["source"] == "pasted text"


def test_llm_mode_runs_as_a_job_and_its_candidates_come_back_for_review(app_env, scripted):
    def reply(request):
        prompt = request["messages"][0]["content"]
        if prompt.startswith("You write questions"):
            return answer('["谁管六宫？"]')
        return answer("皇后。")

    scripted.replies = [reply]
    save_endpoint(app_env, Endpoint("scripted", base_url=scripted.base_url, model="m", max_retries=0))
    at = page("extract").run()
    at.text_area(key="extract_paste").input(FAQ).run()
    at.radio(key="extract_mode").set_value("llm").run()
    at.selectbox(key="extract_endpoint").select("scripted")
    at.number_input(key="extract_per_chunk").set_value(1).run()
    at.button(key="extract_generate").click().run()
    no_errors(at)
    job_id = at.session_state["extract_job"]
    assert jobs.wait(app_env, job_id).state == "succeeded"
    at.run()
    at.run()
    no_errors(at)
    rows = at.session_state["extract_candidates"][0]
    assert rows and rows[0]["instruction"] == "谁管六宫？" and rows[0]["output"] == "皇后。"
    at.button(key="extract_save").click().run()
    version = app_env.version(app_env.datasets()[0].id)
    assert version.params["mode"] == "llm" and version.params["job_id"] == job_id


def test_a_labelled_sample_gives_precision_coverage_and_what_differs(app_env):
    at = page("extract").run()
    at.text_area(key="extract_paste").input(FAQ).run()
    at.button(key="extract_find").click().run()
    sample = "question,answer\n宫中几时请安？,卯时。\n谁管六宫？,华妃。\n何时选秀？,三年一次。\n"
    at.file_uploader(key="extract_sample").upload("labels.csv", sample.encode("gb18030"), "text/csv").run()
    no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Precision": "50%", "Coverage": "33%"}
    tables = [frame.value for frame in at.dataframe]
    extra = next(t for t in tables if "reason" in t.columns)
    assert extra["question"].tolist() == ["谁管六宫？"] and extra["expected_answer"].tolist() == ["华妃。"]
    missed = next(t for t in tables if list(t.columns) == ["question", "answer"])
    assert missed["question"].tolist() == ["谁管六宫？", "何时选秀？"]  # a wrong answer leaves its label unfound
    at.file_uploader(key="extract_sample").upload("labels.csv", b"q_text,a_text\nx,y\n", "text/csv").run()
    assert not at.metric
    assert any("no question column" in str(frame.value.values) for frame in at.dataframe)


def test_a_chinese_user_reviews_pairs_and_chunks_under_chinese_headings(app_env, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "zh")  # AppTest formats the choices in the test process, by this
    at = page("extract").run()
    at.text_area(key="extract_paste").input(FAQ).run()
    at.button(key="extract_show_chunks").click().run()
    no_errors(at)
    chunks = {c.get("label") for c in json.loads(at.dataframe[0].proto.columns).values()}
    assert {"文档", "章节", "文本"} <= chunks
    at.button(key="extract_find").click().run()
    no_errors(at)
    review = {c.get("label") for c in json.loads(at.dataframe[-1].proto.columns).values()}
    assert {"保留", "问题（instruction）", "答案（output）", "来源片段"} <= review
    labels = [w.label for w in at.selectbox]
    assert labels.count("模式") == 0 and "问答格式" in labels and at.radio(key="extract_mode").label == "模式"


def test_rule_problems_show_as_a_table_and_a_bad_pattern_as_one_clean_line(app_env):
    """A dropped over-long answer is listed by its question; an invalid regex shows its reason, not pydantic's dump."""
    statute = "第一条 为了保护劳动者的合法权益，制定本法。" * 1000
    at = page("extract").run()
    at.text_area(key="extract_paste").input(f"{FAQ}\n\n问：劳动法全文是什么？\n答：{statute}").run()
    at.button(key="extract_find").click().run()
    no_errors(at)
    assert len(at.session_state["extract_candidates"][0]) == 2
    table = next(frame for frame in at.dataframe if "message" in frame.value.columns)
    problems = table.value
    assert problems["message"].str.contains("劳动法全文是什么？").any() and problems["line"].tolist() == [9]
    assert "message_zh" not in problems.columns  # the user's language only
    assert table.proto.row_height > 64  # Streamlit wraps a cell's text above 64 px: the long message is not cut off
    at.selectbox(key="extract_preset").select("custom").run()
    at.text_input(key="extract_pattern").input("(?P<question>").run()
    at.button(key="extract_find").click().run()
    [error] = [e.value for e in at.error]
    assert error.startswith("The pattern is not a valid regular expression") and "validation error" not in error


def table_texts(at) -> list[str]:
    """Every cell of every table on the page, as text (the problem tables among them)."""
    return [str(value) for frame in at.dataframe for value in frame.value.values.ravel()]


def test_the_private_url_switch_is_obeyed_on_every_click_whatever_was_read_before(app_env, site):
    """A page fetched while private URLs were allowed is refused once they are not (no cached copy is used), and
    that refusal does not stick after they are allowed again; the server's log shows the one real fetch."""
    site.routes["/faq"] = (200, {"Content-Type": "text/html; charset=utf-8"}, FAQ_HTML.encode())
    url = site.url("/faq?x=1")
    at = page("extract").run()
    at.text_area(key="extract_urls").input(url).run()
    at.toggle(key="extract_allow_private").set_value(True).run()
    at.button(key="extract_find").click().run()
    no_errors(at)
    assert len(site.requests) == 1 and at.session_state["extract_candidates"][0]  # fetched, pairs found

    at.toggle(key="extract_allow_private").set_value(False).run()
    at.button(key="extract_find").click().run()
    no_errors(at)
    assert len(site.requests) == 1 and at.session_state["extract_candidates"][0] == []
    assert any("127.0.0.1" in text and "loopback" in text for text in table_texts(at))
    assert [w.value for w in at.warning] == [
        "Nothing could be read from the sources (see the table above), so no pairs were looked for."]
    assert not [i.value for i in at.info if "No pairs found" in i.value]

    at.toggle(key="extract_allow_private").set_value(True).run()
    at.button(key="extract_find").click().run()
    no_errors(at)
    # the read made under this same policy may be reused (no second request); the refusal is not
    assert at.session_state["extract_candidates"][0] and not at.warning
    assert not any("loopback" in text for text in table_texts(at))


def test_a_refusal_cached_under_the_strict_policy_is_not_reused_once_private_urls_are_allowed(app_env, site):
    site.routes["/faq"] = (200, {"Content-Type": "text/html; charset=utf-8"}, FAQ_HTML.encode())
    at = page("extract").run()
    at.text_area(key="extract_urls").input(site.url("/faq")).run()
    at.button(key="extract_find").click().run()
    assert site.requests == [] and any("loopback" in text for text in table_texts(at))
    at.toggle(key="extract_allow_private").set_value(True).run()
    at.button(key="extract_find").click().run()
    no_errors(at)
    assert len(site.requests) == 1 and at.session_state["extract_candidates"][0]
