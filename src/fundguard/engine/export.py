"""Exporting findings by file extension: .csv / .xlsx with Chinese headers, .parquet with field names."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.data.schema import FINDINGS
from fundguard.errors import FundguardError

# Personal information never leaves in an export; findings carry none today, this guards future columns.
MASKED = ("psn_name", "certno", "tel")


def export_findings(con: duckdb.DuckDBPyConnection, where: str, path: str | Path) -> int:
    """Write the findings matching `where` to `path`; returns the row count."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".parquet", ".xlsx"):
        raise FundguardError(
            f"不支持的导出格式 {ext or '（无扩展名）'}，请用 .csv、.parquet 或 .xlsx",
            f"unsupported export format {ext or '(none)'}; use .csv, .parquet or .xlsx",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [c for c in FINDINGS.columns if c.name not in MASKED]
    order = "ORDER BY rule_code, fixmedins_code, occur_time, finding_id"
    if ext == ".parquet":
        names = ", ".join(c.name for c in cols)
        sql = f"SELECT {names} FROM findings WHERE {where} {order}"
        con.execute(f"COPY ({sql}) TO '{_q(path)}' (FORMAT parquet)")
        return con.execute(f"SELECT count(*) FROM findings WHERE {where}").fetchone()[0]
    headers = ", ".join(f'{c.name} AS "{c.zh}"' for c in cols)
    sql = f"SELECT {headers} FROM findings WHERE {where} {order}"
    if ext == ".csv":
        con.execute(f"COPY ({sql}) TO '{_q(path)}' (HEADER, DELIMITER ',')")
        return con.execute(f"SELECT count(*) FROM findings WHERE {where}").fetchone()[0]
    df = con.execute(sql).df()
    import pandas as pd

    with pd.ExcelWriter(path, engine="xlsxwriter") as xw:
        df.to_excel(xw, sheet_name="疑点明细", index=False)
        ws = xw.sheets["疑点明细"]
        ws.freeze_panes(1, 0)
        for i, c in enumerate(cols):
            ws.set_column(i, i, 40 if c.name in ("message", "evidence", "legal_basis") else 16)
    return len(df)


def _q(path: Path) -> str:
    return str(path).replace("'", "''")
