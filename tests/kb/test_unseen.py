"""Official layouts with rows, codes, names and file names no shipped file contains."""

from __future__ import annotations

import datetime as dt

from fundguard.kb import store
from fundguard.kb.importers import read_points

from .conftest import FIXTURES


def test_unseen_drug_batch():
    df = read_points(FIXTURES / "unseen_liangku_drug_batch.xlsx")
    got = {(r.med_list_codg, r.kp_type, r.limit_value, r.limit_num) for r in df.itertuples()}
    assert ("XT99ZZA001F001010100002", "drug_gender", "男", None) in {(a, b, c, None) for a, b, c, _ in got}
    assert len(df[df.item_name == "测试妇科栓"]) == 3
    assert set(df[df.kp_type == "drug_course"].limit_num) == {21.0, 14.0}  # "21天" and "两周"
    lv = df[df.kp_type == "drug_hosp_lv"]
    assert set(lv.limit_num) == {3.0} and set(lv.limit_value) == {"三级"}
    assert set(df[df.kp_type == "drug_age"].limit_value) == {"新生儿"}
    assert set(df[df.kp_type == "drug_insutype"].limit_value) == {"工伤"}
    assert len(df) == 12
    # the batch's own date (title row "2025年3月1日起执行") is the default begndate
    assert set(df.begndate) == {dt.date(2025, 3, 1)}


def test_unseen_items():
    pairs = read_points(FIXTURES / "unseen_liangku_item_dup_pairs.xlsx")
    assert len(pairs) == 4 and set(pairs.kp_type) == {"item_dup_pair"}
    two_h = pairs[pairs.limit_value == "2小时"].iloc[0]
    assert (two_h.med_list_codg, two_h.related_codg, two_h.limit_num) == ("009901000040000", "009901000050000", 2.0)
    freq = read_points(FIXTURES / "unseen_liangku_item_frequency.xlsx").set_index("med_list_codg")
    assert freq.loc["009902000020000", ["limit_num", "limit_unit", "window_days"]].tolist() == [24.0, "小时", 1]
    assert freq.loc["009902000030000", ["limit_num", "limit_unit"]].tolist() == [1.0, "日"]


def test_unseen_run_links_nrdl_names_through_batch_and_site_map(con):
    files = [
        FIXTURES / "unseen_nrdl_layout.xlsx",  # listed first: NRDL is still linked after the maps
        FIXTURES / "unseen_liangku_drug_batch.xlsx",
        FIXTURES / "unseen_name_code_map.csv",
    ]
    s = store.import_files(con, files, effective=dt.date(2024, 7, 1))
    layouts = {f["file"]: f["layout"] for f in s["files"]}
    assert layouts["unseen_name_code_map.csv"] == "name_code_map"
    rows = con.execute(
        "SELECT item_name, kp_type, med_list_codg, limit_value, limit_num FROM kb_point "
        "WHERE source_file = 'unseen_nrdl_layout.xlsx' ORDER BY 1, 2, 3"
    ).fetchall()
    by = {(n, t): (c, v, x) for n, t, c, v, x in rows}
    assert by[("测试住院注射液", "drug_med_type")][0] == "XT99ZZG006B002010100001"  # via the 两库 batch's Sheet2
    assert by[("测试住院注射液", "drug_course")][2] == 7.0
    kids = [r for r in rows if r[0] == "测试儿童口服液" and r[1] == "drug_age"]
    assert {r[2] for r in kids} == {"XT99ZZJ009L001010100001", "XT99ZZJ009L001010100002"}  # via the site map
    assert {r[3] for r in kids} == {"0-6"}
    assert by[("测试降糖片", "drug_indication")][0] is None  # no code anywhere: kept by name
    # protocol validity from the file wins over --effective; --effective fills the rest
    dates = dict(con.execute("SELECT source_file, min(begndate) FROM kb_point GROUP BY source_file").fetchall())
    assert dates["unseen_nrdl_layout.xlsx"] == dt.date(2025, 1, 1)
    assert dates["unseen_liangku_drug_batch.xlsx"] == dt.date(2025, 3, 1)


def test_unseen_item_age_notes():
    df = read_points(FIXTURES / "unseen_liangku_item_age_notes.xlsx").set_index("med_list_codg")
    assert set(df.kp_type) == {"item_age"}
    assert df.loc["009903000010000", "limit_value"] == "新生儿"
    assert df.loc["009903000020000", ["limit_value", "limit_num"]].tolist() == ["0-14", 14.0]
    assert df.loc["009903000030000", "limit_value"] == "60-150"


def test_map_imported_later_relinks_nrdl(con, tmp_path):
    nrdl_copy = tmp_path / "本地目录.xlsx"
    nrdl_copy.write_bytes((FIXTURES / "unseen_nrdl_layout.xlsx").read_bytes())
    store.import_files(con, [nrdl_copy], effective=dt.date(2024, 7, 1))
    q = "SELECT med_list_codg FROM kb_point WHERE item_name = '测试儿童口服液' AND kp_type = 'drug_age' ORDER BY 1"
    assert con.execute(q).fetchall() == [(None,)]
    s = store.import_files(con, [FIXTURES / "unseen_name_code_map.csv"])
    assert {f["file"]: f["relinked"] for f in s["files"]} == {"unseen_name_code_map.csv": False, "本地目录.xlsx": True}
    assert con.execute(q).fetchall() == [("XT99ZZJ009L001010100001",), ("XT99ZZJ009L001010100002",)]
    n = con.execute("SELECT count(*) FROM kb_point WHERE source_file = '本地目录.xlsx' AND med_list_codg IS NULL")
    assert n.fetchone()[0] == 6  # 测试降糖片 and 测试住院注射液 (its batch is not imported here) have no code
    # the re-link keeps the effective date the file was first imported with
    eff = con.execute("SELECT effective FROM kb_imports WHERE source_file = '本地目录.xlsx' ORDER BY imported_at")
    assert [e for (e,) in eff.fetchall()] == [dt.date(2024, 7, 1)] * 2
