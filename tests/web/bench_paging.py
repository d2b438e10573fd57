"""Measure findings paging on a generated findings table: python tests/web/bench_paging.py N [path.duckdb].

Not a test (not collected); numbers go to docs/web.md.
"""

import os
import sys
import time

import duckdb

from fundguard.data.schema import ALL_TABLES
from fundguard.web.data import Data, FindingFilter
from fundguard.web.scope import Scope

path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/fg_bench.duckdb"
N = int(sys.argv[1])

if not os.path.exists(path):
    con = duckdb.connect(path)
    con.execute(ALL_TABLES["findings"].ddl())
    con.execute(f"""INSERT INTO findings (finding_id, run_id, rule_code, rule_name, result_type, object_type, setl_id, feedetl_sn,
        psn_no, fixmedins_code, bilg_dr_codg, admdvs, occur_time, violation_amount, message, library_version, detected_at)
        SELECT 'F' || i, 'R1', 'GZ' || (i % 40), '规则' || (i % 40), CASE WHEN i % 3 = 0 THEN '可疑' ELSE '明确违规' END, 'line',
          'S' || (i // 5), 'L' || i, 'P' || (i % 200000), 'H2301' || lpad(CAST(i % 500 AS VARCHAR), 7, '0'),
          'D' || (i % 5000), CASE WHEN i % 2 = 0 THEN '230100' ELSE '230200' END,
          TIMESTAMP '2024-01-01' + INTERVAL (i % 730) DAY, CAST((i % 10000) / 7.0 AS DECIMAL(16,2)), '描述', 'v', now()
        FROM range({N}) t(i)""")
    con.close()


def t(label, fn, reps=3):
    best = 1e9
    for _ in range(reps):
        s = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - s)
    print(f"{label}: {best * 1000:.0f} ms")


with Data(path, Scope(("230100",))) as d:
    t("page 1, no filter, sort occur_time desc", lambda: d.findings_page(FindingFilter(), "occur_time", True, 1, 20))
    t("page 5000, sort violation_amount", lambda: d.findings_page(FindingFilter(), "violation_amount", True, 5000, 20))
    t(
        "rule + period + amount filter",
        lambda: d.findings_page(
            FindingFilter(rule_code="GZ4", period_from="2024-03", period_to="2024-09", amount_min=100.0),
            "occur_time",
            True,
            1,
            20,
        ),
    )
    ids = [f"F{i}" for i in range(0, 200000, 2)]
    t(
        "status 待初审 with 100k reviewed ids",
        lambda: d.findings_page(FindingFilter(status="待初审", reviewed_ids=ids), "occur_time", True, 1, 20),
    )
with Data(path, Scope(None, "H230100000004")) as d:
    t("institution user page 1", lambda: d.findings_page(FindingFilter(), "occur_time", True, 1, 20))

from fundguard.web.dashboard_data import DashFilter, findings_by, totals  # noqa: E402

with Data(path, Scope(("230100",))) as d:
    for dim in ("rule", "institution", "doctor", "month"):
        t(f"dashboard findings by {dim}", lambda dim=dim: findings_by(d, DashFilter(), dim))
    t("dashboard totals", lambda: totals(d, DashFilter()))
