"""A plain valid data set of any size for measuring `fundguard load` (no violations, no realism beyond validity).

    python -m fundguard.data.load.benchdata OUT_DIR N_LINES [--format csv|parquet]

Written entirely by DuckDB SQL, so a million lines take seconds. Ten lines per settlement, one settlement per
visit; amounts satisfy every identity the loader checks. For realistic data use the synthetic region generator.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

LINES_PER_SETL = 10

_SQL = {
    "fixmedins": """
        SELECT printf('H%011d', i) AS fixmedins_code, '医院' || i AS fixmedins_name, '1' AS fixmedins_type,
               'A1' AS medins_type, '0' || (2 + i % 6) AS hosp_lv, '110101' AS admdvs
        FROM range(1, 51) t(i)""",
    "practitioner": """
        SELECT printf('D%013d', i) AS prac_code, '医生' || i AS prac_name, '1' AS prac_type,
               printf('H%011d', 1 + i % 50) AS fixmedins_code, '1' AS vali_flag
        FROM range(1, 501) t(i)""",
    "psn_info": """
        SELECT printf('%020d', i) AS psn_no, CAST(1 + i % 2 AS VARCHAR) AS gend,
               DATE '1940-01-01' + CAST(i % 25000 AS INTEGER) AS brdy, '310' AS insutype, '1101' AS psn_type,
               '110101' AS insu_admdvs
        FROM range(1, {persons} + 1) t(i)""",
    "mdtrt_d": """
        SELECT printf('MD%012d', v) AS mdtrt_id, printf('%020d', 1 + v % {persons}) AS psn_no,
               printf('H%011d', 1 + v % 50) AS fixmedins_code, '11' AS med_type, '310' AS insutype,
               TIMESTAMP '2024-01-01 08:00:00' + to_minutes(v % 40000) AS begntime,
               printf('D%013d', 1 + v % 500) AS chfpdr_code, '1' AS vali_flag
        FROM range(1, {visits} + 1) t(v)""",
    "fee_list_d": """
        SELECT printf('FD%014d', i) AS feedetl_sn, printf('MD%012d', v) AS mdtrt_id,
               printf('ST%012d', v) AS setl_id, printf('%020d', 1 + v % {persons}) AS psn_no,
               printf('H%011d', 1 + v % 50) AS fixmedins_code, '11' AS med_type,
               TIMESTAMP '2024-01-01 08:00:00' + to_minutes(v % 40000) AS fee_ocur_time,
               printf('00%013d', i % 5000) AS med_list_codg, '201' AS list_type, '05' AS med_chrgitm_type,
               '01' AS chrgitm_lv, CAST(1 + i % 5 AS DECIMAL(16,4)) AS cnt,
               CAST((1 + i % 200) * 1.25 AS DECIMAL(16,6)) AS pric,
               CAST((1 + i % 5) * (1 + i % 200) * 1.25 AS DECIMAL(16,2)) AS det_item_fee_sumamt,
               'A01' AS bilg_dept_codg, printf('D%013d', 1 + v % 500) AS bilg_dr_codg, '1' AS vali_flag
        FROM (SELECT i, 1 + (i - 1) // {per} AS v FROM range(1, {lines} + 1) t(i))""",
}

_SETL = """
    SELECT setl_id, mdtrt_id, any_value(psn_no) AS psn_no, any_value(fixmedins_code) AS fixmedins_code,
           any_value(fee_ocur_time) + INTERVAL 1 HOUR AS setl_time, '11' AS med_type, '310' AS insutype,
           medfee AS medfee_sumamt, medfee AS inscp_scp_amt, fund AS hifp_pay, fund AS fund_pay_sumamt, medfee - fund AS psn_part_amt,
           CAST(0 AS DECIMAL(16,2)) AS acct_pay, medfee - fund AS psn_cash_pay, '0' AS refd_setl_flag, '1' AS vali_flag
    FROM (SELECT *, sum(det_item_fee_sumamt) OVER (PARTITION BY setl_id) AS medfee,
                 CAST(round(sum(det_item_fee_sumamt) OVER (PARTITION BY setl_id) * 0.6, 2) AS DECIMAL(16,2)) AS fund
          FROM lines)
    GROUP BY setl_id, mdtrt_id, medfee, fund"""


def write_bench_region(folder: str | Path, n_lines: int, fmt: str = "csv") -> dict[str, int]:
    """Write fixmedins, practitioner, psn_info, mdtrt_d, setl_d, fee_list_d to `folder`; returns row counts."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    visits = max(1, n_lines // LINES_PER_SETL)
    params = {"lines": n_lines, "visits": visits, "persons": max(1, visits // 5), "per": LINES_PER_SETL}
    con = duckdb.connect()
    option = "(FORMAT parquet)" if fmt == "parquet" else "(HEADER, DELIMITER ',')"
    counts = {}
    con.execute(f"CREATE TEMP TABLE lines AS {_SQL['fee_list_d'].format(**params)}")
    for name, sql in {**_SQL, "setl_d": _SETL}.items():
        rel = "lines" if name == "fee_list_d" else f"({sql.format(**params)})"
        con.execute(f"COPY (SELECT * FROM {rel}) TO '{out / f'{name}.{fmt}'}' {option}")
        counts[name] = con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
    con.close()
    return counts


def main() -> None:
    p = argparse.ArgumentParser(description="写出用于测量加载速度的有效数据 / write a valid data set for load timing")
    p.add_argument("out")
    p.add_argument("lines", type=int)
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    a = p.parse_args()
    print(write_bench_region(a.out, a.lines, a.format))


if __name__ == "__main__":
    main()
