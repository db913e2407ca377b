"""The report as one standalone HTML file: summary (with the human-adjusted judge figures and κ), plain HTML bar
charts, win rates, the A/B judge, classification, then one block per row with the arms side by side in a grid
that fits about 1,200 px. No script, no stylesheet or font from the network; every text is escaped."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..i18n import in_language, t
from .judge_parse import SCALES
from .metric_strings import column_name
from .report import (_decimals, _named, classification_figures, confusion_table, html_table, human_notes, localized,
                     pairwise_table, summary_table, win_rate_text)
from .report_export import AB_JUDGE, AB_REASON, HUMAN_PICK, JUDGE_REASON
from .report_human import _scale, human_adjusted
from .report_data import report_scores
from .scoring import LEXICAL

STYLE = ("body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:1200px;"
         "margin:1.5em auto;padding:0 1em;color:#222;line-height:1.5}"
         ".wide{overflow-x:auto}table{border-collapse:collapse;font-size:13px;margin:.6em 0}"
         "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;white-space:pre-wrap;max-width:28em;"
         "overflow-wrap:break-word}th{background:#f3f3f3;text-align:left}.note{color:#a60}.muted{color:#666;font-size:13px}"
         ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1em}"
         ".chart{border:1px solid #ddd;border-radius:6px;padding:.5em .8em}.chart h4{margin:.2em 0 .5em;font-size:14px}"
         ".bar{display:grid;grid-template-columns:9em 1fr 8em;gap:.5em;align-items:center;font-size:12px;margin:3px 0}"
         ".track{position:relative;height:14px;background:#f1f1f1;border-radius:3px;overflow:hidden;display:flex}"
         ".fill{background:#4a7bd0}.ci{position:absolute;top:5px;height:4px;background:#1b3f80}"
         ".wins{background:#3c9a4b}.ties{background:#b9b9b9}.losses{background:#d0574e}.failed{background:#f0b44c}"
         ".hist{display:flex;align-items:flex-end;gap:2px;height:48px;border-bottom:1px solid #999}"
         ".hist div{flex:1;background:#4a7bd0;min-height:1px}.legend span{display:inline-block;width:.8em;height:.8em;"
         "margin:0 .3em 0 .8em;vertical-align:middle}"
         ".row{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.6em .8em;page-break-inside:avoid}"
         ".row>header{font-weight:600;margin-bottom:.4em}.pr,.arms{display:grid;gap:.8em}"
         ".pr{grid-template-columns:1fr 1fr}.arms{grid-template-columns:repeat(auto-fit,minmax(260px,1fr));margin-top:.6em}"
         ".arm{background:#fafafa;border:1px solid #e3e3e3;border-radius:4px;padding:.4em .6em}.arm h4{margin:0 0 .3em}"
         ".text{white-space:pre-wrap;overflow-wrap:anywhere}.scores{font-size:12px;color:#444;margin-top:.4em}"
         ".pairs{margin-top:.6em;font-size:13px}.pairs div{margin:.2em 0}.bad{color:#b00;font-weight:600}")


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def render(ws, report, table: pd.DataFrame, metric: str | None, lang: str | None) -> str:
    summary, language = report.summary, lang or "en"
    human = human_adjusted(ws, report.id)
    lineage = _named("eval.lineage", lang, dataset=summary.get("dataset"), rows=summary.get("rows"),
                     split=summary.get("split"), inference=summary.get("inference"))
    parts = [f"<h1>{_e(report.name)}</h1>",
             f"<p class=muted>{_e(lineage)}<br>"
             + " · ".join(f"<b>{_e(arm)}</b> = {_e(v.get('model'))}" for arm, v in summary.get("answers", {}).items())
             + "</p>"]
    parts += [f"<p class=note>{_e(in_language(n, language) if lang else n)}</p>" for n in summary.get("notes", [])]
    parts += [f"<h2>{_e(_named('eval.summary', lang))}</h2>",
              f"<div class=wide>{html_table(localized(summary_table(summary, human, lang), lang))}</div>"]
    parts += [f"<p>{_e(line)}</p>" for line in human_notes(human, lang)]
    if summary.get("similarity", {}).get("arms"):
        parts.append(f"<p class=muted>{_e(_named('eval.baseline_why', lang, model=summary['similarity']['model']))}</p>")
    parts += _charts(ws, report, human, metric, lang)
    for name, rates in summary.get("win_rates", {}).items():
        parts += [f"<h3>{_e(_named('eval.win_rates', lang, metric=column_name(name, lang)))}</h3>",
                  html_table(_win_rates(rates, lang))]
    if summary.get("pairwise"):
        parts += [f"<h2>{_e(_named('eval.report.pairwise', lang, baseline=summary['pairwise']['baseline']))}</h2>",
                  f"<p class=muted>{_e(summary['pairwise'].get('judge'))}</p>",
                  html_table(pairwise_table(summary, human, lang))]
    for title, kind in (("eval.review_title", "judge_agreement"), ("eval.report.pair_review", "pairwise_agreement")):
        if human.get(kind) is not None:
            found = human[kind]
            message = found.message(language) if lang else f"{found.message('en')} / {found.message('zh')}"
            parts += [f"<h2>{_e(_named(title, lang))}</h2>", f"<p>{_e(message)}</p>"]
    if summary.get("classification"):
        parts += [f"<h2>{_e(_named('eval.classification', lang))}</h2>",
                  html_table(classification_figures(summary, lang).rename(columns={"arm": column_name("arm", lang)}))]
        corner = "reference ↓ answer → / 参考 ↓ 回答 →" if not lang else ("参考 ↓ 回答 →" if lang == "zh" else
                                                                        "reference ↓ answer →")
        for arm, result in summary["classification"].items():
            parts += [f"<h3>{_e(_named('metric.confusion', lang))} · {_e(arm)}</h3>",
                      html_table(confusion_table(result, lang).rename_axis(corner), index=True)]
    parts += [f"<h2>{_e(_named('eval.report.rows', lang))}</h2>", _rows(table, summary, metric, lang)]
    return (f"<!doctype html><html lang={'en' if lang == 'en' else 'zh'}><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{_e(report.name)}</title>"
            f"<style>{STYLE}</style><body>{''.join(parts)}</body></html>")


def _win_rates(rates: list[dict], lang: str | None) -> pd.DataFrame:
    rows = [{column_name("arm", lang): r["arm"], "vs": r["other"],
             **{_named(f"eval.outcome.{k}", lang): int(r[k]) for k in ("wins", "ties", "losses")},
             _named("metric.excluded", lang): int(r.get("excluded") or 0),
             _named("eval.outcome.win_rate", lang): win_rate_text({**r, "failed": r.get("excluded")}, lang,
                                                                  missing="left_out")}
            for r in rates]
    return pd.DataFrame(rows)


# --- charts (plain HTML boxes: no script, print-friendly) --------------------------------------------------------
def _charts(ws, report, human: dict, metric: str | None, lang: str | None) -> list[str]:
    summary, charts = report.summary, []
    for name in summary.get("metrics", []):
        top = _top(ws, report, name)
        rows = [(arm, metrics[name]) for arm, metrics in summary.get("arms", {}).items() if name in metrics]
        places = _decimals(summary.get("arms", {})).get(name, 3)
        bars = "".join(_mean_bar(arm, value, top, places) for arm, value in rows)
        charts.append(f"<div class=chart><h4>{_e(_named('eval.report.means', lang, metric=column_name(name, lang)))}"
                      f"</h4>{bars}</div>")
    if metric:
        charts.append(_histogram(report, metric, lang))
    for name, rates in summary.get("win_rates", {}).items():
        if name == metric:
            title = _named("eval.win_rates", lang, metric=column_name(name, lang))
            charts.append(_outcomes(title, {f"{r['arm']} vs {r['other']}": {**r, "failed": r.get("excluded")}
                                            for r in rates}, lang))
    pairwise = summary.get("pairwise")
    if pairwise:
        charts.append(_outcomes(_named("eval.report.outcomes", lang, baseline=pairwise["baseline"]),
                                pairwise.get("arms", {}), lang))
        if human.get("pairwise") and any(v["picks"] for v in human["pairwise"].values()):
            charts.append(_outcomes(_named("eval.report.outcomes_human", lang), human["pairwise"], lang))
    if not charts:
        return []
    return [f"<h2>{_e(_named('eval.report.charts', lang))}</h2><div class=charts>{''.join(charts)}</div>"]


def _top(ws, report, metric: str) -> float:
    """The right end of a metric's axis: its scale (0-1, x100, the judge's rubric scale) or the largest value."""
    if metric in LEXICAL:
        return 100.0
    if metric == "judge":
        scale = _scale(ws, report, report.config)
        if scale in SCALES:
            return float(SCALES[scale][1])
    highs = [v.get("high") or 0 for arms in report.summary.get("arms", {}).values() for k, v in arms.items()
             if k == metric]
    return 1.0 if max(highs, default=0) <= 1 else float(max(highs))


def _pct(value: float, top: float) -> float:
    return max(0.0, min(100.0, 100 * value / top)) if top else 0.0


def _mean_bar(arm: str, value: dict, top: float, places: int) -> str:
    if value.get("mean") is None:
        return f"<div class=bar><span>{_e(arm)}</span><div class=track></div><span>—</span></div>"
    low, high = _pct(value["low"], top), _pct(value["high"], top)
    return (f"<div class=bar><span>{_e(arm)}</span><div class=track><div class=fill style='width:"
            f"{_pct(value['mean'], top):.1f}%'></div><div class=ci style='left:{low:.1f}%;width:{max(high - low, .5):.1f}%'>"
            f"</div></div><span>{value['mean']:.{places}f} (n={int(value.get('n') or 0)})</span></div>")


def _histogram(report, metric: str, lang: str | None) -> str:
    scores = report_scores(report.folder)
    scores = scores[(scores["metric"] == metric) & (scores["status"] == "ok")].dropna(subset=["value"])
    if scores.empty:
        return ""
    values = scores["value"].astype(float)
    edges = np.linspace(values.min(), values.max() if values.max() > values.min() else values.min() + 1, 11)
    counts = {arm: np.histogram(group["value"].astype(float), bins=edges)[0]
              for arm, group in scores.groupby("arm", sort=False)}
    most = max(int(c.max()) for c in counts.values()) or 1
    rows = "".join(
        f"<div class=bar><span>{_e(arm)}</span><div class=hist>"
        + "".join(f"<div title='{edges[i]:.3g}–{edges[i + 1]:.3g}: {int(n)}' style='height:{100 * n / most:.0f}%'></div>"
                  for i, n in enumerate(found))
        + f"</div><span>{edges[0]:.3g} – {edges[-1]:.3g}</span></div>" for arm, found in counts.items())
    return (f"<div class=chart><h4>{_e(_named('eval.distribution', lang, metric=column_name(metric, lang)))}</h4>"
            f"{rows}</div>")


def _outcomes(title: str, arms: dict, lang: str | None) -> str:
    """Stacked bars: wins, ties, losses, failed (counts in the tooltip and beside the bar as the win rate)."""
    outcomes = ("wins", "ties", "losses", "failed")
    bars = []
    for arm, counts in arms.items():
        total = sum(int(counts.get(o) or 0) for o in outcomes) or 1
        segments = "".join(f"<div class={o} title='{_e(_named(f'eval.outcome.{o}', lang))}: {int(counts.get(o) or 0)}'"
                           f" style='width:{100 * int(counts.get(o) or 0) / total:.1f}%'></div>" for o in outcomes)
        bars.append(f"<div class=bar><span>{_e(arm)}</span><div class=track>{segments}</div>"
                    f"<span>{_e(win_rate_text(counts, lang, short=True))}</span></div>")
    legend = "".join(f"<span class={o}></span>{_e(_named(f'eval.outcome.{o}', lang))}" for o in outcomes)
    return f"<div class=chart><h4>{_e(title)}</h4>{''.join(bars)}<div class='legend muted'>{legend}</div></div>"


# --- rows -------------------------------------------------------------------------------------------------------
def _rows(table: pd.DataFrame, summary: dict, metric: str | None, lang: str | None) -> str:
    order = (_named("eval.report.rows_order", lang, total=len(table), metric=column_name(metric, lang)) if metric
             else _named("eval.report.rows_in_order", lang, total=len(table)))
    arms = list(summary.get("answers", {}))
    places = _decimals(summary.get("arms", {}))
    per_arm = {c for c in table.columns if " · " in c}
    lineage = [c for c in table.columns if c not in per_arm and c not in ("row_id", "prompt", "reference", "difference")]
    blocks = [f"<p class=muted>{_e(order)}</p>"]
    for _, row in table.iterrows():
        head = [f"#{_e(row['row_id'])}"]
        if metric and pd.notna(row.get("difference")):
            head.append(f"{_e(_named('eval.side.difference', lang))} {row['difference']:.{places.get(metric, 3)}f}")
        head += [f"{_e(c)}: {_e(row[c])}" for c in lineage if _present(row[c]) and str(row[c]).strip()]
        blocks.append(
            f"<section class=row><header>{' · '.join(head)}</header><div class=pr>"
            f"<div><b>{_e(_named('eval.side.prompt', lang))}</b><div class=text>{_e(row['prompt'])}</div></div>"
            f"<div><b>{_e(_named('eval.side.reference', lang))}</b><div class=text>{_e(_blank(row['reference']))}</div>"
            f"</div></div><div class=arms>{''.join(_arm(row, arm, summary, places, lang) for arm in arms)}</div>"
            f"{_pairs(row, table.columns, lang)}</section>")
    return "".join(blocks)


def _present(value) -> bool:
    return value is not None and (isinstance(value, str) or not pd.isna(value))


def _blank(value) -> str:
    return str(value) if _present(value) else "—"


def _short(text: str, limit: int = 280) -> str:
    """A judge's reason as the file shows it: the first `limit` characters (the CSV keeps all of it)."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def _arm(row, arm: str, summary: dict, places: dict, lang: str | None) -> str:
    scores = []
    for metric in summary.get("metrics", []):
        value = row.get(f"{arm} · {metric}")
        if not _present(value):
            continue
        shown = f"{value:.{places.get(metric, 3)}f}" if isinstance(value, (int, float)) else str(value)
        css = " class=bad" if isinstance(value, str) else ""
        scores.append(f"{_e(column_name(metric, lang))} <b{css}>{_e(shown)}</b>")
    human = row.get(f"{arm} · human")
    if _present(human):
        scores.append(f"{_e(_named('eval.part.human', lang))} <b>{_e(f'{human:g}')}</b>")
    reason = row.get(f"{arm} · {JUDGE_REASON}")
    reason_html = (f"<div class=scores>{_e(_named('eval.report.reason', lang))}: {_e(_short(reason))}</div>"
                   if isinstance(reason, str) and reason.strip() else "")
    return (f"<div class=arm><h4>{_e(arm)}</h4><div class=text>{_e(_blank(row.get(f'{arm} · answer')))}</div>"
            f"<div class=scores>{' · '.join(scores)}</div>{reason_html}</div>")


def _pairs(row, columns, lang: str | None) -> str:
    lines = []
    for column in [c for c in columns if c.endswith(f" · {AB_JUDGE}")]:
        pair = column[: -len(f" · {AB_JUDGE}")]
        verdict, reason, pick = (value if _present(value) else None for value in
                                 (row.get(column), row.get(f"{pair} · {AB_REASON}"), row.get(f"{pair} · {HUMAN_PICK}")))
        if verdict is None and pick is None:
            continue
        failed = verdict == t("eval.outcome.failed", lang or "en")
        text = f"<b>{_e(pair)}</b> · {_e(_named('eval.report.ab_judge', lang))}: " + (
            f"<span class=bad>{_e(verdict)}</span>" if failed else _e(verdict or _named("eval.report.not_judged", lang)))
        if pick is not None:
            text += f" · {_e(_named('eval.report.human_pick', lang))}: <b>{_e(pick)}</b>"
        if reason:
            text += "".join(f"<div class='muted text'>{_e(_short(part))}</div>" for part in reason.split(" | "))
        lines.append(f"<div>{text}</div>")
    return f"<div class=pairs>{''.join(lines)}</div>" if lines else ""
