"""Golden cases of every rule folder: on DuckDB against the expectations, on Spark against DuckDB, and
(事中/事前 rules, run on SQLite in real time) on SQLite against the expectations and DuckDB.

Rule authors: `.venv/bin/pytest tests/rules/test_golden.py -k <code> -q` (add `-m "not spark"` to
skip Spark while iterating).
"""

from __future__ import annotations

import pytest

from fundguard.engine.cases import comparable, load_cases, match_expectations, run_case, run_case_duckdb
from fundguard.engine.library import load_rule, rule_folders
from fundguard.errors import FundguardError

FOLDERS = rule_folders()


def _load(folder):
    try:
        rule = load_rule(folder)
        return rule, load_cases(rule)
    except FundguardError as e:
        report = e.report(limit=100)
    pytest.fail(report, pytrace=False)


def test_library_is_not_empty():
    assert FOLDERS, "src/fundguard/rules/ holds no rule folders"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_golden_duckdb(folder):
    rule, cases = _load(folder)
    failures = []
    for case in cases:
        try:
            rows, findings = run_case(rule, case, with_findings=True)
            problems = match_expectations(case.expect, rows)
            ids = [f["finding_id"] for f in findings]
            if len(set(ids)) != len(rows):
                problems.append(
                    f"同一对象输出了多行（疑点ID重复）/ duplicate object keys: {len(rows)} rows, {len(set(ids))} findings"
                )
        except FundguardError as e:
            problems = [e.report()]
        if problems:
            failures.append(f"[{case.name}]\n  " + "\n  ".join(problems))
    assert not failures, f"{rule.code} {rule.name}:\n" + "\n".join(failures)


@pytest.mark.spark
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_golden_spark_matches_duckdb(folder, spark, tmp_path):
    from fundguard.engine.spark_cases import run_cases_spark

    rule, cases = _load(folder)
    on_spark = run_cases_spark(spark, rule, cases, workdir=tmp_path)
    failures = []
    for i, case in enumerate(cases, start=1):
        duck = comparable(run_case_duckdb(rule, case))
        sprk = comparable(on_spark[i])
        if duck != sprk:
            failures.append(f"[{case.name}]\n  DuckDB: {duck}\n  Spark:  {sprk}")
    assert not failures, f"{rule.code} {rule.name}: Spark 与 DuckDB 结果不一致 / engines differ:\n" + "\n".join(
        failures
    )


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_golden_sqlite_matches_duckdb(folder):
    from fundguard.engine.sqlite_cases import run_case_sqlite, runs_on_sqlite

    rule, cases = _load(folder)
    if not runs_on_sqlite(rule):
        pytest.skip(f"{rule.code} 仅事后审核，不在 SQLite 上运行 / batch-only rule, not run on SQLite")
    failures = []
    for case in cases:
        lite = run_case_sqlite(rule, case)
        problems = match_expectations(case.expect, lite)
        duck, sq = comparable(run_case_duckdb(rule, case)), comparable(lite)
        if duck != sq:
            problems.append(f"DuckDB: {duck}\n  SQLite: {sq}")
        if problems:
            failures.append(f"[{case.name}]\n  " + "\n  ".join(problems))
    assert not failures, f"{rule.code} {rule.name}: SQLite 与期望或 DuckDB 不一致 / SQLite differs:\n" + "\n".join(
        failures
    )
