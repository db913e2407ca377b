"""Tables of rows: read, validate, map, split, browse, diff, export.

Conventions every module here follows (so versions stay comparable and cheap to page):
- A dataset version is a `pyarrow.Table` stored as Parquet by `Workspace`.
- `_id` (int64) is a stable row id, assigned at import and kept by every operation; new rows get
  ids above the current maximum. `_split` (string: train/validation/test) exists after a split.
  `_line` (int64) is where the row came from in the source file (line, or sheet/CSV row number).
- Every user column is a nullable string. Nested values (history, conversations, messages, or
  any list/object cell) are stored as compact JSON text (`ensure_ascii=False`).
- Functions take and return tables; problems are returned as `workbench.problems.Problem` values.
"""
import pyarrow as _pa

try:  # jemalloc reuses freed pages instead of faulting in fresh ones: ~25% faster 1M-row imports here
    _pa.set_memory_pool(_pa.jemalloc_memory_pool())
except NotImplementedError:  # a pyarrow build without jemalloc keeps its default pool
    pass
