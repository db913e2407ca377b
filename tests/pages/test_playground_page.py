"""The Playground page (AppTest): two models answer one prompt side by side, an endpoint that is down shows its
error in its own column, an exchange is saved as a new dataset version, and a GGUF asks to be prepared first."""
import json

from tests.pages.conftest import no_errors, page
from tests.pages.train_helpers import qa_table, tiny_model_folder  # noqa: F401  (fixture)
from workbench import models
from workbench.llm import save_endpoint
from workbench.llm.endpoints import Endpoint


def ask(at, text):
    at.chat_input(key="play_prompt").set_value(text).run()
    no_errors(at)
    return at


def test_no_model_says_how_to_get_one(app_env, monkeypatch):
    monkeypatch.setattr("workbench.llm.endpoints.list_models", lambda ws: [], raising=False)
    monkeypatch.setattr("workbench.models.list_models", lambda ws=None: [])
    at = page("playground").run()
    no_errors(at)
    assert any("No model available" in i.value for i in at.info)


def test_two_columns_answer_and_a_down_endpoint_fails_alone(app_env, tiny_model_folder):
    model = models.register_local(app_env, tiny_model_folder, "tiny").id
    save_endpoint(app_env, Endpoint("down", "openai", base_url="http://127.0.0.1:9/v1", model="m", max_retries=0,
                                    timeout_s=2))
    at = page("playground").run()
    at.multiselect(key="play_models").set_value([f"local:{model}", "down"]).run()
    at.text_area(key=f"play_system_local:{model}").set_value("Answer briefly.").run()
    ask(at, "Name a fruit.")
    headings = [m.value for m in at.markdown if m.value.startswith("**")]
    assert headings == ["**tiny**", "**down**"]  # a local model by its label, under it the name it is called by
    assert {f"local:{model}", "down"} <= {c.value for c in at.caption}
    assert any("cannot be reached" in e.value for e in at.error)
    user, answer, asked, failed = at.chat_message
    assert user.markdown[0].value == asked.markdown[0].value == "Name a fruit."
    assert answer.markdown[0].value.strip() and "cannot be reached" in failed.error[0].value
    at.run()  # the answer stays; the failed column keeps no half exchange
    assert [m.name for m in at.chat_message] == ["user", "assistant"]


def test_an_exchange_is_saved_as_a_row_in_a_new_version(app_env, tiny_model_folder):
    model = models.register_local(app_env, tiny_model_folder, "tiny").id
    app_env.create_dataset("qa", qa_table(split=False))
    at = page("playground").run()
    at.multiselect(key="play_models").set_value([f"local:{model}"]).run()
    ask(at, "Say hello.")
    at.button(key="play_save").click().run()
    no_errors(at)
    version = app_env.version("qa")
    assert version.number == 2 and version.rows == 21
    assert app_env.read(version).to_pylist()[-1]["instruction"] == "Say hello."
    assert any("qa@2" in s.value for s in at.success)


def test_a_saved_exchange_keeps_the_conversation_joins_a_split_and_is_not_saved_twice(app_env, tiny_model_folder):
    model = models.register_local(app_env, tiny_model_folder, "tiny").id
    app_env.create_dataset("qa", qa_table(split=True))
    at = page("playground").run()
    at.multiselect(key="play_models").set_value([f"local:{model}"]).run()
    at.number_input(key="play_max_tokens").set_value(8).run()
    at.text_area(key=f"play_system_local:{model}").set_value("Answer briefly.").run()
    ask(at, "Say hello.")
    ask(at, "Say goodbye.")
    assert at.selectbox(key="play_save_split").value == "train"
    assert any("1 earlier exchange(s) as history" in c.value and "Answer briefly." in c.value for c in at.caption)
    at.selectbox(key="play_save_split").set_value("validation").run()
    at.button(key="play_save").click().run()
    no_errors(at)
    version = app_env.version("qa")
    row = app_env.read(version).to_pylist()[-1]
    assert (row["instruction"], row["system"], row["_split"]) == ("Say goodbye.", "Answer briefly.", "validation")
    assert json.loads(row["history"])[0][0] == "Say hello."
    assert version.params["source"] == "playground" and version.params["model"] == model
    assert any("qa@2" in s.value and "validation" in s.value for s in at.success)
    assert at.toast and "qa@2" in at.toast[0].value
    at.button(key="play_save").click().run()
    assert app_env.version("qa").number == 2
    assert any("already saved in qa@2" in w.value for w in at.warning)


def test_a_gguf_model_offers_to_prepare_it_in_the_background(app_env, tmp_path):
    from tests.test_models import write_tiny_gguf

    path = tmp_path / "fresh.gguf"
    write_tiny_gguf(path)
    model = models.register_local(app_env, path, "fresh").id
    at = page("playground").run()
    at.multiselect(key="play_models").set_value([f"local:{model}"]).run()
    assert any("must be prepared" in w.value for w in at.warning)
    at.button(key=f"play_prepare_{model}").click().run()
    from workbench import jobs

    assert [j.kind for j in jobs.list_jobs(app_env)] == ["convert_model"]
    jobs.wait(app_env, jobs.list_jobs(app_env)[0].id, timeout=120)
