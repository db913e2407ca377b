"""The app's own sample data (written for Workbench): a bilingual product-review classifier set.

Its columns are `prompt,text,label,lang`, the shape of a typical classifier export, so a new user
walks the whole flow on it: import → map (prompt→instruction, text→input, label→output) →
stratified split by label → export.
"""
from __future__ import annotations

from pathlib import Path

SAMPLE_CSV = Path(__file__).with_name("product_reviews.csv")
SAMPLE_MAPPING = {"instruction": "prompt", "input": "text", "output": "label", "keep_other_columns": True}


def load_sample(ws):
    """Import the sample CSV as a new dataset (version 1) and save its suggested mapping."""
    from ..data.importer import commit_staged, stage_file

    staged = stage_file(ws, SAMPLE_CSV, display_name=SAMPLE_CSV.name)
    ws.save_mapping("product-reviews (sample)", SAMPLE_MAPPING)
    return commit_staged(ws, staged.id, "Product reviews (sample) 商品评论示例")
