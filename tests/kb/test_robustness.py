"""Real users' files: codes Excel turned into numbers, other value wordings, legacy .xls."""

from __future__ import annotations

import pytest
import xlsxwriter

from fundguard.errors import ValidationFailed
from fundguard.kb.importers import read_points


def test_numeric_item_codes_and_course_values(tmp_path):
    f = tmp_path / "省级补充批次.xlsx"
    wb = xlsxwriter.Workbook(f)
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, ["项目名称", "项目说明", "国标代码", "限定类型", "限定值域"])
    ws.write_row(1, 0, ["某康复训练", "", 3402000230000, "限定支付疗程", "30天"])  # stored as a number
    ws.write_row(2, 0, ["某评定", "", "003402000050100", "限定支付疗程", "支付不超过90天，评定间隔不短于两周"])
    ws.write_row(3, 0, ["某手术", "", "003310010160100", "限定主次操作", "新手术组"])
    wb.close()
    df = read_points(f).set_index("med_list_codg")
    assert df.loc["003402000230000", ["kp_type", "limit_num"]].tolist() == ["item_course", 30.0]
    assert df.loc["003402000050100", ["limit_num", "window_days"]].tolist() == [90.0, 14]
    assert df.loc["003310010160100", ["kp_type", "group_name"]].tolist() == ["surgery_group", "新手术组"]


def test_legacy_xls_is_rejected_with_advice(tmp_path):
    f = tmp_path / "batch.xls"
    f.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValidationFailed) as e:
        read_points(f)
    assert ".xlsx" in e.value.problems[0].reason_zh and ".xlsx" in e.value.problems[0].reason_en


def test_one_sheet_drug_batch_with_codes(tmp_path):
    f = tmp_path / "drugs.xlsx"
    wb = xlsxwriter.Workbook(f)
    ws = wb.add_worksheet("药品限定性别")
    ws.write_row(0, 0, ["药品通用名", "国标代码", "限定类型", "限定对象"])
    ws.write_row(1, 0, ["某女用片", "XG99ZZZ001A001010100001", "限定性别对象", "女性"])
    ws.write_row(2, 0, ["某女用片", "XG99ZZZ001A001010100002", "限定性别对象", "女性"])
    ws.write_row(3, 0, ["某未编码药", None, "限定性别对象", "男"])
    wb.close()
    df = read_points(f)
    assert sorted(df.med_list_codg.dropna()) == ["XG99ZZZ001A001010100001", "XG99ZZZ001A001010100002"]
    assert set(df.limit_value) == {"女", "男"}
    # no code anywhere: kept by name (a site's name→code map links it), not dropped
    assert df[df.med_list_codg.isna()].item_name.tolist() == ["某未编码药"]


def test_two_cell_title_row_is_not_taken_for_the_header(tmp_path):
    f = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(f)
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, ["某省医疗服务项目限定性别知识点", "2025年版"])
    ws.write_row(1, 0, ["项目名称", "项目说明", "国标代码", "限定类型", "限定性别"])
    ws.write_row(2, 0, ["某妇科检查", "", "009904000010000", "限定性别对象", "女"])
    wb.close()
    df = read_points(f)
    assert df[["kp_type", "med_list_codg", "limit_value", "source_row"]].values.tolist() == [
        ["item_gender", "009904000010000", "女", 1]
    ]


def test_gbk_code_list(tmp_path):
    f = tmp_path / "icd10_local.dat"
    f.write_bytes("A00.000 霍乱\nA01.000 伤寒\n".encode("gbk"))
    df = read_points(f)
    assert set(df.kp_type) == {"icd10"} and df.item_name.tolist() == ["霍乱", "伤寒"]
