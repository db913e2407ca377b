import json
import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HUANHUAN = SHARED / "data" / "huanhuan.json"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def ws(tmp_path):
    from workbench.workspace import Workspace

    return Workspace(tmp_path / "workspace")


@pytest.fixture(scope="session")
def huanhuan_rows():
    return json.loads(HUANHUAN.read_text(encoding="utf-8"))
