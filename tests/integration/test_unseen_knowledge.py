"""Knowledge rows the rules have never seen (new codes, official layouts, neutral file names) are
imported and then found by screening — no code change between a new batch and its violations."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from fundguard.engine.cases import Case, fill_tables, load_case_tables
from fundguard.engine.screen import ScreenOptions, screen
from fundguard.kb.store import import_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"
T = dt.datetime(2025, 3, 10, 9, 0, 0)

MALE_ONLY_CREAM = "XT99ZZA001F001010100001"  # 测试男用乳膏, 限定性别 男
GYN_SUPPOSITORY = "ZT99ZZB0010101001"  # 测试妇科栓, 限定性别 女
DUP_MAIN, DUP_SUB = "009901000010000", "009901000020000"  # 重复收费 单日
ONCE_A_DAY = "009902000010000"  # 限定频次 1/日

RULES = ["GZ10000301004000", "GZ10000102012000", "GZ10000102014000"]


def _line(sn: str, psn: str, mdtrt: str, code: str, cnt: float = 1, pric: float = 10.0, **kw) -> dict:
    amt = round(cnt * pric, 2)
    row = {
        "feedetl_sn": sn,
        "psn_no": psn,
        "mdtrt_id": mdtrt,
        "setl_id": "S" + mdtrt,
        "med_list_codg": code,
        "cnt": cnt,
        "pric": pric,
        "det_item_fee_sumamt": amt,
        "inscp_scp_amt": amt,
        "fee_ocur_time": T,
    }
    row.update(kw)
    return row


def _item(sn: str, psn: str, mdtrt: str, code: str, cnt: float = 1) -> dict:
    return _line(sn, psn, mdtrt, code, cnt, 20.0, list_type="201", med_chrgitm_type="05")


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("unseen")
    # Neutral file names: the importer must detect the layout from sheets and headers.
    files = []
    for i, name in enumerate(
        ["unseen_liangku_drug_batch.xlsx", "unseen_liangku_item_dup_pairs.xlsx", "unseen_liangku_item_frequency.xlsx"]
    ):
        target = tmp / f"新到批次_{i}.xlsx"
        shutil.copy(FIXTURES / name, target)
        files.append(target)

    case = Case(
        name="unseen",
        kb=[],
        data={
            "psn_info": [
                {"psn_no": "PF", "gend": "2", "brdy": dt.date(1980, 1, 1)},
                {"psn_no": "PM", "gend": "1", "brdy": dt.date(1975, 6, 1)},
            ],
            "mdtrt_d": [
                {"mdtrt_id": "M1", "psn_no": "PF", "med_type": "11", "begntime": T},
                {"mdtrt_id": "M2", "psn_no": "PM", "med_type": "11", "begntime": T},
                {
                    "mdtrt_id": "M3",
                    "psn_no": "PM",
                    "med_type": "21",
                    "begntime": T,
                    "endtime": T + dt.timedelta(days=3),
                },
            ],
            "fee_list_d": [
                _line("F1", "PF", "M1", MALE_ONLY_CREAM),  # woman, male-only cream → 违规
                _line("F2", "PM", "M2", GYN_SUPPOSITORY),  # man, gynaecological suppository → 违规
                _line("F3", "PM", "M2", MALE_ONLY_CREAM),  # man, male-only cream → fine
                _item("F4", "PM", "M3", DUP_MAIN),
                _item("F5", "PM", "M3", DUP_SUB),  # 从项 billed with its 主项 the same day → 重复收费
                _item("F6", "PM", "M3", ONCE_A_DAY, cnt=3),  # 3 on one day, limit 1/日 → over by 2
            ],
        },
        params={},
        expect=[],
    )
    tables = fill_tables(case)
    warehouse = tmp / "wh.duckdb"
    con = duckdb.connect(str(warehouse))
    load_case_tables(con, tables)
    import_files(con, files)
    con.close()
    screen(warehouse, ScreenOptions(rules=RULES, full=True))
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def _found(con, rule: str) -> dict[str, float]:
    rows = con.execute("SELECT feedetl_sn, violation_amount FROM findings WHERE rule_code = ?", [rule]).fetchall()
    return {sn: float(a) for sn, a in rows}


def test_unseen_gender_points_are_screened(screened):
    assert _found(screened, "GZ10000301004000") == {"F1": 10.0, "F2": 10.0}


def test_unseen_duplicate_pair_is_screened(screened):
    assert set(_found(screened, "GZ10000102012000")) == {"F5"}


def test_unseen_frequency_limit_is_screened_and_prorated(screened):
    # 3 billed, 1 allowed: two thirds of the in-scope amount 60.00
    assert _found(screened, "GZ10000102014000") == {"F6": 40.0}


def test_evidence_names_the_unseen_source(screened):
    (evidence,) = screened.execute(
        "SELECT evidence FROM findings WHERE rule_code = 'GZ10000301004000' AND feedetl_sn = 'F1'"
    ).fetchone()
    ev = json.loads(evidence)
    source = ev["knowledge_source"]
    assert source["file"].startswith("新到批次_0.xlsx")
    assert source["limit_value"] == "男" and source["item_name"] == "测试男用乳膏"
