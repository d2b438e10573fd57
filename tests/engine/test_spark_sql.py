"""Translation to Spark SQL without a SparkSession: views inlined, CTEs and aliases respected."""

import sqlglot

from fundguard.engine.shared import shared_relations
from fundguard.engine.spark import inline_views, used_views
from fundguard.engine.views import Scope, view_definitions


def test_used_views_ignores_ctes_and_other_tables():
    sql = "WITH fee AS (SELECT 1 AS x) SELECT * FROM fee JOIN psn p ON TRUE JOIN kb ON TRUE JOIN other ON TRUE"
    assert used_views(sql) == {"psn", "kb"}


def test_inline_views_keeps_aliases_and_translates():
    views = {
        "fee": "SELECT feedetl_sn, CAST(fee_ocur_time AS DATE) AS fee_date FROM fee_list_d",
        "psn": "SELECT psn_no FROM psn_info",
    }
    tree = sqlglot.parse_one("SELECT fee.feedetl_sn, p.psn_no FROM fee JOIN psn p ON TRUE", read="duckdb")
    out = inline_views(tree, views).sql(dialect="spark")
    assert "FROM (SELECT feedetl_sn" in out and ") AS fee" in out and ") AS p" in out
    assert "fee_list_d" in out and "psn_info" in out


def test_view_definitions_cover_every_view_and_report_missing_tables():
    present = {"fee_list_d": {"feedetl_sn", "fee_ocur_time", "vali_flag", "inscp_scp_amt", "det_item_fee_sumamt"}}
    views, missing = view_definitions(lambda t: present.get(t), Scope(admdvs="230100"))
    names = [v for v, _ in views]
    base = ["fee", "setl", "mdtrt", "psn", "medins", "diag", "oprn", "inventory", "prac", "equip", "kb"]
    # Base views first, then the shared relations (rules/_shared) that read them, in dependency order.
    assert names[: len(base)] == base
    assert names[len(base) :] == list(shared_relations())
    assert "fee_list_d" not in missing and "inventory_d" in missing and "kb_point" in missing
    fee = dict(views)["fee"]
    assert "CAST(NULL AS VARCHAR) AS med_list_codg" in fee and "coalesce(vali_flag, '1') = '1'" in fee
    assert "admdvs = '230100'" in dict(views)["kb"]
