"""Turn a rule's output rows into findings rows (schema.FINDINGS), in SQL, for DuckDB or Spark.

The finding id is md5 over the rule code and the object keys, so a rerun produces the same ids
(upsert). Evidence is JSON built in SQL: a static part (rule, parameter values, legal basis,
library version) rendered once in Python, and per-row parts (knowledge point, facts, source).
"""

from __future__ import annotations

import json
from typing import Any

from fundguard.data.schema import FINDINGS
from fundguard.engine.library import Rule
from fundguard.engine.params import jsonable

FINDING_COLUMNS: tuple[str, ...] = tuple(FINDINGS.column_names)
KEY_COLUMNS = (
    "feedetl_sn",
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "fixmedins_code",
    "bilg_dr_codg",
    "med_list_codg",
    "kp_id",
)


def sql_string(text: str, spark: bool = False) -> str:
    """A string literal; Spark SQL treats backslash as an escape character, DuckDB does not."""
    if spark:
        text = text.replace("\\", "\\\\")
    return "'" + text.replace("'", "''") + "'"


def static_evidence(rule: Rule, bound: dict[str, Any], library_version: str) -> str:
    """The evidence fields shared by every finding of a rule in one run, as a JSON object text."""
    return json.dumps(
        {
            "rule_code": rule.code,
            "rule_name": rule.name,
            "params": {k: jsonable(v) for k, v in sorted(bound.items())},
            "legal_basis": list(rule.legal_basis),
            "knowledge_types": list(rule.knowledge),
            "library_version": library_version,
        },
        ensure_ascii=False,
        sort_keys=False,
    )


def findings_sql(
    rule: Rule,
    query: str,
    bound: dict[str, Any],
    run_id: str,
    library_version: str,
    detected_at: str,
    dialect: str,
    kb_view: str = "kb",
    medins_view: str = "medins",
) -> str:
    """A SELECT yielding exactly the FINDINGS columns from the (already parameter-bound) rule query."""
    spark = dialect == "spark"
    if spark:
        ts = "date_format(r.occur_time, 'yyyyMMddHHmmss')"
        dyn = (
            "to_json(named_struct('kp_id', r.kp_id, 'detail', r.detail, 'knowledge_source', "
            "IF(k.kp_id IS NULL, NULL, named_struct('source', k.source, 'file', k.source_file, "
            "'row', k.source_row, 'batch', k.batch, 'item_name', k.item_name, 'limit_value', k.limit_value))))"
        )
    else:
        ts = "strftime(r.occur_time, '%Y%m%d%H%M%S')"
        dyn = (
            "CAST(json_object('kp_id', r.kp_id, 'detail', r.detail, 'knowledge_source', "
            "CASE WHEN k.kp_id IS NULL THEN NULL ELSE json_object('source', k.source, 'file', k.source_file, "
            "'row', k.source_row, 'batch', k.batch, 'item_name', k.item_name, 'limit_value', k.limit_value) END) AS VARCHAR)"
        )

    def _q(text: str) -> str:
        return sql_string(text, spark)

    static = static_evidence(rule, bound, library_version)
    vc = "STRING" if spark else "VARCHAR"
    evidence = f"concat({_q(static[:-1] + ',')}, substr({dyn}, 2))"
    keys = ", ".join(f"coalesce(CAST(r.{c} AS {vc}), '')" for c in KEY_COLUMNS)
    finding_id = f"md5(concat_ws('|', {_q(rule.code)}, {keys}, coalesce({ts}, '')))"
    legal = "；".join(rule.legal_basis)
    body = f"""
SELECT
  {finding_id} AS finding_id,
  {_q(run_id)} AS run_id,
  {_q(rule.code)} AS rule_code,
  {_q(rule.name)} AS rule_name,
  {_q(rule.result_type)} AS result_type,
  {_q(rule.severity)} AS severity,
  CAST(NULL AS {vc}) AS level,
  {_q(rule.object_type)} AS object_type,
  CAST(r.setl_id AS {vc}) AS setl_id,
  CAST(r.mdtrt_id AS {vc}) AS mdtrt_id,
  CAST(r.feedetl_sn AS {vc}) AS feedetl_sn,
  CAST(r.psn_no AS {vc}) AS psn_no,
  CAST(r.fixmedins_code AS {vc}) AS fixmedins_code,
  CAST(r.bilg_dr_codg AS {vc}) AS bilg_dr_codg,
  m.admdvs AS admdvs,
  CAST(r.med_list_codg AS {vc}) AS med_list_codg,
  CAST(r.occur_time AS TIMESTAMP) AS occur_time,
  CAST(coalesce(r.violation_amount, 0) AS DECIMAL(16,2)) AS violation_amount,
  CAST(r.message AS {vc}) AS message,
  {evidence} AS evidence,
  {_q(legal)} AS legal_basis,
  {_q(rule.stage)} AS stage,
  {_q(library_version)} AS library_version,
  TIMESTAMP '{detected_at}' AS detected_at
FROM ({query}) r
LEFT JOIN (SELECT fixmedins_code, min(admdvs) AS admdvs FROM {medins_view} GROUP BY fixmedins_code) m
  ON CAST(r.fixmedins_code AS {vc}) = m.fixmedins_code
LEFT JOIN (
  SELECT kp_id, min(source) AS source, min(source_file) AS source_file, min(source_row) AS source_row,
         min(batch) AS batch, min(item_name) AS item_name, min(limit_value) AS limit_value
  FROM {kb_view} GROUP BY kp_id
) k ON CAST(r.kp_id AS {vc}) = k.kp_id"""
    cols = ", ".join(FINDING_COLUMNS)
    # Two output rows with the same keys are one finding: keep the larger amount (deterministically).
    return f"""SELECT {cols} FROM (
  SELECT f.*, row_number() OVER (PARTITION BY finding_id ORDER BY violation_amount DESC, message, evidence) AS _rn
  FROM ({body}) f
) d WHERE _rn = 1"""
