"""Validated loading of a folder of national tables into the DuckDB warehouse (`fundguard load`).

Reading and validation are set-based DuckDB SQL over temporary tables; the warehouse is written only after
every check passed, in one transaction, so a rejected load changes nothing. See docs/loading.md.
"""

from fundguard.data.load.api import load_dir
from fundguard.data.load.discover import REQUIRED_TABLES
from fundguard.data.load.result import LoadResult, LoadValidationFailed
from fundguard.data.load.tables import LOAD_RUNS, ensure_tables, table_checksums

__all__ = [
    "LOAD_RUNS",
    "REQUIRED_TABLES",
    "LoadResult",
    "LoadValidationFailed",
    "ensure_tables",
    "load_dir",
    "table_checksums",
]
