"""Quality page in a real browser: two fixes in a row each start from the newest version (a browser keeps
its own choice of a selectbox, which AppTest does not model)."""
import pyarrow as pa
import pytest

from tests.waiting import wait_idle
from workbench.workspace import Workspace

pytestmark = pytest.mark.e2e
ROWS = [{"instruction": "你是谁？", "output": "我是甄嬛。"}] * 3 + [
    {"instruction": "  ", "output": "空"}, {"instruction": "今天天气怎么样", "output": "晴天。"}]


def test_two_fixes_in_a_row_write_two_versions(app_server, browser_page):
    url, workspace = app_server
    Workspace(workspace).create_dataset("dups", pa.Table.from_pylist(ROWS))
    page = browser_page
    page.goto(f"{url}/quality")
    page.get_by_role("button", name="Run the check").click()
    wait_idle(page)
    page.get_by_role("button", name="Drop exact duplicates").click()
    wait_idle(page)
    page.get_by_text("Drop exact duplicates: dropped 2 rows → dups@2.").wait_for()
    page.get_by_role("button", name="Drop empty rows").click()
    wait_idle(page)
    page.get_by_text("Drop empty rows: dropped 1 rows → dups@3.").wait_for()
    versions = Workspace(workspace).versions("dups")
    assert [(v.number, v.parent, v.op, v.rows) for v in versions] == [
        (1, None, "import", 5), (2, 1, "dedup", 3), (3, 2, "drop_empty", 2)]
