"""NRDL 2024: drug rows per sheet counted against the 甲/乙 cells; 备注 parsing; linking names to codes."""

from __future__ import annotations

import csv
from importlib import resources

import openpyxl
import pytest

from fundguard.kb import remarks
from fundguard.kb.importers import read_file, read_points

from .conftest import FIXTURES, NRDL, REF


@pytest.fixture(scope="module")
def nrdl():
    return read_points(NRDL)


def _grade_cells(sheet: str) -> int:
    wb = openpyxl.load_workbook(NRDL, read_only=True)
    n = sum(1 for r in wb[sheet].iter_rows(values_only=True) for v in r if v in ("甲", "乙"))
    wb.close()
    return n


@pytest.mark.parametrize("sheet", ["西药部分", "中成药部分", "协议西药", "协议中成药", "竞价药品部分"])
def test_every_drug_row_has_a_class_point(nrdl, sheet):
    cls = nrdl[(nrdl.kp_type == "drug_class") & (nrdl.source.str.endswith(sheet))]
    rows = cls[["source_row"]].drop_duplicates()
    assert len(rows) == _grade_cells(sheet)
    assert set(cls.limit_value) <= {"甲", "乙"}
    assert cls.group_name.notna().all()


def test_class_and_grade(nrdl):
    row = nrdl[(nrdl.kp_type == "drug_class") & (nrdl.item_name == "复方硼砂")].iloc[0]
    assert row.limit_value == "甲" and row.group_name == "XA01 口腔科制剂"
    kmz = nrdl[(nrdl.item_name == "克霉唑") & (nrdl.kp_type == "drug_class")]
    assert set(kmz[kmz.group_name == "XA01 口腔科制剂"].limit_value) == {"乙"}
    assert len(kmz) > 1 and kmz.description.str.contains("剂型：").all()  # one point per 剂型 listing


def test_protocol_dates(nrdl):
    row = nrdl[(nrdl.item_name == "注射用艾普拉唑钠") & (nrdl.kp_type == "drug_class")].iloc[0]
    assert str(row.begndate) == "2024-01-01" and str(row.enddate) == "2025-12-31"
    assert "63.00元" in row.description


def test_remark_points(nrdl):
    def kinds(name):
        return set(nrdl[nrdl.item_name == name].kp_type)

    assert {"drug_hosp_lv"} <= kinds("参附注射液")
    assert (nrdl[(nrdl.item_name == "参附注射液") & (nrdl.kp_type == "drug_hosp_lv")].limit_num == 2).all()
    course = nrdl[(nrdl.item_name == "丁苯酞软胶囊") & (nrdl.kp_type == "drug_course")]
    assert set(course.limit_num) == {20.0}
    age = nrdl[(nrdl.item_name == "波生坦分散片") & (nrdl.kp_type == "drug_age")]
    assert set(age.limit_value) == {"3-12"}
    assert set(nrdl[(nrdl.item_name == "芪骨胶囊") & (nrdl.kp_type == "drug_gender")].limit_value) == {"女"}
    assert set(nrdl[nrdl.kp_type == "drug_insutype"].limit_value) == {"工伤", "生育"}
    assert len(nrdl[nrdl.kp_type == "drug_second_line"]) > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("限工伤保险。", {("drug_insutype", "工伤")}),
        ("限子宫肌瘤患者或生育保险。", {("drug_indication", None)}),  # an alternative, not an insurance limit
        ("限手术患者或产后出血患者。", {("drug_indication", None)}),  # no gender: surgery patients of any sex
        ("限急诊或住院患者。", {("drug_indication", None)}),  # no care-setting limit: 急诊 also allowed
        (
            "限：1.HER2阳性的早期乳腺癌患者的辅助治疗，支付不超过12个月；2.HER2阳性的转移性乳腺癌。",
            {("drug_indication", "C50")},
        ),  # the course binds only alternative 1
        (
            "限缺血性心脑血管疾病急性期住院患者；限耳部血流及神经障碍患者。支付不超过14天。",
            {("drug_course", None), ("drug_indication", None)},
        ),
        ("限二级及以上医疗机构。", {("drug_hosp_lv", "二级")}),
        ("限2型糖尿病患者。", {("drug_indication", "E11")}),
    ],
)
def test_remark_alternatives(text, expected):
    got = {(p["kp_type"], p.get("limit_value") or p.get("related_codg")) for p in remarks.parse(text)}
    assert got == expected


def test_indication_table_prefixes_exist_in_icd10():
    codes = [
        ln.split()[0]
        for ln in (REF / "chs-drg-1.1/ICD/ZD_INFO.dat").read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    text = resources.files("fundguard.kb").joinpath("data/indication_icd10.csv").read_text(encoding="utf-8")
    rows = [r for r in csv.DictReader(text.splitlines()) if not r["keyword"].startswith("#")]
    assert len(rows) > 50
    for r in rows:
        for p in r["icd10_prefixes"].split("|"):
            assert any(c.startswith(p) for c in codes), (r["keyword"], p)


def test_names_link_to_codes_through_liangku(nrdl):
    linked = nrdl[(nrdl.kp_type == "drug_class") & nrdl.med_list_codg.notna()]
    assert "丁苯酞软胶囊" in set(linked.item_name)
    # western drugs listed by generic name + 剂型 link to 两库 product names (葛根素 + 注射剂 → 葛根素注射液)
    assert "葛根素" in set(linked.item_name)
    unlinked = nrdl[(nrdl.kp_type == "drug_class") & nrdl.med_list_codg.isna()]
    n_linked = len(linked[["source", "source_row"]].drop_duplicates())
    n_unlinked = len(unlinked[["source", "source_row"]].drop_duplicates())
    assert 150 < n_linked < n_unlinked and unlinked.item_name.notna().all()


def test_site_name_map_links():
    r = read_file(FIXTURES / "unseen_nrdl_layout.xlsx", name_codes={"测试降糖片": ["XA99ZZK010A001010100001"]})
    row = r.points[(r.points.item_name == "测试降糖片") & (r.points.kp_type == "drug_class")]
    assert list(row.med_list_codg) == ["XA99ZZK010A001010100001"]
    assert r.points[r.points.item_name == "测试儿童口服液"].med_list_codg.isna().all()
