"""The run's training data, tokenized in a helper process while the trainer imports torch and loads the model.

On the way to the first step a CPU run spends ~7 s importing torch, transformers and peft and ~2 s loading
the tokenizer and tokenizing the split; on two or more cores the helper does the second during the first.
The helper hands its result over in a temporary pickle file, read only when it exited cleanly; a TrainError
(no rows, no split, a broken tokenizer) travels back as its message and is raised in the trainer, worded as if
raised there.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from .modeling import TrainError
from .trainer import RunData, prepare_run_data


class Helper:
    """A helper process preparing run `run_id`'s data; `result()` waits for it."""

    def __init__(self, ws, run_id: str):
        handle, name = tempfile.mkstemp(prefix="workbench-run-data-", suffix=".pkl")
        os.close(handle)
        self.path = Path(name)
        self.process = subprocess.Popen([sys.executable, "-m", "workbench.train.dataprep", str(ws.root), run_id,
                                         str(self.path)], stdin=subprocess.DEVNULL, cwd=os.getcwd())

    def result(self) -> RunData | None:
        """The data, or None when the helper died without a word (the trainer then prepares it itself)."""
        try:
            code = self.process.wait()
            payload = pickle.loads(self.path.read_bytes()) if code == 0 and self.path.stat().st_size else None
        finally:
            self.stop()
        if isinstance(payload, dict) and "error" in payload:
            raise TrainError(payload["error"])
        return RunData(**payload) if isinstance(payload, dict) else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    from ..workspace import Workspace
    from .runs import get_run

    root, run_id, out = argv
    ws = Workspace(root)
    try:
        payload: dict = vars(prepare_run_data(ws, get_run(ws, run_id).config)[0])  # this module is __main__ here
    except TrainError as error:
        payload = {"error": str(error)}
    Path(out).write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
