"""Home (AppTest): with no training run yet it points to the Train page, in both languages."""
from tests.pages.conftest import no_errors, page


def test_no_run_yet_points_to_the_train_page(app_env):
    at = page("home").run()
    no_errors(at)
    assert "No training run yet: start one on the Train page." in [c.value for c in at.main.caption]
    assert "train" in {link.proto.page for link in at.main.get("page_link")}
    at.session_state["lang"] = "zh"
    at.run()
    no_errors(at)
    assert "还没有训练运行：请在“训练”页面开始训练。" in [c.value for c in at.main.caption]
    assert any(link.proto.label == "训练" for link in at.main.get("page_link"))
