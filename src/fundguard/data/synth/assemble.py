"""Visits + lines → national table rows (mdtrt_d, diag_d, oprn_d, setl_d, fee_list_d).

Amounts are computed in integer 分 so that the national identities hold exactly:
- line: det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt
- settlement: medfee_sumamt = Σ its lines; inscp_scp_amt = Σ line inscp_scp_amt;
  medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt; psn_part_amt = acct_pay + psn_cash_pay;
  fund_pay_sumamt = hifp_pay + cvlserv_pay + hifes_pay + hifmi_pay + hifob_pay + maf_pay + oth_pay.
A refund settlement (refd_setl_flag 1) carries the negated amounts of the settlement it reverses and
negated copies of its lines (init_setl_id / init_feedetl_sn).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fundguard.data.synth.context import INPATIENT_KINDS, MED_TYPE, Context
from fundguard.data.synth.frames import Lines, Visits
from fundguard.data.synth.region import DEPTS, REGION

NS_MIN = np.timedelta64(60, "s")
CLR_TYPE = {"otp": "11", "er": "11", "chr": "11", "ph": "41", "ipt": "21", "ds": "21"}
IPT_DEDC = {"310": {3: 100000, 2: 60000, 1: 30000, 0: 30000}, "390": {3: 120000, 2: 70000, 1: 30000, 0: 30000}}
IPT_RATIO = {"310": {3: 0.85, 2: 0.88, 1: 0.90, 0: 0.90}, "390": {3: 0.60, 2: 0.70, 1: 0.80, 0: 0.80}}
HIFP_CAP = 30_000_000  # 统筹基金年度最高支付限额 applied per stay (30 万元); above it 大额补助 pays 90%
MI_LINE = 1_500_000  # 居民大病保险 起付线 (1.5 万元) on the remaining in-scope personal part


Cols = dict[str, object]  # column name → numpy array or scalar (a table chunk without pandas' string copies)


def _n(cols: Cols) -> int:
    return next(len(v) for v in cols.values() if isinstance(v, np.ndarray))


def _take(cols: Cols, idx: np.ndarray) -> Cols:
    return {k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in cols.items()}


def _cat(parts: list[Cols]) -> Cols:
    if len(parts) == 1:
        return parts[0]
    out: Cols = {}
    for k in parts[0]:
        arrs = [p[k] if isinstance(p[k], np.ndarray) else np.full(_n(p), p[k], object) for p in parts]
        out[k] = np.concatenate(arrs)
    return out


class Ids:
    """Sequential ids per kind; deterministic because chunks are processed in order."""

    def __init__(self) -> None:
        self.n = {"mdtrt": 0, "setl": 0, "fee": 0, "inv": 0, "trac": 0, "no": 0}
        self.digit = {"mdtrt": "1", "setl": "2", "fee": "3", "inv": "4"}

    def take(self, kind: str, n: int) -> np.ndarray:
        s = self.n[kind]
        self.n[kind] = s + n
        seq = np.arange(s + 1, s + n + 1)
        if kind == "trac":  # 20-digit drug tracing codes
            return np.char.add("8", np.char.zfill(seq.astype(str), 19)).astype(object)
        if kind == "no":
            return seq
        return np.char.add(REGION + self.digit[kind], np.char.zfill(seq.astype(str), 13)).astype(object)


@dataclass
class Assembled:
    tables: dict[str, Cols]
    visit_mdtrt: np.ndarray
    visit_setl: np.ndarray
    visit_dup_setl: np.ndarray
    visit_refund_setl: np.ndarray
    line_sn: np.ndarray  # feedetl_sn of each input line (the original, not refund/dup copies)
    line_inscp: np.ndarray  # cents
    line_fee: np.ndarray  # cents
    visit_inscp: np.ndarray  # cents
    visit_fund: np.ndarray  # cents
    # movement facts for inventory and device accounting (all output lines incl. copies)
    moves: pd.DataFrame = field(default_factory=pd.DataFrame)


def _split_fund(ctx: Context, rng, v: pd.DataFrame, psn: pd.DataFrame, medfee, inscp):
    kind = v["kind"].to_numpy()
    ins = v["insutype_eff"].to_numpy()
    tier = v["tier"].to_numpy()
    ptype = psn["psn_type"].to_numpy()[v["psn"].to_numpy()]
    maf_p = psn["maf"].to_numpy()[v["psn"].to_numpy()]
    ip = np.isin(kind, INPATIENT_KINDS)
    worker = ins == "310"
    retired = np.isin(ptype, ("1201", "1202"))
    ded = np.zeros(len(v), np.int64)
    ratio = np.zeros(len(v))
    for t in range(4):
        for it in ("310", "390"):
            m = ip & (tier == t) & ((ins == it) if it == "390" else (ins != "390"))
            ded[m] = IPT_DEDC[it][t]
            ratio[m] = IPT_RATIO[it][t]
    ratio[ip & retired] += 0.05
    ratio[kind == "ph"] = np.where(worker[kind == "ph"], 0.5, 0.0)
    otp = np.isin(kind, ("otp", "er"))
    ratio[otp] = np.where(worker[otp], np.where(tier[otp] >= 3, 0.5, np.where(tier[otp] == 2, 0.6, 0.7)), 0.5)
    ratio[kind == "chr"] = np.where(worker[kind == "chr"], 0.75, 0.6)
    dedc = np.minimum(np.maximum(inscp, 0), ded)
    hifp = np.round(np.maximum(inscp - dedc, 0) * ratio).astype(np.int64)
    hifob = np.where(worker & (hifp > HIFP_CAP), np.round((hifp - HIFP_CAP) * 0.9), 0).astype(np.int64)
    hifp = np.where(worker, np.minimum(hifp, HIFP_CAP), hifp)
    remain = np.maximum(inscp - dedc - hifp - hifob, 0)
    hifmi = np.where(ip & (ins == "390"), np.round(np.maximum(remain - MI_LINE, 0) * 0.6), 0).astype(np.int64)
    remain = remain - hifmi
    cvl = np.where(np.isin(ptype, ("1102", "1202")), np.round(remain * 0.3), 0).astype(np.int64)
    remain = remain - cvl
    maf = np.where(ip & maf_p, np.round(remain * 0.7), 0).astype(np.int64)
    zero = np.zeros(len(v), np.int64)
    fund = hifp + cvl + zero + hifmi + hifob + maf + zero
    hosp = v["hosp_part"].to_numpy().astype(np.int64)
    psn_part = medfee - fund - hosp
    share = np.where(ip, 0.0, rng.uniform(0.2, 1.0, len(v)))
    acct = np.where(
        worker & (psn_part > 0),
        np.where(ip, np.minimum(psn_part, rng.integers(0, 300000, len(v))), np.round(psn_part * share)),
        0,
    ).astype(np.int64)
    return {
        "act_pay_dedc": dedc,
        "hifp_pay": hifp,
        "cvlserv_pay": cvl,
        "hifes_pay": zero,
        "hifmi_pay": hifmi,
        "hifob_pay": hifob,
        "maf_pay": maf,
        "oth_pay": zero,
        "fund_pay_sumamt": fund,
        "psn_part_amt": psn_part,
        "acct_pay": acct,
        "psn_cash_pay": psn_part - acct,
        "hosp_part_amt": hosp,
    }


def _settled_after_lines(end: np.ndarray, kind: np.ndarray, line_v: np.ndarray, line_time: np.ndarray) -> np.ndarray:
    """Visit end times such that an outpatient or pharmacy visit ends (and is settled) a few minutes
    after its last fee line: a settlement pays fees already charged (收费后结算), so no line is dated
    after it. Stays bill their last line before the discharge morning and keep their end."""
    end = end.astype("datetime64[s]").astype(np.int64)
    last = np.full(len(end), np.iinfo(np.int64).min)
    np.maximum.at(last, line_v, line_time.astype("datetime64[s]").astype(np.int64))
    otp = ~np.isin(kind, INPATIENT_KINDS) & (last > np.iinfo(np.int64).min)
    return np.where(otp, np.maximum(end, last + 3 * 60), end).astype("datetime64[s]")


def assemble(ctx: Context, rng: np.random.Generator, ids: Ids, visits: Visits, lines: Lines) -> Assembled:
    reg = ctx.region
    cat = ctx.cat
    v = visits.df.copy()
    L = lines.df
    psn = reg.persons
    inst = reg.institutions
    prac = reg.practitioners
    nv = len(v)
    p = v["psn"].to_numpy()
    v["insutype_eff"] = np.where(v["insutype"].isna(), psn["insutype"].to_numpy()[p], v["insutype"])
    kind = v["kind"].to_numpy()
    med_type = np.array([MED_TYPE[k] for k in kind], object)
    inst_code = inst["fixmedins_code"].to_numpy()[v["inst"].to_numpy()]
    doc_code = prac["prac_code"].to_numpy()[v["doc"].to_numpy()]
    doc_name = prac["prac_name"].to_numpy()[v["doc"].to_numpy()]
    psn_no = psn["psn_no"].to_numpy()[p]
    mdtrt_id = ids.take("mdtrt", nv)
    setl_id = ids.take("setl", nv)

    # ---- lines and amounts ----------------------------------------------------------------------
    lv_ = L["v"].to_numpy().astype(np.int64)
    code = L["code"].to_numpy().astype(np.int64)
    tier = v["tier"].to_numpy()
    price = L["price"].to_numpy().astype(np.int64)
    price = np.where(price < 0, cat.cap[code, tier[lv_]], price)
    cnt = L["cnt"].to_numpy()
    fee = np.round(cnt * price).astype(np.int64)
    lvl = cat.lv[code]
    fulamt = np.where(lvl == "03", fee, 0).astype(np.int64)
    pre = np.where(lvl == "02", np.round(fee * 0.1), 0).astype(np.int64)
    inscp = fee - fulamt - pre
    medfee = np.bincount(lv_, weights=fee, minlength=nv).astype(np.int64)
    s_ful = np.bincount(lv_, weights=fulamt, minlength=nv).astype(np.int64)
    s_pre = np.bincount(lv_, weights=pre, minlength=nv).astype(np.int64)
    s_inscp = np.bincount(lv_, weights=inscp, minlength=nv).astype(np.int64)
    fund = _split_fund(ctx, rng, v, psn, medfee, s_inscp)

    # ---- settlements (normal, refund, duplicate) ------------------------------------------------
    end = _settled_after_lines(v["end"].to_numpy(), kind, lv_, L["time"].to_numpy())
    setl_time = end + v["setl_delay_min"].to_numpy().astype(np.int64) * NS_MIN
    drg = v["drg"].to_numpy().copy()
    ipm = np.isin(kind, INPATIENT_KINDS) & pd.isna(drg)
    cond = v["cond"].to_numpy()
    level = v["level"].to_numpy()
    drg[ipm] = [ctx.clin.drg[(ctx.conds[c].adrg, int(lv))] for c, lv in zip(cond[ipm], level[ipm], strict=True)]
    base = {
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "fixmedins_code": inst_code,
        "med_type": med_type,
        "insutype": v["insutype_eff"].to_numpy(),
        "begndate": v["begn"].to_numpy().astype("datetime64[D]"),
        "enddate": end.astype("datetime64[D]"),
        "setl_type": "2",
        "clr_type": np.array([CLR_TYPE[k] for k in kind], object),
        "drg_code": drg,
        "vali_flag": "1",
    }
    amounts = {
        "medfee_sumamt": medfee,
        "fulamt_ownpay_amt": s_ful,
        "overlmt_selfpay": np.zeros(nv, np.int64),
        "preselfpay_amt": s_pre,
        "inscp_scp_amt": s_inscp,
        **fund,
    }
    setl: Cols = {"setl_id": setl_id, "setl_time": setl_time, **base, **amounts}
    setl["refd_setl_flag"] = np.full(nv, "0", object)
    setl["init_setl_id"] = np.full(nv, None, object)
    ref = np.flatnonzero(v["refund"].to_numpy())
    dup = np.flatnonzero(v["dup_setl"].to_numpy())
    ref_ids = np.full(nv, None, object)
    dup_ids = np.full(nv, None, object)
    delay = rng.integers(5, 120, len(ref))
    if "refund_min" in v:  # injected cycles refund within minutes
        fixed = v["refund_min"].to_numpy()[ref]
        delay = np.where(fixed >= 0, fixed, delay)
    ref_time = setl_time[ref] + delay * NS_MIN
    dup_time = setl_time[dup] + rng.integers(24 * 60, 3 * 24 * 60, len(dup)) * NS_MIN
    parts = [setl]
    if len(ref):
        ref_ids[ref] = ids.take("setl", len(ref))
        r = _take(setl, ref)
        for k in amounts:
            r[k] = -r[k]
        r["init_setl_id"] = r["setl_id"]
        r["setl_id"] = ref_ids[ref]
        r["setl_time"] = ref_time
        r["refd_setl_flag"] = np.full(len(ref), "1", object)
        parts.append(r)
    if len(dup):
        dup_ids[dup] = ids.take("setl", len(dup))
        d = _take(setl, dup)
        d["setl_id"] = dup_ids[dup]
        d["setl_time"] = dup_time
        parts.append(d)
    setl = _cat(parts)
    for k in amounts:
        setl[k] = setl[k] / 100.0

    # ---- fee lines (originals, refund copies, duplicate copies) --------------------------------
    n = len(L)
    sn = ids.take("fee", n)
    is_drug = cat.is_drug[code]
    trac = np.full(n, None, object)
    if is_drug.any():
        trac[is_drug] = ids.take("trac", int(is_drug.sum()))
    dept = v["dept"].to_numpy()[lv_]
    prd = L["prd_days"].to_numpy()
    fee_cols = {
        "feedetl_sn": sn,
        "init_feedetl_sn": np.full(n, None, object),
        "mdtrt_id": mdtrt_id[lv_],
        "setl_id": setl_id[lv_],
        "psn_no": psn_no[lv_],
        "fixmedins_code": inst_code[lv_],
        "med_type": med_type[lv_],
        "fee_ocur_time": L["time"].to_numpy().astype("datetime64[s]"),
        "drord_no": np.char.add("YZ", np.char.zfill((lv_ % 10**9).astype(str), 9)).astype(object),
        "med_list_codg": cat.code[code],
        "medins_list_codg": cat.code[code],
        "hilist_name": cat.name[code],
        "list_type": cat.list_type[code],
        "med_chrgitm_type": cat.chrgitm_type[code],
        "chrgitm_lv": lvl,
        "cnt": cnt,
        "pric": price / 100.0,
        "det_item_fee_sumamt": fee,
        "pric_uplmt_amt": np.full(n, np.nan),
        "selfpay_prop": cat.selfpay_prop[code],
        "fulamt_ownpay_amt": fulamt,
        "overlmt_amt": np.zeros(n, np.int64),
        "preselfpay_amt": pre,
        "inscp_scp_amt": inscp,
        "bilg_dept_codg": dept,
        "bilg_dept_name": np.array([DEPTS.get(d, d) for d in dept], object),
        "bilg_dr_codg": doc_code[lv_],
        "bilg_dr_name": doc_name[lv_],
        "hosp_appr_flag": "0",
        "tcmdrug_used_way": None,
        "dscg_tkdrug_flag": L["dscg_tk"].to_numpy().astype(str).astype(object),
        "prd_days": np.where(is_drug, prd, np.nan),
        "sin_dos_dscr": np.where(is_drug, "1片", None),
        "used_frqu_dscr": np.where(is_drug, "每日3次", None),
        "drug_trac_codg": trac,
        "vali_flag": "1",
    }
    fees: Cols = fee_cols
    money = ["det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt"]
    moves_idx = [np.arange(n)]
    moves_sign = [np.ones(n)]
    moves_time = [fees["fee_ocur_time"]]
    parts = [fees]
    if len(ref):
        pos = np.flatnonzero(np.isin(lv_, ref))
        r = _take(fees, pos)
        r["init_feedetl_sn"] = r["feedetl_sn"]
        r["feedetl_sn"] = ids.take("fee", len(pos))
        r["setl_id"] = ref_ids[lv_[pos]]
        rt = np.full(nv, np.datetime64("NaT"), "datetime64[s]")
        rt[ref] = ref_time
        r["fee_ocur_time"] = rt[lv_[pos]]
        r["cnt"] = -r["cnt"]
        for k in money:
            r[k] = -r[k]
        parts.append(r)
        moves_idx.append(pos)
        moves_sign.append(-np.ones(len(pos)))
        moves_time.append(rt[lv_[pos]])
    if len(dup):
        pos = np.flatnonzero(np.isin(lv_, dup))
        d = _take(fees, pos)
        d["feedetl_sn"] = ids.take("fee", len(pos))
        d["setl_id"] = dup_ids[lv_[pos]]
        trac_d = d["drug_trac_codg"].copy()
        if is_drug[pos].any():
            trac_d[is_drug[pos]] = ids.take("trac", int(is_drug[pos].sum()))
        d["drug_trac_codg"] = trac_d
        parts.append(d)
        moves_idx.append(pos)
        moves_sign.append(np.ones(len(pos)))
        moves_time.append(fees["fee_ocur_time"][pos])
    fees = _cat(parts)
    for k in money:
        fees[k] = fees[k] / 100.0
    mi = np.concatenate(moves_idx)
    moves = pd.DataFrame(
        {
            "inst": v["inst"].to_numpy()[lv_[mi]],
            "code": code[mi],
            "cnt": cnt[mi] * np.concatenate(moves_sign),
            "date": np.concatenate(moves_time).astype("datetime64[D]"),
            "noinv": L["noinv"].to_numpy()[mi],
        }
    )

    # ---- visits, diagnoses, operations -----------------------------------------------------------
    ip = np.isin(kind, INPATIENT_KINDS)
    mdtrt: Cols = dict(
        **{
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "fixmedins_code": inst_code,
            "med_type": med_type,
            "insutype": v["insutype_eff"].to_numpy(),
            "begntime": v["begn"].to_numpy().astype("datetime64[s]"),
            "endtime": end,
            "ipt_otp_no": np.char.add(
                np.where(ip, "ZY", "MZ"), np.char.zfill(ids.take("no", nv).astype(str), 10)
            ).astype(object),
            "mdtrt_cert_type": np.where(rng.random(nv) < 0.6, "01", "03"),
            "dept_code": v["dept"].to_numpy(),
            "dept_name": np.array([DEPTS.get(d, d) for d in v["dept"].to_numpy()], object),
            "dscg_maindiag_code": v["diag1"].to_numpy(),
            "dscg_maindiag_name": v["diag1_name"].to_numpy(),
            "chfpdr_code": doc_code,
            "dscg_way": np.where(ip, np.where(v["died"].to_numpy(), "5", "1"), None),
            "inhosp_stas": np.where(ip, "0", None),
            "vali_flag": "1",
        }
    )
    has1 = pd.notna(v["diag1"]).to_numpy()
    has2 = pd.notna(v["diag2"]).to_numpy()
    begn = v["begn"].to_numpy().astype("datetime64[s]")
    diag = _cat(
        [
            {
                "mdtrt_id": mdtrt_id[has1],
                "diag_srt_no": 1,
                "diag_type": "1",
                "diag_code": v["diag1"].to_numpy()[has1],
                "diag_name": v["diag1_name"].to_numpy()[has1],
                "maindiag_flag": "1",
                "diag_time": begn[has1],
            },
            {
                "mdtrt_id": mdtrt_id[has2],
                "diag_srt_no": 2,
                "diag_type": "1",
                "diag_code": v["diag2"].to_numpy()[has2],
                "diag_name": v["diag2_name"].to_numpy()[has2],
                "maindiag_flag": "0",
                "diag_time": begn[has2],
            },
        ]
    )
    oprn_rows = []
    for col, srt in (("oprn", 1), ("oprn2", 2)):
        o = v[col].to_numpy()
        if col == "oprn":
            auto = ip & pd.isna(o) & (cond >= 0)
            o = o.copy()
            o[auto] = [ctx.conds[c].oprn or None for c in cond[auto]]
        has = pd.notna(o)
        if has.any():
            codes = o[has]
            t = begn[has].astype("datetime64[D]") + np.where(v["los"].to_numpy()[has] > 1, 1, 0).astype(
                "timedelta64[D]"
            )
            oprn_rows.append(
                dict(
                    **{
                        "mdtrt_id": mdtrt_id[has],
                        "oprn_srt_no": srt,
                        "oprn_oprt_type": "1" if srt == 1 else "2",
                        "oprn_oprt_code": codes,
                        "oprn_oprt_name": [ctx.kn.icd9[c] for c in codes],
                        "oprn_oprt_date": t.astype("datetime64[s]") + np.timedelta64(9 * 3600 + srt * 1800, "s"),
                        "anst_way": np.where(np.char.startswith(codes.astype(str), "13."), "局部麻醉", "全身麻醉"),
                        "oper_dr_code": doc_code[has],
                    }
                )
            )
    oprn = _cat(oprn_rows) if oprn_rows else {"mdtrt_id": np.zeros(0, object)}
    return Assembled(
        tables={"mdtrt_d": mdtrt, "diag_d": diag, "oprn_d": oprn, "setl_d": setl, "fee_list_d": fees},
        visit_mdtrt=mdtrt_id,
        visit_setl=setl_id,
        visit_dup_setl=dup_ids,
        visit_refund_setl=ref_ids,
        line_sn=sn,
        line_inscp=inscp,
        line_fee=fee,
        visit_inscp=s_inscp,
        visit_fund=fund["fund_pay_sumamt"],
        moves=moves,
    )
