"""The UI language (AppTest): the sidebar choice survives a page switch made by a page (st.switch_page starts
with no widget state), is kept in the tab's URL (?lang=, a reload) and in the workspace settings (the next
session starts in it); WORKBENCH_LANG stays the default until the user chooses."""
import json

from streamlit.testing.v1 import AppTest

from tests.infer.conftest import qa_table, tiny_folders  # noqa: F401  (fixture)
from tests.pages.conftest import ROOT, TIMEOUT, no_errors, page
from workbench import jobs, models
from workbench.i18n import save_language, saved_language, t
from workbench.infer import Arm, InferConfig, start_inference


def new_session(query_params: dict | None = None) -> AppTest:
    """A new browser session (a new tab, or a reload with the URL's query parameters)."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query_params or {})
    return at.run()


def test_english_survives_the_switch_to_evaluate_and_starts_the_next_session(app_env, tiny_folders,  # noqa: F811
                                                                              tmp_path, monkeypatch):
    model = models.register_local(app_env, tiny_folders["a"], "tiny a").id
    app_env.create_dataset("qa", qa_table())
    inference_id, job_id = start_inference(app_env, InferConfig(dataset="qa", max_rows=2, max_new_tokens=4,
                                                                arms=[Arm(label="a", model=model)]))
    assert jobs.wait(app_env, job_id, timeout=240).state == "succeeded"

    # the workspace folder typed in the sidebar survives the switch as well
    monkeypatch.setenv("WORKBENCH_WORKSPACE", str(tmp_path / "another-workspace"))
    at = new_session()
    at.text_input(key="workspace_root").set_value(str(app_env.root)).run()
    at.switch_page("app_pages/inference.py").run()
    at.button(key="infer_evaluate").click().run()  # the page itself switches: st.switch_page
    no_errors(at)
    assert at.selectbox(key="eval_inference").value == inference_id  # not the empty default workspace
    assert at.text_input(key="workspace_root").value == str(app_env.root)

    monkeypatch.setenv("WORKBENCH_WORKSPACE", str(app_env.root))
    monkeypatch.setenv("WORKBENCH_LANG", "zh")
    at = new_session()
    assert at.title[0].value == "Workbench 模型定制工作台" and at.selectbox(key="lang").value == "zh"
    assert saved_language(app_env.root) is None  # nothing chosen yet: nothing saved
    at.selectbox(key="lang").select("en").run()
    no_errors(at)
    assert at.title[0].value == "Workbench" and at.query_params["lang"] == "en"
    assert saved_language(app_env.root) == "en"
    at.switch_page("app_pages/inference.py").run()
    at.button(key="infer_evaluate").click().run()
    no_errors(at)
    assert at.title[0].value == "Evaluate and compare"  # was 评估与对比: the switch dropped the select's state
    assert at.selectbox(key="lang").value == "en" and at.query_params["lang"] == "en"

    later = new_session()  # another tab, or the browser reopened
    no_errors(later)
    assert later.title[0].value == "Workbench" and later.selectbox(key="lang").value == "en"
    reloaded = new_session({"lang": "zh"})  # a tab that chose Chinese keeps it when reloaded
    assert reloaded.title[0].value == "Workbench 模型定制工作台" and reloaded.selectbox(key="lang").value == "zh"


def test_the_language_setting_is_one_key_of_a_settings_file(tmp_path):
    assert saved_language(tmp_path) is None
    settings = tmp_path / "settings" / "ui.json"
    settings.parent.mkdir()
    settings.write_text('{"other": 1, "language": "fr"}', encoding="utf-8")
    assert saved_language(tmp_path) is None  # not a language of the app: the default applies
    save_language(tmp_path, "en")
    assert json.loads(settings.read_text(encoding="utf-8")) == {"other": 1, "language": "en"}
    settings.write_text("[not json", encoding="utf-8")
    assert saved_language(tmp_path) is None
    save_language(tmp_path, "zh")  # a broken file is replaced, not a reason to refuse the choice
    assert saved_language(tmp_path) == "zh"


def shown(widget, kept: str) -> str:
    """The label the browser shows for a select or radio: the one sent with a value set by the app, else the one
    it kept from the pick (AppTest does not keep it, so the test says which it was)."""
    return widget.proto.raw_value if widget.proto.set_value else kept


def test_translated_choices_show_their_label_in_the_new_language(app_env):
    """After a language switch a radio and a select on the page show their chosen option in the new language,
    the choices stay, and the next run does not set them again (a pick made while a run is under way stays)."""
    at = page("extract").run()
    at.radio(key="extract_mode").set_value("llm").run()
    at.selectbox(key="extract_grounded").set_value("judge").run()
    no_errors(at)
    picked = {"extract_mode": t("extract.mode.llm", "en"), "extract_grounded": t("extract.grounded.judge", "en")}

    at.selectbox(key="lang").select("zh").run()
    no_errors(at)
    mode, grounded = at.radio(key="extract_mode"), at.selectbox(key="extract_grounded")
    assert (mode.value, grounded.value) == ("llm", "judge")
    assert shown(mode, picked["extract_mode"]) == t("extract.mode.llm", "zh") != picked["extract_mode"]
    assert shown(grounded, picked["extract_grounded"]) == t("extract.grounded.judge", "zh")

    at.run()
    assert not at.radio(key="extract_mode").proto.set_value
    assert not at.selectbox(key="extract_grounded").proto.set_value
