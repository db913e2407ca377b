"""Applying a template to a big dataset as a background job (registered on import by `workbench.jobs`).

Rendering costs about 30 µs a row, so a million-row version takes half a minute: too long to hold
a page, fine for a job with progress and cancel. The result is the same new version as a direct apply.
"""
from __future__ import annotations

from ..jobs import job_kind, start
from .apply import apply_template, check_apply
from .library import get_template
from .model import Template

BACKGROUND_ROWS = 50_000  # from this many rows the page applies a template as a job


@job_kind("apply_template")
def apply_template_job(ctx, params: dict) -> dict:
    version = ctx.ws.version(params["dataset_id"], params["version"])
    ctx.log(f"applying {params['template']} to {version.ref} -> {params['target']}")

    def progress(done: int, total: int) -> None:
        ctx.check_cancelled()
        ctx.progress(done, total, f"{done:,} / {total:,} rows")

    new = apply_template(ctx.ws, version, params["template"], params["target"], params.get("mapping"),
                         params.get("constants"), params.get("overwrite", False), progress=progress,
                         allow_empty=params.get("allow_empty", False))
    return {"version": new.ref, "rows": new.rows}


def start_apply_job(ws, version, template: Template | str, target: str, mapping: dict | None = None,
                    constants: dict | None = None, overwrite: bool = False, allow_empty: bool = False) -> str:
    """Check what can be checked now (errors raise here, not in the job), start it; returns its id."""
    template = template if isinstance(template, Template) else get_template(ws, template)
    target = check_apply(ws, version, template, target, mapping, constants, overwrite, allow_empty)
    ref = template.ref
    params = {"dataset_id": version.dataset_id, "version": version.number, "template": ref, "target": target,
              "mapping": mapping, "constants": constants or {}, "overwrite": overwrite, "allow_empty": allow_empty}
    return start(ws, "apply_template", params, f"{ref} → {version.ref} ({target})")
