"""The Serve page (AppTest): renders, a public host warns, starting a real server shows its key once (with a
warning) next to working snippets that do not hold it, and Stop stops the server, says so and still lists it
behind the toggle; states and job messages in the user's language only."""
import openai
import pytest

from tests.pages.conftest import no_errors, page
from tests.pages.train_helpers import tiny_model_folder  # noqa: F401  (fixture)
from workbench import jobs, models
from workbench.serve import list_servers, stop_server


@pytest.fixture
def tiny(app_env, tiny_model_folder):
    model_id = models.register_local(app_env, tiny_model_folder, "tiny").id
    yield model_id
    for server in list_servers(app_env):  # a failing test must not leave a server running
        if server.state in jobs.ACTIVE:
            stop_server(app_env, server.job_id)


def test_renders_and_warns_about_a_public_host(app_env, tiny):
    at = page("serve").run()
    no_errors(at)
    assert any(option.endswith(f"· {tiny}") for option in at.selectbox(key="serve_model").options)
    assert any("No server yet" in c.value for c in at.caption) and not at.warning
    at.text_input(key="serve_host").set_value("0.0.0.0").run()
    assert any("reachable from other machines" in w.value for w in at.warning)


def test_start_shows_the_key_once_then_lists_the_server_and_stop_stops_it(app_env, tiny):
    at = page("serve").run()
    at.selectbox(key="serve_model").select(tiny).run()
    at.button(key="serve_start").click().run(timeout=240)
    no_errors(at)
    assert any("shown only this once" in w.value for w in at.warning)
    [export] = [c.value for c in at.code if c.value.startswith("export WORKBENCH_API_KEY=")]
    key = export.split("=", 1)[1]
    [server] = list_servers(app_env)
    assert server.state == "running" and any(server.base_url in m.value for m in at.markdown)
    with openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0) as client:
        assert client.chat.completions.create(model=tiny, messages=[{"role": "user", "content": "Say hello."}],
                                              max_tokens=4).usage.completion_tokens > 0

    at.run()  # any later run: the key is gone for good, the snippets stay
    no_errors(at)
    assert not [c for c in at.code if key in c.value]
    assert any(server.base_url in c.value and "WORKBENCH_API_KEY" in c.value for c in at.code)
    assert "**State**  \nserving" in [m.value for m in at.markdown]
    assert f"serving at {server.base_url}" in [c.value for c in at.caption]  # the job's message, English half only
    at.button(key=f"serve_stop_{server.job_id}").click().run()
    no_errors(at)
    assert jobs.get(app_env, server.job_id).state == "cancelled"
    assert any(f"Stopped the server of {tiny}" in s.value for s in at.success)  # said so, though the list hides it
    assert any("No server is running. 1 stopped" in c.value for c in at.caption)
    assert not any("No server yet" in c.value for c in at.caption)

    at.toggle(key="serve_show_finished").set_value(True).run()
    no_errors(at)
    assert not at.success  # the confirmation is shown once
    assert "**State**  \nstopped" in [m.value for m in at.markdown] and "cancelled" in [c.value for c in at.caption]
    restart = at.button(key=f"serve_restart_{server.job_id}")
    assert restart.label == "Restart" and "same API key" in restart.help  # short enough for its column
    at.session_state["lang"] = "zh"
    at.run()
    no_errors(at)
    assert "**状态**  \n已停止" in [m.value for m in at.markdown] and "已取消" in [c.value for c in at.caption]
    assert at.button(key=f"serve_restart_{server.job_id}").label == "重新启动"
