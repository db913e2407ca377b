"""Job kinds for the data stage (registered on import by `workbench.jobs`)."""
from __future__ import annotations

import pyarrow.parquet as pq

from ..jobs import job_kind
from ..problems import Problem, ReadError
from ..storage import write_json_atomic
from .importer import stage_file
from .read import ReadOptions
from .validate import validate_table

STEP_ROWS = 20_000
LISTED_PROBLEMS = 1_000


@job_kind("import_check")
def import_check(ctx, params: dict) -> dict:
    """Read and validate a (large) file into a staged import, with progress by bytes read."""
    options = ReadOptions(**params.get("options", {}))
    ctx.log(f"reading {params['display_name']}")

    def progress(done, total):
        ctx.progress(done, total, f"reading / 读取中 {params['display_name']}")
        ctx.check_cancelled()
    try:
        staged = stage_file(ctx.ws, params["path"], options, params["display_name"], progress=progress)
    except ReadError as error:
        for problem in error.problems:
            ctx.log(problem.located())
        return {"ok": False, "problems": [p.to_dict() for p in error.problems]}
    ctx.log(f"staged {staged.rows} rows, {len(staged.error_rows)} with errors")
    return {"ok": True, **staged.summary()}


@job_kind("stats", resumable=True)
def stats_job(ctx, params: dict) -> dict:
    """Validate a dataset version and compute length statistics, step by step with checkpoints."""
    from .browse import read_range
    from .stats import StatsAccumulator

    version = ctx.ws.resolve(params["ref"])
    fields = params.get("fields") or [c for c in version.columns if not c.startswith("_")]
    tokenizer = _tokenizer(ctx.ws, params.get("tokenizer"))
    step = int(params.get("step_rows", STEP_ROWS))
    state = ctx.load_checkpoint() or {"next_row": 0, "accumulator": None, "counts": {}, "problems": [],
                                      "rows_with_errors": 0}
    if state["next_row"]:
        ctx.log(f"resuming from row {state['next_row']} of {version.rows}")
    accumulator = (StatsAccumulator.from_state(state["accumulator"], tokenizer=tokenizer)
                   if state["accumulator"] else StatsAccumulator(fields, tokenizer=tokenizer))
    parquet = pq.ParquetFile(version.path)
    while state["next_row"] < version.rows:
        ctx.check_cancelled()
        batch = read_range(parquet, state["next_row"], step)
        accumulator.update(batch)
        report = validate_table(batch, version.row_schema or "auto", file=version.ref)
        for code, count in report.counts.items():
            state["counts"][code] = state["counts"].get(code, 0) + count
        state["rows_with_errors"] += int(len(report.error_rows))
        room = LISTED_PROBLEMS - len(state["problems"])
        state["problems"] += [p.to_dict() for p in report.problems[:max(0, room)]]
        state["next_row"] += batch.num_rows
        state["accumulator"] = accumulator.to_state()
        ctx.save_checkpoint(state)
        ctx.progress(state["next_row"], version.rows, f"{state['next_row']:,} / {version.rows:,} rows")
    result = {"ref": version.ref, "rows": version.rows, "schema": version.row_schema,
              "stats": accumulator.result(), "problem_counts": state["counts"],
              "rows_with_errors": state["rows_with_errors"], "problems": state["problems"],
              "tokenizer": params.get("tokenizer")}
    write_json_atomic(version.path.parent / f"stats-v{version.number:05d}.json", result)
    return result


def _tokenizer(ws, model_id: str | None):
    if not model_id:
        return None
    from ..models import load_tokenizer

    return load_tokenizer(ws, model_id)


def problems_from(result: dict) -> list[Problem]:
    return [Problem.from_dict(p) for p in result.get("problems", [])]
