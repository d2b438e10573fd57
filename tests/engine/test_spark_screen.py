import shutil

import duckdb
import pytest

from fundguard.engine.screen import ScreenOptions, screen


def _rows(path):
    con = duckdb.connect(str(path))
    try:
        return con.execute(
            "SELECT finding_id, rule_code, feedetl_sn, mdtrt_id, fixmedins_code, admdvs, occur_time, violation_amount "
            "FROM findings ORDER BY finding_id"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.spark
def test_spark_engine_writes_the_same_findings(spark, tiny_warehouse, exemplar_library, tmp_path):
    twin = tmp_path / "twin.duckdb"
    shutil.copy(tiny_warehouse, twin)
    screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    result = screen(twin, ScreenOptions(engine="spark", spark_master="local[2]"), library=exemplar_library)
    assert {s.mode for s in result.stats} == {"full"}
    assert _rows(twin) == _rows(tiny_warehouse) and len(_rows(twin)) == 4
    # 药品限性别 reads the shared relation kb_billed: written once by Spark, not inlined into the rule
    assert set(result.shared_seconds) == {"kb_billed"}
