"""Pruning's visit facts ('v' rows of PASS_KEYS_SQL) cover every 医疗类别 a rule may read: the visit's, and the
ones its own lines and settlements carry (rules read those first: decision 0019), so a rule limited to
outpatient visits still runs for an outpatient line of a visit recorded as inpatient."""

from __future__ import annotations

import duckdb

from fundguard.engine.cases import load_case_tables
from fundguard.engine.duck import create_views
from fundguard.engine.views import Scope
from fundguard.realtime.context import PASS_KEYS_SQL, RuleContext


def _facts(tables: dict[str, list[dict]]) -> list[set[str]]:
    con = duckdb.connect()
    load_case_tables(con, tables)
    create_views(con, Scope(None, None, None))
    con.execute("CREATE TABLE _claims AS SELECT DISTINCT mdtrt_id FROM mdtrt_d")
    rows = con.execute(PASS_KEYS_SQL).fetchall()
    return [{r[1], *(r[2] or "").split()} for r in rows if r[0] == "v"]


def test_facts_of_a_visit_and_of_its_lines_own_med_type():
    facts = _facts(
        {
            "mdtrt_d": [{"mdtrt_id": "M1", "psn_no": "P1", "med_type": "21"}],
            "fee_list_d": [
                {"feedetl_sn": "F1", "mdtrt_id": "M1", "med_type": "11", "med_list_codg": "X1"},
                {"feedetl_sn": "F2", "mdtrt_id": "M1", "med_list_codg": "X2"},  # none of its own: the visit's
            ],
            "setl_d": [{"setl_id": "S1", "mdtrt_id": "M1", "med_type": "14"}],
        }
    )
    assert {"inpatient", "med_type=21"} in facts
    assert {"outpatient", "med_type=11"} in facts
    assert {"outpatient", "med_type=14"} in facts
    assert len(facts) == 3


def test_a_rule_limited_to_outpatient_visits_is_kept_for_an_outpatient_line():
    facts = _facts(
        {
            "mdtrt_d": [{"mdtrt_id": "M1", "psn_no": "P1", "med_type": "21"}],
            "fee_list_d": [{"feedetl_sn": "F1", "mdtrt_id": "M1", "med_type": "11", "med_list_codg": "X1"}],
        }
    )

    class _Rule:
        requires_visit = ("outpatient",)
        requires_med_type = ("11",)

    assert any(RuleContext._visit_ok(_Rule, f) for f in facts)
    assert not RuleContext._visit_ok(_Rule, {"inpatient", "med_type=21"})
