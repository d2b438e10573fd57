"""A tiny warehouse with one violation for each exemplar rule, built through the golden-case filler."""

from __future__ import annotations

import duckdb
import pytest

from fundguard.engine.cases import Case, fill_tables, load_case_tables

EXEMPLARS = ["GZ10000301004000", "GZ10000102012000", "GZ10000204001000", "ZB10000205001000"]


def tiny_tables() -> dict:
    case = Case(
        name="tiny",
        kb=[
            {"kp_id": "KPG", "kp_type": "drug_gender", "med_list_codg": "ZD03AAA0043010100166", "limit_value": "女"},
            {
                "kp_id": "KPD",
                "kp_type": "item_dup_pair",
                "med_list_codg": "001103000010000",
                "related_codg": "001102000030000",
                "limit_value": "单日",
            },
        ],
        data={
            "psn_info": [{"psn_no": "P1", "gend": "1"}, {"psn_no": "P2", "gend": "2"}],
            "fixmedins": [
                {"fixmedins_code": "H00000000001", "admdvs": "230100"},
                {"fixmedins_code": "H00000000002", "admdvs": "230100", "hosp_lv": "05"},
            ],
            "mdtrt_d": [
                {
                    "mdtrt_id": "I1",
                    "psn_no": "P2",
                    "med_type": "21",
                    "begntime": "2025-03-01 08:00:00",
                    "endtime": "2025-03-05 10:00:00",
                    "dscg_maindiag_code": "J18.900",
                },
                {
                    "mdtrt_id": "I2",
                    "psn_no": "P2",
                    "med_type": "21",
                    "begntime": "2025-03-10 08:00:00",
                    "endtime": "2025-03-12 10:00:00",
                    "dscg_maindiag_code": "J18.100",
                },
                {"mdtrt_id": "O1", "psn_no": "P1", "fixmedins_code": "H00000000002", "begntime": "2025-03-03 09:00:00"},
                {"mdtrt_id": "O2", "psn_no": "P1", "fixmedins_code": "H00000000002", "begntime": "2025-03-04 09:00:00"},
            ],
            "setl_d": [{"setl_id": "SI2", "mdtrt_id": "I2", "fund_pay_sumamt": 900, "hifp_pay": 900}],
            "fee_list_d": [
                {
                    "feedetl_sn": "G1",
                    "mdtrt_id": "O1",
                    "med_list_codg": "ZD03AAA0043010100166",
                    "pric": 30,
                    "fee_ocur_time": "2025-03-03 09:10:00",
                },
                {
                    "feedetl_sn": "A1",
                    "mdtrt_id": "O2",
                    "med_list_codg": "001103000010000",
                    "list_type": "201",
                    "pric": 50,
                    "fee_ocur_time": "2025-03-04 09:10:00",
                },
                {
                    "feedetl_sn": "B1",
                    "mdtrt_id": "O2",
                    "med_list_codg": "001102000030000",
                    "list_type": "201",
                    "pric": 12,
                    "fee_ocur_time": "2025-03-04 09:20:00",
                },
                {
                    "feedetl_sn": "X1",
                    "mdtrt_id": "I1",
                    "list_type": "101",
                    "pric": 8000,
                    "fee_ocur_time": "2025-03-02 09:00:00",
                },
                {
                    "feedetl_sn": "X2",
                    "mdtrt_id": "I2",
                    "setl_id": "SI2",
                    "list_type": "201",
                    "pric": 2000,
                    "fee_ocur_time": "2025-03-11 09:00:00",
                },
            ],
        },
        params={},
        expect=[],
    )
    return fill_tables(case)


def build_warehouse(path, tables: dict) -> None:
    con = duckdb.connect(str(path))
    try:
        load_case_tables(con, tables)
    finally:
        con.close()


@pytest.fixture
def tiny_warehouse(tmp_path):
    path = tmp_path / "wh.duckdb"
    build_warehouse(path, tiny_tables())
    return path


@pytest.fixture
def exemplar_library(tmp_path):
    """The four exemplar rules in their own root, so the library version is stable within a test."""
    import shutil

    from fundguard.engine.library import RULES_DIR, load_library

    root = tmp_path / "rules"
    for folder in RULES_DIR.iterdir():
        if folder.name.split("_")[0] in EXEMPLARS:
            shutil.copytree(folder, root / folder.name)
    return load_library(root)
