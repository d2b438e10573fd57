"""A tiny warehouse (built through the golden-case filler) turned into a history store, and an app."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fundguard.engine.cases import Case, fill_tables, load_case_tables
from fundguard.realtime.api import AuditService, create_audit_router
from fundguard.realtime.auditor import Auditor
from fundguard.realtime.calllog import CallLog
from fundguard.realtime.history import build_from_warehouse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "realtime"
GENDER, ELDERLY, COURSE = "GZ10000301004000", "GZ10000301009000", "GZ10000101010000"
FEMALE_DRUG = "ZD03AAA0043010100166"
DIAZEPAM = "XN05BAD056A001010100215"
COURSE_DRUG = "XB01AXA223B002010100156"


def tiny_case() -> Case:
    return Case(
        name="history",
        kb=[
            {"kp_id": "KPG", "kp_type": "drug_gender", "med_list_codg": FEMALE_DRUG, "limit_value": "女"},
            {
                "kp_id": "KPE",
                "kp_type": "drug_elderly_caution",
                "code_prefix": "XN05BA",
                "item_name": "苯二氮䓬类",
                "limit_num": 65,
                "description": "老年人跌倒风险",
            },
            {
                "kp_id": "KPC",
                "kp_type": "drug_course",
                "med_list_codg": COURSE_DRUG,
                "item_name": "测试药品",
                "limit_value": "3天",
                "limit_num": 3,
                "limit_unit": "天",
            },
        ],
        data={
            "psn_info": [
                {"psn_no": "P1", "gend": "1", "brdy": "1950-05-01"},  # has three days of the course drug
                {"psn_no": "P3", "gend": "1", "brdy": "1950-05-01"},  # same person, no history
            ],
            "fixmedins": [{"fixmedins_code": "H00000000001", "admdvs": "110000"}],
            "mdtrt_d": [{"mdtrt_id": f"M{d}", "psn_no": "P1", "begntime": f"2025-03-0{d} 09:00:00"} for d in (1, 2, 3)],
            "fee_list_d": [
                {
                    "feedetl_sn": f"H{d}",
                    "mdtrt_id": f"M{d}",
                    "setl_id": f"S{d}",
                    "list_type": "101",
                    "med_list_codg": COURSE_DRUG,
                    "fee_ocur_time": f"2025-03-0{d} 09:10:00",
                    "cnt": 1,
                    "pric": 50,
                    "inscp_scp_amt": 50,
                }
                for d in (1, 2, 3)
            ],
            "setl_d": [
                {"setl_id": f"S{d}", "mdtrt_id": f"M{d}", "psn_no": "P1", "setl_time": f"2025-03-0{d} 10:00:00"}
                for d in (1, 2, 3)
            ],
        },
        params={},
        expect=[],
    )


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("rt")
    wh = tmp / "wh.duckdb"
    con = duckdb.connect(str(wh))
    try:
        load_case_tables(con, fill_tables(tiny_case()))
    finally:
        con.close()
    store = tmp / "history.duckdb"
    build_from_warehouse(wh, store)
    return store


@pytest.fixture(scope="session")
def auditor(tiny_store):
    a = Auditor(tiny_store, rule_codes=[GENDER, ELDERLY, COURSE])
    yield a
    a.close()


@pytest.fixture
def message() -> dict:
    return json.loads((FIXTURES / "settlement_2207.json").read_text(encoding="utf-8"))


@pytest.fixture
def client(auditor, tmp_path):
    log = CallLog(tmp_path / "calls.sqlite")
    app = FastAPI()
    app.include_router(create_audit_router(service=AuditService(auditor=auditor, calllog=log, token="")))
    with TestClient(app) as c:
        c.calllog = log
        yield c
    log.close()


@pytest.fixture(scope="session")
def region(tmp_path_factory):
    """A 600-person synthetic region screened in batch with the 事中 rules, and its history store (slow tests)."""
    from fundguard.data.synth import generate
    from fundguard.engine.evaluate import load_region
    from fundguard.engine.library import load_library
    from fundguard.engine.screen import ScreenOptions, screen

    tmp = tmp_path_factory.mktemp("rt-region")
    generate(tmp / "region", persons=600, seed=11, months=3)
    wh = tmp / "wh.duckdb"
    con = duckdb.connect(str(wh))
    try:
        load_region(tmp / "region", con)
    finally:
        con.close()
    lib = load_library()
    codes = [r.code for r in lib.rules.values() if "事中" in r.stages]
    screen(wh, ScreenOptions(rules=codes, full=True), library=lib)
    store = tmp / "history.duckdb"
    build_from_warehouse(wh, store)
    return tmp, wh, store, codes
