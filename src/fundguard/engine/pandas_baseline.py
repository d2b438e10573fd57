"""A straightforward pandas implementation of three rules, the yardstick `fundguard bench` compares with.

Written the way an analyst would in a notebook (merges and groupbys over whole frames); it must
find exactly what the SQL rules find on the same data (bench checks the counts).
"""

from __future__ import annotations

import time

import duckdb
import pandas as pd

FEE_COLS = [
    "feedetl_sn",
    "init_feedetl_sn",
    "mdtrt_id",
    "psn_no",
    "fixmedins_code",
    "med_list_codg",
    "fee_ocur_time",
    "inscp_scp_amt",
    "det_item_fee_sumamt",
    "vali_flag",
]


def load_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Only the columns the three rules need, valid rows, as pandas frames."""
    cols = ", ".join(FEE_COLS)
    return {
        "fee": con.execute(f"SELECT {cols} FROM fee_list_d WHERE coalesce(vali_flag, '1') = '1'").df(),
        "psn": con.execute("SELECT psn_no, gend FROM psn_info").df(),
        "mdtrt": con.execute(
            "SELECT mdtrt_id, psn_no, fixmedins_code, med_type, begntime, endtime, dscg_maindiag_code FROM mdtrt_d "
            "WHERE coalesce(vali_flag, '1') = '1'"
        ).df(),
        "diag": con.execute("SELECT mdtrt_id, diag_code, maindiag_flag FROM diag_d").df(),
        "kb": con.execute("SELECT kp_id, kp_type, med_list_codg, related_codg, limit_value FROM kb_point").df(),
    }


def _net_lines(fee: pd.DataFrame) -> pd.DataFrame:
    fee = fee.copy()
    fee["amt"] = fee["inscp_scp_amt"].fillna(fee["det_item_fee_sumamt"]).astype(float)
    refunds = fee[fee["init_feedetl_sn"].notna()].groupby("init_feedetl_sn")["amt"].sum()
    lines = fee[fee["init_feedetl_sn"].isna()].copy()
    lines["net_amt"] = lines["amt"] + lines["feedetl_sn"].map(refunds).fillna(0.0)
    lines["fee_date"] = pd.to_datetime(lines["fee_ocur_time"]).dt.date
    return lines


def drug_gender(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    lines = _net_lines(f["fee"])
    kb = f["kb"][(f["kb"]["kp_type"] == "drug_gender") & f["kb"]["limit_value"].isin(["男", "女"])]
    m = lines[lines["amt"] > 0].merge(f["psn"], on="psn_no").merge(kb, on="med_list_codg")
    m["psn_gender"] = m["gend"].map({"1": "男", "2": "女"})
    m = m[m["psn_gender"].notna() & (m["psn_gender"] != m["limit_value"]) & (m["net_amt"] > 0)]
    return m.sort_values("kp_id").drop_duplicates("feedetl_sn")


def dup_charge(f: dict[str, pd.DataFrame]) -> pd.DataFrame:
    lines = _net_lines(f["fee"])
    kb = f["kb"][(f["kb"]["kp_type"] == "item_dup_pair") & f["kb"]["related_codg"].notna()].copy()
    kb["window_word"] = kb["limit_value"].fillna("同时")
    kb = kb[kb["med_list_codg"] != kb["related_codg"]]
    pos = lines[lines["net_amt"] > 0]
    subs = pos.merge(
        kb.rename(columns={"med_list_codg": "main_codg"}), left_on="med_list_codg", right_on="related_codg"
    )
    day = subs[subs["window_word"] == "单日"].merge(
        pos[["psn_no", "fixmedins_code", "fee_date", "med_list_codg"]].drop_duplicates(),
        left_on=["psn_no", "fixmedins_code", "fee_date", "main_codg"],
        right_on=["psn_no", "fixmedins_code", "fee_date", "med_list_codg"],
        suffixes=("", "_main"),
    )
    visit = subs[subs["window_word"] != "单日"].merge(
        pos[["mdtrt_id", "med_list_codg"]].drop_duplicates(),
        left_on=["mdtrt_id", "main_codg"],
        right_on=["mdtrt_id", "med_list_codg"],
        suffixes=("", "_main"),
    )
    hits = pd.concat([day, visit])
    return hits.sort_values("kp_id").drop_duplicates("feedetl_sn")


INPATIENT = {"21", "22", "23", "24", "25", "26", "28", "52"}


def split_admission(f: dict[str, pd.DataFrame], max_days: int = 15, prefix: int = 3) -> pd.DataFrame:
    m = f["mdtrt"].copy()
    inpatient = m["med_type"].isin(INPATIENT) | ((m["med_type"].str.len() >= 4) & m["med_type"].str.startswith("2"))
    m = m[inpatient & m["endtime"].notna()].copy()
    main = f["diag"][f["diag"]["maindiag_flag"] == "1"].groupby("mdtrt_id")["diag_code"].min()
    m["diag_code"] = m["dscg_maindiag_code"].fillna(m["mdtrt_id"].map(main))
    m = m.sort_values(["psn_no", "fixmedins_code", "begntime", "mdtrt_id"])
    g = m.groupby(["psn_no", "fixmedins_code"])
    m["prev_end"] = g["endtime"].shift()
    m["prev_diag"] = g["diag_code"].shift()
    gap = (pd.to_datetime(m["begntime"]).dt.normalize() - pd.to_datetime(m["prev_end"]).dt.normalize()).dt.days
    same = m["diag_code"].str[:prefix] == m["prev_diag"].str[:prefix]
    return m[m["prev_end"].notna() & gap.between(0, max_days) & same]


RULES = {
    "GZ10000301004000": drug_gender,
    "GZ10000102012000": dup_charge,
    "GZ10000204001000": split_admission,
}


def run(con: duckdb.DuckDBPyConnection) -> dict:
    t = time.perf_counter()
    frames = load_frames(con)
    load_s = time.perf_counter() - t
    out = {"load_seconds": round(load_s, 3), "rules": {}}
    for code, fn in RULES.items():
        t = time.perf_counter()
        n = len(fn(frames))
        out["rules"][code] = {"findings": n, "seconds": round(time.perf_counter() - t, 3)}
    out["seconds"] = round(sum(r["seconds"] for r in out["rules"].values()), 3)
    return out
