"""Job kind `quality`: the quality report of a big version in the background, cached beside it."""
from __future__ import annotations

from ..jobs import job_kind


@job_kind("quality")
def quality_job(ctx, params: dict) -> dict:
    """params: {"ref": "name@N", "options": QualityOptions fields}. The result is the report's summary."""
    from .quality_fixes import QualityOptions, cache_path, report_for_version

    version = ctx.ws.resolve(params["ref"])
    options = QualityOptions(**params.get("options", {}))
    ctx.log(f"quality report of {version.ref} ({version.rows:,} rows)")

    def progress(fraction: float, step: str) -> None:
        ctx.progress(round(100 * fraction, 1), 100, f"{step} · {version.ref}")
        ctx.check_cancelled()

    report = report_for_version(ctx.ws, version, options, progress)
    ctx.log(f"done in {sum(report.seconds.values()):.1f} s: {report.seconds}")
    return {**report.summary(), "cache": str(cache_path(version, options))}
