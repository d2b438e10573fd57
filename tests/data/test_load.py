"""fundguard.data.load: valid loads, idempotence, monthly increments, and one rejected file of each kind."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from fundguard.data import schema
from fundguard.data.load import LoadValidationFailed, ensure_tables, load_dir, table_checksums

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "load" / "region"
MONTH1, MONTH2 = FIXTURES / "month1", FIXTURES / "month2"


def copy_month(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def drop_column(path: Path, column: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = [k for k in rows[0] if k != column]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def checksums(db: Path) -> dict:
    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        return table_checksums(con)
    finally:
        con.close()


def count(db: Path, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def month1_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("wh") / "base.duckdb"
    load_dir(MONTH1, db)
    return db


@pytest.fixture
def db(month1_db: Path, tmp_path: Path) -> Path:
    """A warehouse already holding month 1 (a copy per test)."""
    path = tmp_path / "wh.duckdb"
    shutil.copy(month1_db, path)
    return path


def test_valid_load_fills_every_table_with_national_names(tmp_path: Path):
    db = tmp_path / "wh.duckdb"
    r = load_dir(MONTH1, db)
    assert r.row_counts == {
        "psn_info": 3,
        "fixmedins": 2,
        "practitioner": 3,
        "mdtrt_d": 3,
        "diag_d": 3,
        "setl_d": 3,
        "fee_list_d": 6,
    }
    assert r.inserted == r.row_counts and set(r.replaced.values()) == {0}
    assert any("ground_truth.csv" in line for line in r.infos)
    con = duckdb.connect(str(db), read_only=True)
    # Types come from the schema; the extra column `memo` is kept as text.
    cols = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='fee_list_d'"
        ).fetchall()
    )
    assert cols["det_item_fee_sumamt"] == "DECIMAL(16,2)" and cols["fee_ocur_time"] == "TIMESTAMP"
    assert cols["memo"] == "VARCHAR" and r.extra_columns == {"fee_list_d": ["memo"]}
    assert con.execute("SELECT memo FROM fee_list_d WHERE feedetl_sn = 'FD202401000002'").fetchone() == ("门诊处方",)
    # chrgitm_lv alias '2' is stored as the canonical '02'.
    assert con.execute("SELECT chrgitm_lv FROM fee_list_d WHERE feedetl_sn = 'FD202401000002'").fetchone() == ("02",)
    run = con.execute("SELECT run_id, input_checksum, row_counts FROM load_runs").fetchall()
    assert len(run) == 1 and run[0][0] == r.run_id and len(run[0][1]) == 64
    # Every schema table exists, empty where no file was given.
    assert con.execute("SELECT count(*) FROM oprn_d").fetchone() == (0,)
    con.close()


def test_loading_twice_keeps_one_copy(db: Path):
    before = checksums(db)
    r = load_dir(MONTH1, db)
    after = checksums(db)
    assert set(r.inserted.values()) == {0} and r.replaced["fee_list_d"] == 6
    assert {k: v for k, v in after.items() if k != "load_runs"} == {k: v for k, v in before.items() if k != "load_runs"}
    assert after["load_runs"][0] == 2


def test_later_month_loads_incrementally(db: Path):
    r = load_dir(MONTH2, db)  # fee_list_d is Parquet here; persons and institutions come from the warehouse
    assert r.files["fee_list_d"] == "fee_list_d.parquet"
    assert r.inserted == {"mdtrt_d": 1, "setl_d": 1, "fee_list_d": 2}
    assert r.replaced == {"mdtrt_d": 1, "setl_d": 0, "fee_list_d": 0}
    assert count(db, "fee_list_d") == 8 and count(db, "setl_d") == 4 and count(db, "mdtrt_d") == 4
    assert count(db, "psn_info") == 3


def test_same_input_gives_same_checksum(tmp_path: Path):
    a = load_dir(MONTH1, tmp_path / "a.duckdb")
    b = load_dir(copy_month(MONTH1, tmp_path / "copy"), tmp_path / "b.duckdb")
    assert a.input_checksum == b.input_checksum


def test_unknown_files_warn_and_known_non_claims_are_skipped(tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    (data / "README.txt").write_text("notes", encoding="utf-8")
    (data / "kb").mkdir()
    (data / "kb" / "kb_point.csv").write_text("x\n1\n", encoding="utf-8")
    r = load_dir(data, tmp_path / "wh.duckdb")
    assert any("README.txt" in w for w in r.warnings)
    assert any("kb/" in i for i in r.infos) and any("ground_truth" in i for i in r.infos)


def test_upper_case_headers_and_xlsx_reference_table(tmp_path: Path):
    import pandas as pd

    data = copy_month(MONTH1, tmp_path / "d")
    frame = pd.read_csv(data / "fixmedins.csv", dtype=str)
    frame.columns = [c.upper() for c in frame.columns]
    frame.to_excel(data / "fixmedins.xlsx", index=False)
    (data / "fixmedins.csv").unlink()
    r = load_dir(data, tmp_path / "wh.duckdb")
    assert r.files["fixmedins"] == "fixmedins.xlsx" and r.row_counts["fixmedins"] == 2
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    assert con.execute("SELECT hosp_lv, open_date FROM fixmedins ORDER BY 1").fetchall()[0][0] == "02"
    con.close()


def test_ensure_tables_creates_every_schema_table_empty():
    con = duckdb.connect()
    ensure_tables(con)
    ensure_tables(con)  # idempotent
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(schema.ALL_TABLES) | {"load_runs"} <= names
    assert con.execute("SELECT count(*) FROM fee_list_d").fetchone() == (0,)


def test_accepts_an_open_connection(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("SET enable_progress_bar = true")
    r = load_dir(MONTH1, con)
    # The caller's settings survive (the load silences DuckDB's own progress bar only while it runs).
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (True,)
    assert con.execute("SELECT count(*) FROM setl_d").fetchone() == (3,) and r.warehouse == "(connection)"
    # No temporary tables are left behind in the caller's connection.
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)
    con.close()


# (name, mutate(folder), file, row, field, Chinese reason fragment, English reason fragment, check)
BAD = [
    (
        "missing_required_column",
        lambda d: drop_column(d / "psn_info.csv", "gend"),
        "psn_info.csv", None, "gend", "缺少必填列", "required column", "header",
    ),
    (
        "required_field_empty",
        lambda d: replace_in(d / "mdtrt_d.csv", "MD202401002,11000020100030000001,H11010100001,21", "MD202401002,11000020100030000001,,21"),
        "mdtrt_d.csv", 2, "fixmedins_code", "必填字段为空", "required field is empty", "required",
    ),
    (
        "bad_type",
        lambda d: replace_in(d / "fee_list_d.csv", ",2,15.50,31.00,", ",two,15.50,31.00,"),
        "fee_list_d.csv", 2, "cnt", "无法识别为数量", "not a quantity", "type",
    ),
    (
        "fractional_integer",
        lambda d: replace_in(d / "diag_d.csv", "MD202401002,2,", "MD202401002,2.5,"),
        "diag_d.csv", 3, "diag_srt_no", "无法识别为整数", "not an integer", "type",
    ),
    (
        "bad_date",
        lambda d: replace_in(d / "psn_info.csv", "1960-04-12", "1960-13-12"),
        "psn_info.csv", 1, "brdy", "无法识别为日期", "not a date", "type",
    ),
    (
        "bad_code",
        lambda d: replace_in(d / "psn_info.csv", "王五,1,", "王五,7,"),
        "psn_info.csv", 3, "gend", "代码值不在代码表「性别」", "not a code of table gend", "code",
    ),
    (
        "bad_pattern",
        lambda d: replace_in(d / "fixmedins.csv", "P11010100002,示例大药房", "P1101010002,示例大药房"),
        "fixmedins.csv", 2, "fixmedins_code", "格式不符", "does not match the pattern", "pattern",
    ),
    (
        "duplicate_key",
        lambda d: replace_in(d / "fee_list_d.csv", "FD202401000002,", "FD202401000001,"),
        "fee_list_d.csv", 2, "feedetl_sn", "主键 feedetl_sn 重复（与第1行相同）", "duplicate primary key", "primary_key",
    ),
    (
        "duplicate_composite_key",
        lambda d: replace_in(d / "diag_d.csv", "MD202401002,2,", "MD202401002,1,"),
        "diag_d.csv", 3, "mdtrt_id+diag_srt_no", "主键 mdtrt_id+diag_srt_no 重复（与第2行相同）", "duplicate primary key", "primary_key",
    ),
    (
        "dangling_reference",
        lambda d: replace_in(d / "mdtrt_d.csv", "MD202401001,11000020100030000002", "MD202401001,11000020100030000099"),
        "mdtrt_d.csv", 1, "psn_no", "引用的 psn_info.psn_no 不存在", "references psn_info.psn_no", "reference",
    ),
    (
        "broken_setl_identity",
        lambda d: replace_in(d / "setl_d.csv", "20.40,10.00,10.40", "20.40,10.00,10.50"),
        "setl_d.csv", 1, "psn_part_amt", "个人负担总金额 ≠ 个人账户支出 + 个人现金支出", "psn_part_amt ≠ acct_pay", "amount_identity",
    ),
    (
        "broken_fund_sum",
        lambda d: replace_in(d / "setl_d.csv", "250.00,20.00,270.00,113.33", "250.00,25.00,270.00,113.33"),
        "setl_d.csv", 2, "fund_pay_sumamt", "基金支付总额 ≠ 各项基金支出之和", "fund_pay_sumamt ≠ sum", "amount_identity",
    ),
    (
        "broken_line_identity",
        lambda d: replace_in(d / "fee_list_d.csv", ",3,50.00,150.00,", ",3,50.00,160.00,"),
        "fee_list_d.csv", 3, "det_item_fee_sumamt", "明细项目费用总额 ≠ 数量 × 单价", "det_item_fee_sumamt ≠ cnt × pric", "amount_identity",
    ),
    (
        "setl_lines_mismatch",
        lambda d: replace_in(d / "fee_list_d.csv", ",1,88.00,88.00,88.00,", ",2,88.00,176.00,176.00,"),
        "setl_d.csv", 3, "medfee_sumamt", "医疗费总额与其 1 条有效费用明细之和不一致", "sum of its 1 valid fee lines", "setl_lines",
    ),
]  # fmt: skip


# A duplicated line (the warehouse still holds the line it displaced) or a wrong line total also unbalance the settlement.
ALSO = {"duplicate_key": {"setl_lines": 1}, "broken_line_identity": {"setl_lines": 1}}


@pytest.mark.parametrize("name,mutate,file,row,field,zh,en,check", BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_rejected_and_changes_nothing(db, tmp_path, name, mutate, file, row, field, zh, en, check):
    data = copy_month(MONTH1, tmp_path / "bad")
    mutate(data)
    before = checksums(db)
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, db)
    err = info.value
    assert err.counts == {check: 1, **ALSO.get(name, {})}, err.report()
    p = next(p for p in err.problems if (p.file, p.row, p.field) == (file, row, field))
    assert (p.file, p.row, p.field) == (file, row, field)
    assert zh in p.zh() and en in p.en()
    assert checksums(db) == before


def test_missing_required_file_on_first_load_creates_nothing(tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    (data / "setl_d.csv").unlink()
    db = tmp_path / "new.duckdb"
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, db)
    assert [p.file for p in info.value.problems] == ["setl_d.csv"]
    assert "缺少必需的表 setl_d" in info.value.problems[0].zh()
    assert not db.exists()  # the warehouse file this load would have created is not left behind


def test_reference_to_warehouse_rows_is_checked_on_monthly_load(db: Path, tmp_path: Path):
    data = copy_month(MONTH2, tmp_path / "m2")
    replace_in(data / "setl_d.csv", "ST202402001,MD202402001,", "ST202402001,MD202402999,")
    before = checksums(db)
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, db)
    assert [(p.file, p.row, p.field, p.value) for p in info.value.problems] == [
        ("setl_d.csv", 1, "mdtrt_id", "MD202402999")
    ]
    assert checksums(db) == before


def test_lines_already_in_warehouse_count_for_a_reloaded_settlement(db: Path, tmp_path: Path):
    # Re-sending settlement ST202401003 with a different total, without its lines: the lines in the warehouse disagree.
    data = tmp_path / "fix"
    data.mkdir()
    text = (MONTH1 / "setl_d.csv").read_text(encoding="utf-8").splitlines()
    row = text[3].replace(",88.00,88.00,0.00,,0.00,88.00,88.00,0.00,", ",90.00,90.00,0.00,,0.00,90.00,90.00,0.00,")
    (data / "setl_d.csv").write_text("\n".join([text[0], row]) + "\n", encoding="utf-8")
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, db)
    assert info.value.counts == {"setl_lines": 1}
    assert info.value.problems[0].value == "90.00 ≠ 88.00"


def test_many_problems_are_capped_per_check_but_counted(db: Path, tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    for g in ("张三,1,", "李四,2,", "王五,1,"):
        replace_in(data / "psn_info.csv", g, g[:-2] + "8,")
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, db, max_per_check=2)
    assert info.value.total == 3 and info.value.counts == {"code": 3}
    assert [p.row for p in info.value.problems] == [1, 2]


def test_failure_while_writing_rolls_everything_back(db: Path, monkeypatch):
    from fundguard.data.load import write as write_mod

    def boom(*a, **k):
        raise RuntimeError("disk full")

    before = checksums(db)
    # Tables are already deleted/inserted when the load_runs row is serialised: the transaction must undo them.
    monkeypatch.setattr(write_mod.json, "dumps", boom)
    with pytest.raises(RuntimeError):
        load_dir(MONTH2, db)
    monkeypatch.undo()
    assert checksums(db) == before


def test_gbk_csv_and_header_only_file_load(tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    p = data / "practitioner.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("gbk"))
    (data / "oprn_d.csv").write_text("mdtrt_id,oprn_srt_no,oprn_oprt_code,oprn_oprt_date\n", encoding="utf-8")
    r = load_dir(data, tmp_path / "wh.duckdb")
    assert any("practitioner.csv" in i and "GB18030" in i for i in r.infos)
    assert r.row_counts["oprn_d"] == 0
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    assert con.execute("SELECT prac_name FROM practitioner WHERE prac_code = 'D110101000001'").fetchone() == ("赵医生",)
    con.close()


def test_ragged_csv_lines_are_reported_by_row(tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    with (data / "diag_d.csv").open("a", encoding="utf-8") as f:
        f.write("MD202401003,1,1,J06.900,急性上呼吸道感染,1,2024-01-20 15:30:00,extra\nMD202401003,2\n")
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, tmp_path / "wh.duckdb")
    assert info.value.counts == {"csv_format": 2}
    assert [(p.file, p.row) for p in info.value.problems] == [("diag_d.csv", 4), ("diag_d.csv", 5)]
    assert "列数多于表头" in info.value.problems[0].zh() and "fewer columns" in info.value.problems[1].en()


def test_unreadable_file_is_reported_not_raised(tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    (data / "diag_d.csv").unlink()
    (data / "diag_d.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, tmp_path / "wh.duckdb")
    assert [(p.file, p.row) for p in info.value.problems] == [("diag_d.parquet", None)]
    assert "文件无法读取" in info.value.problems[0].zh()


def test_trailing_delimiter_column_is_ignored_but_unnamed_data_is_not(tmp_path: Path):
    data = copy_month(MONTH1, tmp_path / "d")
    p = data / "fixmedins.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    p.write_text("\n".join(line + "," for line in lines) + "\n", encoding="utf-8")
    r = load_dir(data, tmp_path / "wh.duckdb")
    assert "fixmedins" not in r.extra_columns and any("无列名" in i for i in r.infos)

    p.write_text("\n".join([lines[0] + ",", lines[1] + ",", lines[2] + ",surprise"]) + "\n", encoding="utf-8")
    with pytest.raises(LoadValidationFailed) as info:
        load_dir(data, tmp_path / "wh2.duckdb")
    assert "没有列名，但有数据" in info.value.problems[0].zh()


def test_warehouse_held_by_another_process_is_a_clear_error(db: Path):
    import subprocess
    import sys

    from fundguard.errors import FundguardError

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(FundguardError) as info:
            load_dir(MONTH2, db)
        assert "无法打开数据仓库" in info.value.zh
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert db.exists()  # an existing warehouse is never removed
