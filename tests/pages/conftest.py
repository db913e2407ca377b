from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.llm.conftest import scripted  # noqa: F401  (a real OpenAI-compatible server for the LLM page)

TIMEOUT = 60
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A fresh workspace for the pages, chosen the way a user does (env var)."""
    root = tmp_path / "workspace"
    monkeypatch.setenv("WORKBENCH_WORKSPACE", str(root))
    monkeypatch.setenv("WORKBENCH_LANG", "en")
    from workbench.workspace import Workspace

    return Workspace(root)


def page(name: str) -> AppTest:
    """The app opened on one page through its real navigation (so page links resolve)."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()  # registers the pages
    return at.switch_page(f"app_pages/{name}.py")


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
