"""Every shipped 两库 batch: detected from its content, kp_type and row counts checked against the sheets."""

from __future__ import annotations

import openpyxl
import pytest

from fundguard.kb.importers import read_file, read_points
from fundguard.kb.types import KB_POINT_COLUMNS

from .conftest import LIANGKU

# file-name keyword → (expected kp_type, sheet holding one point per data row, its code column keyword, rows)
EXPECTED = {
    "药品规则库(限定年龄对象)": ("drug_age", "Sheet2", "代码", 2741),
    "药品规则库(限定性别对象)": ("drug_gender", "Sheet2", "代码", 3949),
    "项目规则库(限定年龄对象)": ("item_age", "Sheet1", "国标代码", 18),
    "项目规则库(限定性别对象)": ("item_gender", "Sheet1", "国标代码", 271),
    "重复收费": ("item_dup_pair", None, "主项编码", 619),
    "限定保险类型": ("drug_insutype", "Sheet2", "代码", 90),
    "限定主次操作": ("surgery_group", "Sheet1", "国标代码", 256),
    "限定机构等级": ("drug_hosp_lv", "Sheet2", "代码", 749),
    "限定频次": ("item_frequency", None, "项目编码", 51),
    "项目规则库（限定年龄）": ("item_age", None, "项目代码", 0),
    "限定疗程": ("item_course", None, "项目代码", 3),
    "限定周期": ("item_cycle", None, "项目代码", 7),
    "限定支付疗程": ("drug_course", "Sheet2", "代码", 922),
    "限定就医方式": ("drug_med_type", "Sheet2", "代码", 419),
}


def _expected(path):
    for key, exp in EXPECTED.items():
        if key in path.name:
            return exp
    raise AssertionError(f"no expectation for {path.name}")


def _coded_rows(path, sheet, code_kw) -> int:
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    col = next(i for i, h in enumerate(rows[0]) if h and code_kw in str(h))
    n = sum(1 for r in rows[1:] if r[col] not in (None, ""))
    wb.close()
    return n


FILES = sorted(LIANGKU.glob("*.xlsx"))


def test_all_batches_present():
    assert len(FILES) == 14


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_batch(path):
    kp_type, sheet, code_kw, rows = _expected(path)
    df = read_points(path)
    assert list(df.columns) == list(KB_POINT_COLUMNS)
    assert len(df) == rows == _coded_rows(path, sheet, code_kw)
    if rows:
        assert set(df.kp_type) == {kp_type}
        assert df.med_list_codg.notna().all()
        assert df.kp_id.is_unique
        assert (df.source_file == path.name).all()
        assert df.source_row.min() >= 1


def test_layout_not_from_file_name(tmp_path):
    src = next(f for f in FILES if "限定性别对象" in f.name and "药品" in f.name)
    renamed = tmp_path / "batch_2031_upload.xlsx"
    renamed.write_bytes(src.read_bytes())
    a, b = read_points(src), read_points(renamed)
    assert len(a) == len(b) and set(b.kp_type) == {"drug_gender"}
    assert sorted(a.med_list_codg) == sorted(b.med_list_codg)


def test_drug_restriction_joined_by_name():
    df = read_points(next(f for f in FILES if "限定支付疗程" in f.name))
    row = df[df.item_name == "丁苯酞软胶囊"]
    assert len(row) > 0 and set(row.limit_num) == {20.0} and set(row.limit_unit) == {"天"}
    assert row.description.iloc[0].startswith("限新发的急性缺血性脑卒中")
    assert set(df[df.item_name == "帕妥珠单抗注射液"].limit_num) == {365.0}


def test_values_normalised():
    gender = read_points(next(f for f in FILES if "项目规则库(限定性别对象)" in f.name))
    assert set(gender.limit_value) == {"男", "女"}
    lv = read_points(next(f for f in FILES if "限定机构等级" in f.name))
    assert set(zip(lv.limit_value, lv.limit_num, strict=True)) == {("二级", 2.0), ("三级", 3.0)}
    age = read_points(next(f for f in FILES if "项目规则库(限定年龄对象)" in f.name))
    assert set(age.limit_value) == {"儿童", "新生儿", "婴幼儿"}
    groups = read_points(next(f for f in FILES if "限定主次操作" in f.name))
    assert "胃肠手术组" in set(groups.group_name) and groups.group_name.notna().all()


def test_item_course_and_cycle():
    course = read_points(next(f for f in FILES if "限定疗程" in f.name)).set_index("med_list_codg")
    assert (course.loc["003402000050100", ["limit_num", "window_days"]].tolist()) == [90.0, 14]
    assert course.loc["003402000230000", "limit_num"] == 30.0
    assert pd_na(course.loc["003402000230000", "window_days"])
    assert (course.loc["003402000350000", ["limit_num", "window_days"]].tolist()) == [365.0, 7]
    cycle = read_points(next(f for f in FILES if "限定周期" in f.name)).set_index("med_list_codg")
    assert cycle.loc["002503020030100", ["limit_num", "window_days"]].tolist() == [1.0, 15]


def test_pairs_and_frequency():
    pairs = read_points(next(f for f in FILES if "重复收费" in f.name))
    first = pairs[(pairs.med_list_codg == "001103000010000") & (pairs.related_codg == "001102000030000")].iloc[0]
    assert (first.limit_value, first.window_days) == ("单日", 1)
    assert set(pairs.limit_value) == {"单日", "同一小时", "单次就诊", "6小时"}
    six = pairs[pairs.limit_value == "6小时"].iloc[0]
    assert (six.limit_num, six.limit_unit) == (6.0, "小时")
    freq = read_points(next(f for f in FILES if "限定频次" in f.name)).set_index("med_list_codg")
    assert freq.loc["001102000050000", ["limit_num", "limit_unit", "window_days"]].tolist() == [1.0, "日", 1]
    assert freq.loc["003107010220000", ["limit_num", "limit_unit"]].tolist() == [24.0, "小时"]


def test_name_codes_offered():
    r = read_file(next(f for f in FILES if "限定就医方式" in f.name))
    assert len(r.name_codes) == 419


def pd_na(v) -> bool:
    import pandas as pd

    return bool(pd.isna(v))
