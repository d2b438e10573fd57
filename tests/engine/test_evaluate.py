"""evaluate on a tiny labelled region: one labelled split admission found, one unlabelled hit reported."""

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fundguard.data.scenarios import SCENARIOS_BY_ID
from fundguard.engine.evaluate import score
from fundguard.engine.screen import ScreenOptions, screen


def test_score_counts_hits_misses_and_unexpected(tiny_warehouse, exemplar_library, tmp_path):
    screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    gt = pa.table(
        {
            "scenario": ["split_admission", "drug_gender", "dup_charge"],
            "unit": ["visit", "line", "line"],
            "rule_codes": ["GZ10000204001000", "GZ10000301004000", "GZ10000102012000"],
            "mdtrt_id": ["I2", None, None],
            "feedetl_sn": [None, "NOT-THERE", None],
            "setl_id": [None, None, None],
            "psn_no": [None, None, None],
            "fixmedins_code": [None, None, None],
            "bilg_dr_codg": [None, None, None],
        }
    )
    path = tmp_path / "ground_truth.parquet"
    pq.write_table(gt, path)
    scenarios = tuple(SCENARIOS_BY_ID[s] for s in ("split_admission", "drug_gender", "dup_charge"))
    con = duckdb.connect(str(tiny_warehouse))
    scores = {s.id: s for s in score(con, path, scenarios)}
    con.close()
    split = scores["split_admission"]
    assert (split.labelled, split.hits, split.recall, split.precision, split.passed) == (1, 1, 1.0, 1.0, True)
    gender = scores["drug_gender"]
    assert gender.misses == ["NOT-THERE"] and gender.recall == 0.0
    assert [u["key"] for u in gender.unexpected_hits] == ["G1"] and gender.precision == 0.0 and gender.passed is False
    dup = scores["dup_charge"]  # label without a line key: nothing labelled, the hit on B1 is unexpected
    assert dup.labelled == 0 and dup.unexpected == 1 and dup.recall is None
