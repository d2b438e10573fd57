"""Web fixtures: a small warehouse (two regions, three institutions, findings), a fresh store, users per role."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from fundguard.config import Settings
from fundguard.data.schema import ALL_TABLES
from fundguard.kb.types import KB_POINT_COLUMNS
from fundguard.store.db import Store
from fundguard.store.users import create_user
from fundguard.web.app import create_app

RULES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "web" / "rules"
PASSWORD = "Test-Passw0rd!"
RULE = "GZ10000101007000"

# username → (role, admdvs scope, fixmedins_code)
USERS = {
    "auditor1": ("auditor", "230100", None),
    "auditor2": ("auditor", "230100", None),
    "reviewer1": ("reviewer", "230100", None),
    "chief1": ("chief", "230100,230200", None),
    "chief2": ("chief", "230100", None),
    "analyst1": ("analyst", "*", None),
    "inst1": ("institution", "", "H23010000001"),
    "admin2": ("admin", "*", None),
}

INSTITUTIONS = [
    ("H23010000001", "哈尔滨市第一医院", "1", "02", "230100"),
    ("H23010000002", "哈尔滨市道里区社区卫生服务中心", "1", "08", "230100"),
    ("H23020000001", "齐齐哈尔市中心医院", "1", "02", "230200"),
]
PERSONS = [
    ("P001", "张三丰", "230102198001011234", "13812345678", "1", "1980-01-01"),
    ("P002", "李小红", "230103201501012345", "13987654321", "2", "2015-01-01"),
    ("P003", "王大明", "230202197505053456", "13700001111", "1", "1975-05-05"),
]
# finding_id, fixmedins, psn, setl, feedetl, month, amount, result_type, admdvs
FINDINGS = [
    ("F001", "H23010000001", "P001", "S001", "L002", "2025-01", 120.50, "明确违规", "230100"),
    ("F002", "H23010000001", "P002", "S002", "L004", "2025-02", 80.00, "可疑", "230100"),
    ("F003", "H23010000002", "P001", "S003", "L005", "2025-02", 300.00, "明确违规", "230100"),
    ("F004", "H23020000001", "P003", "S004", "L007", "2025-03", 999.99, "明确违规", "230200"),
    ("F005", "H23010000001", "P001", "S001", "L001", "2025-01", 15.00, "可疑", "230100"),
]


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def build_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    for t in ("fixmedins", "psn_info", "mdtrt_d", "setl_d", "fee_list_d", "findings"):
        con.execute(ALL_TABLES[t].ddl())
    con.execute("CREATE TABLE kb_point (" + ", ".join(f"{k} {v}" for k, v in KB_POINT_COLUMNS.items()) + ")")
    _insert(
        con,
        "kb_point",
        {
            "kp_id": "KP001",
            "kp_type": "drug_age",
            "med_list_codg": "XA01AAA0001010100001",
            "item_name": "小儿氨酚黄那敏颗粒",
            "limit_value": "儿童",
            "source": "两库第一批",
            "batch": "第一批",
            "begndate": "2020-01-01",
        },
    )
    for code, name, ftype, lv, adm in INSTITUTIONS:
        _insert(
            con,
            "fixmedins",
            {"fixmedins_code": code, "fixmedins_name": name, "fixmedins_type": ftype, "hosp_lv": lv, "admdvs": adm},
        )
    for psn, name, certno, tel, gend, brdy in PERSONS:
        _insert(
            con,
            "psn_info",
            {
                "psn_no": psn,
                "psn_name": name,
                "certno": certno,
                "tel": tel,
                "gend": gend,
                "brdy": brdy,
                "insutype": "310",
                "psn_type": "11",
                "insu_admdvs": "230100",
            },
        )
    setls = {
        "S001": ("P001", "H23010000001", "2025-01-10"),
        "S002": ("P002", "H23010000001", "2025-02-11"),
        "S003": ("P001", "H23010000002", "2025-02-20"),
        "S004": ("P003", "H23020000001", "2025-03-05"),
    }
    for sid, (psn, inst, day) in setls.items():
        mid = "M" + sid[1:]
        _insert(
            con,
            "mdtrt_d",
            {
                "mdtrt_id": mid,
                "psn_no": psn,
                "fixmedins_code": inst,
                "med_type": "11",
                "begntime": f"{day} 09:00:00",
                "dscg_maindiag_code": "J06.900",
                "dscg_maindiag_name": "急性上呼吸道感染",
                "vali_flag": "1",
            },
        )
        _insert(
            con,
            "setl_d",
            {
                "setl_id": sid,
                "mdtrt_id": mid,
                "psn_no": psn,
                "fixmedins_code": inst,
                "setl_time": f"{day} 10:00:00",
                "med_type": "11",
                "insutype": "310",
                "medfee_sumamt": 500,
                "inscp_scp_amt": 450,
                "hifp_pay": 300,
                "fund_pay_sumamt": 300,
                "acct_pay": 100,
                "psn_cash_pay": 100,
                "refd_setl_flag": "0",
                "vali_flag": "1",
            },
        )
    lines = {
        "L001": "S001",
        "L002": "S001",
        "L003": "S001",
        "L004": "S002",
        "L005": "S003",
        "L006": "S004",
        "L007": "S004",
    }
    for sn, sid in lines.items():
        psn, inst, day = setls[sid]
        _insert(
            con,
            "fee_list_d",
            {
                "feedetl_sn": sn,
                "mdtrt_id": "M" + sid[1:],
                "setl_id": sid,
                "psn_no": psn,
                "fixmedins_code": inst,
                "fee_ocur_time": f"{day} 09:30:00",
                "med_list_codg": "XA01AAA0001010100001",
                "hilist_name": f"药品{sn}",
                "list_type": "101",
                "med_chrgitm_type": "09",
                "chrgitm_lv": "01",
                "cnt": 1,
                "pric": 100,
                "det_item_fee_sumamt": 100,
                "bilg_dept_codg": "A01",
                "bilg_dr_codg": "D230100000001",
                "vali_flag": "1",
            },
        )
    for fid, inst, psn, sid, sn, ym, amt, rtype, adm in FINDINGS:
        _insert(
            con,
            "findings",
            {
                "finding_id": fid,
                "run_id": "R1",
                "rule_code": RULE,
                "rule_name": "药品限儿童使用",
                "result_type": rtype,
                "severity": "中",
                "object_type": "line",
                "setl_id": sid,
                "mdtrt_id": "M" + sid[1:],
                "feedetl_sn": sn,
                "psn_no": psn,
                "fixmedins_code": inst,
                "bilg_dr_codg": "D230100000001",
                "admdvs": adm,
                "med_list_codg": "XA01AAA0001010100001",
                "occur_time": f"{ym}-15 09:30:00",
                "violation_amount": amt,
                "message": "成人使用限儿童药品",
                "evidence": json.dumps(
                    {
                        "rule_code": RULE,
                        "params": {"child_max_age": 18},
                        "legal_basis": ["《条例》"],
                        "kp_id": "KP001",
                        "detail": "限定对象=儿童；年龄=45",
                        "knowledge_source": {"source": "两库第一批", "file": "batch1.xlsx", "row": 3},
                    },
                    ensure_ascii=False,
                ),
                "legal_basis": "《医疗保障基金使用监督管理条例》第三十八条",
                "stage": "事后",
                "library_version": "0.1.0+test",
                "detected_at": "2025-04-01 00:00:00",
            },
        )
    con.close()
    return path


@pytest.fixture(autouse=True, scope="session")
def _fast_argon2():
    """Cheaper argon2 parameters for the test run only (each hash records its own parameters, so verification
    is unchanged); production keeps argon2-cffi's defaults."""
    from argon2 import PasswordHasher

    from fundguard.store import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def store_template(tmp_path_factory) -> Path:
    """A migrated store with the users, built once (argon2 hashing is deliberately slow) and copied per test."""
    path = tmp_path_factory.mktemp("store") / "template.sqlite"
    s = Store(f"sqlite:///{path}")
    with s.session() as ss:
        for name, (role, scope, inst) in USERS.items():
            create_user(
                ss, name, PASSWORD, role, display_name=name, admdvs_scope=scope, fixmedins_code=inst, must_change=False
            )
    s.dispose()
    return path


@pytest.fixture
def store(tmp_path, store_template) -> Store:
    path = tmp_path / "store.sqlite"
    shutil.copy(store_template, path)
    s = Store(f"sqlite:///{path}", auto_migrate=False)  # the template is migrated already
    yield s
    s.dispose()


@pytest.fixture
def app(store, warehouse_path):
    settings = Settings(warehouse=str(warehouse_path), store_url=store.url, session_timeout_minutes=30)
    return create_app(settings, rules_dir=RULES_DIR, store=store)


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "page has no CSRF meta tag"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in; return the session's CSRF token."""
    client.get("/login")
    pre = client.cookies.get("fg_pre")
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": pre, "next": "/"})
    assert r.status_code == 303, r.text
    home = client.get("/password")
    return csrf_of(home.text)


@pytest.fixture
def as_user(client):
    def _as(username: str) -> str:
        client.cookies.clear()
        return login(client, username)

    return _as
