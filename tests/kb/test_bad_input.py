"""Bad files: a bilingual report naming file[sheet], row, field and reason; kb_point left unchanged."""

from __future__ import annotations

import pytest
import xlsxwriter

from fundguard.errors import ValidationFailed
from fundguard.kb import store
from fundguard.kb.importers import read_points

from .conftest import FIXTURES


def _drug_batch(path, sheet1, sheet2):
    wb = xlsxwriter.Workbook(path)
    s1 = wb.add_worksheet("Sheet1")
    for i, r in enumerate([["药品通用名", "药品说明", "限定类型", "限定值域"], *sheet1]):
        s1.write_row(i, 0, r)
    s2 = wb.add_worksheet("Sheet2")
    for i, r in enumerate([["药品通用名", "序号", "国标代码", "限定类型"], *sheet2]):
        s2.write_row(i, 0, r)
    wb.close()
    return path


def _problems(path):
    with pytest.raises(ValidationFailed) as e:
        read_points(path)
    return e.value


def test_orphan_code_row_is_reported(tmp_path):
    f = _drug_batch(
        tmp_path / "b.xlsx",
        [["甲药", "", "限定支付疗程", "14天"]],
        [["甲药", 1, "X001", "限定支付疗程"], ["乙药", 1, "X002", "限定支付疗程"]],
    )
    e = _problems(f)
    (p,) = e.problems
    assert (p.file, p.row, p.field, p.value) == ("b.xlsx[Sheet2]", 2, "药品通用名", "乙药")
    assert "Sheet1" in p.reason_zh and "restriction sheet" in p.reason_en
    assert "b.xlsx" in e.zh and "nothing imported" in e.en


def test_unparseable_limit_and_empty_code(tmp_path):
    f = _drug_batch(
        tmp_path / "c.xlsx",
        [["甲药", "", "限定支付疗程", "若干"], ["乙药", "", "限定机构等级", "二级"]],
        [["甲药", 1, "X001", ""], ["乙药", 1, None, ""]],
    )
    probs = {(p.file, p.row, p.field): p for p in _problems(f).problems}
    assert ("c.xlsx[Sheet1]", 1, "限定值域") in probs
    assert probs[("c.xlsx[Sheet1]", 1, "限定值域")].value == "若干"
    assert ("c.xlsx[Sheet2]", 2, "国标代码") in probs
    # the name whose restriction failed is an orphan too: reported, not silently dropped
    assert ("c.xlsx[Sheet2]", 1, "药品通用名") in probs


def test_unknown_layout(tmp_path):
    wb = xlsxwriter.Workbook(tmp_path / "x.xlsx")
    wb.add_worksheet("data").write_row(0, 0, ["姓名", "电话"])
    wb.get_worksheet_by_name("data").write_row(1, 0, ["张三", "123"])
    wb.close()
    (p,) = _problems(tmp_path / "x.xlsx").problems
    assert p.file == "x.xlsx" and "版式" in p.reason_zh and "layout" in p.reason_en and "姓名" in p.value


def test_missing_column_in_item_sheet(tmp_path):
    wb = xlsxwriter.Workbook(tmp_path / "m.xlsx")
    ws = wb.add_worksheet("“医疗服务项目限定频次”规则对应知识点明细")
    ws.write_row(0, 0, ["序号", "项目名称", "限制数量", "项目编码"])
    ws.write_row(1, 0, [1, "某项目", 1, "001"])
    wb.close()
    (p,) = _problems(tmp_path / "m.xlsx").problems
    assert (p.field, p.row) == ("数量单位", None) and "缺少" in p.reason_zh


def test_generic_csv_problems(tmp_path):
    f = tmp_path / "local.csv"
    f.write_text(
        "kp_type,med_list_codg,limit_num,begndate\nitem_price_cap,001,abc,2024-01-01\n"
        "no_such_type,002,1,2024-01-01\nitem_price_cap,,1,2024-01-01\nitem_price_cap,003,5,2024/13/01\n",
        encoding="utf-8",
    )
    probs = {(p.row, p.field) for p in _problems(f).problems}
    assert probs == {(1, "limit_num"), (2, "kp_type"), (3, "med_list_codg"), (4, "begndate")}
    g = tmp_path / "cols.csv"
    g.write_text("kp_type,kp_id,foo\nitem_price_cap,1,2\n", encoding="utf-8")
    fields = {p.field for p in _problems(g).problems}
    assert fields == {"kp_id", "foo", "med_list_codg"}


def test_failed_import_leaves_kb_unchanged(con, tmp_path):
    good = FIXTURES / "unseen_liangku_item_dup_pairs.xlsx"
    store.import_files(con, [good])
    before = con.execute("SELECT * FROM kb_point ORDER BY kp_id").fetchall()
    imports = con.execute("SELECT count(*) FROM kb_imports").fetchone()
    bad = _drug_batch(tmp_path / "bad.xlsx", [["甲药", "", "限定支付疗程", "14天"]], [["丙药", 1, "X9", ""]])
    # same good file again (would replace its points) plus a bad one: nothing at all may change
    with pytest.raises(ValidationFailed) as e:
        store.import_files(con, [FIXTURES / "unseen_liangku_item_frequency.xlsx", good, bad])
    assert "未作任何修改" in e.value.zh and "unchanged" in e.value.en
    assert con.execute("SELECT * FROM kb_point ORDER BY kp_id").fetchall() == before
    assert con.execute("SELECT count(*) FROM kb_imports").fetchone() == imports
