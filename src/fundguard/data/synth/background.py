"""Background (clean) care of a chunk of persons: visits and their fee lines, vectorised with numpy.

Clean means: inside every restriction the rule library knows. The scheduling guarantees it by
construction, not by luck:
- admissions of one person are ≥ 15 days apart (60-day blocks, admission in the first 20 days,
  stays ≤ 25 days), so no 分解住院 pattern;
- no outpatient or pharmacy visit from admission day to discharge day;
- ≤ 4 outpatient visits (11/13/14) and ≤ 2 pharmacy purchases per calendar month, so ≤ 8 / ≤ 4 in
  any 30 days;
- nothing on or after the die_date (a death in hospital ends the stay on that day, 离院方式 5);
- drugs and items come from catalogue pools filtered by the patient's sex, age, setting and the
  institution's tier; per-day items billed at most their 两库 frequency; a 门诊慢特病 visit's drugs come
  from its 病种's drug range (curated chronic_disease_drug);
- an outpatient or pharmacy visit is settled after its last fee line (assemble moves its end there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundguard.data.synth import catalog as C
from fundguard.data.synth.context import MED_TYPE, Context
from fundguard.data.synth.frames import Lines, Visits

NS_MIN = np.timedelta64(60, "s")
NS_DAY = np.timedelta64(1, "D")


def _otp_rate(age: np.ndarray) -> np.ndarray:
    return np.select([age < 6, age < 14, age < 45, age < 65], [5.0, 3.0, 2.5, 3.5], 5.0)


def _ipt_rate(age: np.ndarray) -> np.ndarray:
    return np.select([age < 14, age < 45, age < 65, age < 80], [0.05, 0.06, 0.12, 0.25], 0.4)


def schedule(ctx: Context, rng: np.random.Generator, psn: pd.DataFrame) -> Visits:
    reg = ctx.region
    start = np.datetime64(pd.Timestamp(reg.start).date(), "D")
    days = int((np.datetime64(pd.Timestamp(reg.end).date(), "D") - start) / NS_DAY)
    n = len(psn)
    age = psn["age"].to_numpy()
    pidx = psn["idx"].to_numpy()
    die = psn["die_date"].to_numpy().astype("datetime64[D]")
    die_day = np.where(np.isnat(die), days + 1, (die - start) / NS_DAY).astype(int)

    # --- inpatient stays: one chance per 60-day block -------------------------------------------
    nb = days // 60
    pi, bi = np.meshgrid(np.arange(n), np.arange(nb), indexing="ij")
    pi, bi = pi.ravel(), bi.ravel()
    p_adm = _ipt_rate(age[pi]) / 6
    p_ds = 0.012 / 6
    r = rng.random(len(pi))
    is_ipt = r < p_adm
    is_ds = (r >= p_adm) & (r < p_adm + p_ds)
    sel = is_ipt | is_ds
    sp, sb, sds = pi[sel], bi[sel], is_ds[sel]
    cond = np.empty(len(sp), np.int64)
    sex = psn["sex"].to_numpy()
    conds = ctx.conds
    for j in range(len(sp)):  # ~0.15 stays per person-year: a Python loop is cheap here
        a, s_ = age[sp[j]], sex[sp[j]]
        ok = [
            k
            for k, c in enumerate(conds)
            if c.day_surgery == bool(sds[j]) and c.min_age <= a <= c.max_age and c.sex in ("", s_)
        ]
        if not ok:  # no day-surgery condition fits (children): an ordinary admission instead
            sds[j] = False
            ok = [
                k
                for k, c in enumerate(conds)
                if not c.day_surgery and c.min_age <= a <= c.max_age and c.sex in ("", s_)
            ]
        w = np.array([conds[k].weight for k in ok])
        cond[j] = ok[int(rng.choice(len(ok), p=w / w.sum()))]
    los_mean = np.array([conds[k].los for k in cond])
    los = np.where(sds, 1, np.clip(np.round(rng.lognormal(np.log(los_mean), 0.35)), 2, 25).astype(int)).astype(int)
    adm = sb * 60 + rng.integers(0, 20, len(sp))
    keep = (adm + los < days - 1) & (adm < die_day[sp])
    sp, cond, los, adm, sds = sp[keep], cond[keep], los[keep], adm[keep], sds[keep]
    died_in = adm + los >= die_day[sp]
    los = np.where(died_in, np.maximum(die_day[sp] - adm, 1), los)
    died_in &= adm + los == die_day[sp]
    keep = adm + los <= die_day[sp]
    sp, cond, los, adm, sds, died_in = sp[keep], cond[keep], los[keep], adm[keep], sds[keep], died_in[keep]

    # --- outpatient, chronic, pharmacy: per person-month counts -------------------------------
    months = reg.months
    month_start = np.array(
        [
            (np.datetime64(pd.Timestamp(reg.start) + pd.DateOffset(months=m), "D") - start) / NS_DAY
            for m in range(months + 1)
        ]
    ).astype(int)
    pm_p = np.repeat(np.arange(n), months)
    pm_m = np.tile(np.arange(months), n)
    n_otp = rng.poisson(_otp_rate(age)[pm_p] / 12)
    chronic = (psn["htn"].to_numpy() | psn["dm"].to_numpy())[pm_p] & (rng.random(len(pm_p)) < 0.85)
    n_otp = np.minimum(n_otp, 4 - chronic)
    n_ph = np.minimum(rng.poisson(np.where(age >= 14, 3.0, 0.5)[pm_p] / 12), 2)
    kinds, ep, em = [], [], []
    for k, cnt in (("otp", n_otp), ("chr", chronic.astype(int)), ("ph", n_ph)):
        kinds.append(np.full(int(cnt.sum()), k, object))
        ep.append(np.repeat(pm_p, cnt))
        em.append(np.repeat(pm_m, cnt))
    okind, op, om = np.concatenate(kinds), np.concatenate(ep), np.concatenate(em)
    span = month_start[om + 1] - month_start[om]
    oday = month_start[om] + (rng.random(len(op)) * span).astype(int)
    # 5% of hospital outpatient visits are emergencies (急诊)
    is_er = (okind == "otp") & (rng.random(len(op)) < 0.05)
    okind = np.where(is_er, "er", okind)
    # drop visits on/after death and from admission to discharge day of the person's stays
    ok = oday < die_day[op]
    if len(sp):
        stays = pd.DataFrame({"p": sp, "a": adm, "d": adm + los})
        ev = pd.DataFrame({"p": op, "day": oday, "i": np.arange(len(op))})
        m = ev.merge(stays, on="p")
        clash = m.loc[(m["day"] >= m["a"]) & (m["day"] <= m["d"]), "i"].to_numpy()
        ok[clash] = False
    okind, op, om, oday = okind[ok], op[ok], om[ok], oday[ok]

    # --- assemble visits ------------------------------------------------------------------------
    kind = np.concatenate([np.where(sds, "ds", "ipt").astype(object), okind])
    vp = np.concatenate([sp, op])
    day = np.concatenate([adm, oday])
    vlos = np.concatenate([los, np.zeros(len(op), int)])
    vcond = np.concatenate([cond, np.full(len(op), -1)])
    vdied = np.concatenate([died_in, np.zeros(len(op), bool)])
    nv = len(kind)
    inst = np.empty(nv, np.int64)
    # institution choice by setting
    surg = np.array([bool(conds[k].op_item or conds[k].oprn) if k >= 0 else False for k in vcond])
    for mask, kinds_ok, wcol in (
        ((kind == "otp"), ("h3", "h2", "h1", "chc", "thc", "vc"), "otp_w"),
        ((kind == "er"), ("h3", "h2"), "otp_w"),
        ((kind == "chr"), ("h2", "h1", "chc", "thc"), "otp_w"),
        ((kind == "ph"), ("ph",), None),
        (((kind == "ipt") | (kind == "ds")) & ~surg, ("h3", "h2", "h1", "thc"), "ipt_w"),
        (((kind == "ipt") | (kind == "ds")) & surg, ("h3", "h2"), "ipt_w"),
    ):
        cand = ctx.insts(*kinds_ok)
        w = np.ones(len(cand)) if wcol is None else reg.institutions[wcol].to_numpy()[cand]
        inst[mask] = cand[rng.choice(len(cand), size=int(mask.sum()), p=w / w.sum())]
    tier = ctx.tier[inst]
    vage = age[vp]
    vsex = sex[vp]

    # --- diagnoses ---------------------------------------------------------------------------------
    clin = ctx.clin
    d1 = np.empty(nv, object)
    d1n = np.empty(nv, object)
    d2 = np.full(nv, None, object)
    d2n = np.full(nv, None, object)
    level = np.zeros(nv, int)

    def pick(mask: np.ndarray, pool: list[tuple[str, str]]) -> None:
        k = int(mask.sum())
        if k:
            j = rng.integers(0, len(pool), k)
            d1[mask] = np.array([c for c, _ in pool], object)[j]
            d1n[mask] = np.array([nme for _, nme in pool], object)[j]

    otp_like = np.isin(kind, ("otp", "er"))
    spec = rng.random(nv) < 0.12
    pick(otp_like & (vage < 14), clin.otp_child)
    pick(otp_like & (vage >= 14) & ~(spec & (vage >= 18)), clin.otp_neutral)
    pick(otp_like & (vage >= 18) & spec & (vsex == "女"), clin.otp_female)
    pick(otp_like & (vage >= 18) & spec & (vsex == "男"), clin.otp_male)
    is_chr = kind == "chr"
    dm = psn["dm"].to_numpy()[vp]
    htn = psn["htn"].to_numpy()[vp]
    use_dm = is_chr & dm & (~htn | (rng.random(nv) < 0.5))
    for mask, key in ((use_dm, "dm"), (is_chr & ~use_dm, "htn")):
        d1[mask], d1n[mask] = clin.chronic[key]
    ip = np.isin(kind, ("ipt", "ds"))
    for k in np.unique(vcond[ip]):
        mask = vcond == k
        pool = clin.cond_diags[conds[k].key]
        j = rng.integers(0, len(pool), int(mask.sum()))
        d1[mask] = np.array([c for c, _ in pool], object)[j]
        d1n[mask] = np.array([nme for _, nme in pool], object)[j]
    # secondary diagnoses of stays: chronic conditions, comorbidities, sometimes a CC/MCC
    r2 = rng.random(nv)
    # complications go with the longer stays, and are treated (extra lines in `lines`)
    long_stay = vlos >= np.array([conds[k].los if k >= 0 else 99 for k in vcond])
    sec_cc = ip & ~np.isin(kind, ("ds",)) & long_stay & (r2 < 0.3)
    sec_co = ip & ~sec_cc & (r2 < 0.55)
    j = rng.integers(0, len(clin.cc), nv)
    d2[sec_cc] = np.array([c for c, _, _ in clin.cc], object)[j][sec_cc]
    d2n[sec_cc] = np.array([nme for _, nme, _ in clin.cc], object)[j][sec_cc]
    level[sec_cc] = np.where(np.array([lv for *_, lv in clin.cc])[j] == "MCC", 2, 1)[sec_cc]
    co = list(clin.comorbid) + [clin.chronic["htn"], clin.chronic["dm"]]
    j = rng.integers(0, len(co), nv)
    d2[sec_co] = np.array([c for c, _ in co], object)[j][sec_co]
    d2n[sec_co] = np.array([nme for _, nme in co], object)[j][sec_co]
    dup = sec_co & (d2 == d1)
    d2[dup] = None
    d2n[dup] = None

    # --- departments and doctors --------------------------------------------------------------
    ik = ctx.kind[inst]
    dept = np.full(nv, "A03", object)
    dept[(kind == "otp") & (rng.random(nv) < 0.2)] = "A50"
    dept[otp_like & np.isin(d1, [c for c, _ in clin.otp_female])] = "A05"
    dept[otp_like & (vage < 14)] = "A07"
    dept[kind == "er"] = "A16"
    for k in np.unique(vcond[ip]):
        dept[vcond == k] = conds[k].dept
    dept[np.isin(ik, ("chc", "thc", "vc")) & ~((vage < 14) & otp_like)] = "A02"
    dept[kind == "ph"] = "Y01"
    doc, dept = ctx.pick_docs(rng, inst, dept)

    # --- times ----------------------------------------------------------------------------------
    base = start + day.astype("timedelta64[D]")
    minute = np.where(
        kind == "er",
        rng.integers(0, 24 * 60, nv),
        np.where(kind == "ph", rng.integers(8 * 60, 21 * 60 + 30, nv), rng.integers(8 * 60, 17 * 60, nv)),
    )
    # a doctor's outpatients of one day are spread over the nine clinic hours (round robin), so a
    # doctor-hour holds about n/9 starts (+ spill-over from the hour before), far below 12
    m = np.flatnonzero(np.isin(kind, ("otp", "chr")))
    key = doc[m].astype(np.int64) * 100_000 + day[m]
    o = np.lexsort((rng.random(len(m)), key))
    ks = key[o]
    starts = np.r_[0, np.flatnonzero(ks[1:] != ks[:-1]) + 1] if len(ks) else np.zeros(0, int)
    first_of = np.repeat(starts, np.diff(np.r_[starts, len(ks)]))
    # a random starting hour per doctor-day: chunks (other persons, same doctor-day) do not pile up at 8:00
    group = np.cumsum(np.r_[0, (ks[1:] != ks[:-1]).astype(np.int64)]) if len(ks) else np.zeros(0, np.int64)
    offset = rng.integers(0, 9, len(starts))[group]
    slot = np.empty(len(m), np.int64)
    slot[o] = (np.arange(len(ks)) - first_of + offset) % 9
    minute[m] = (8 + slot) * 60 + rng.integers(0, 50, len(m))
    begn = base.astype("datetime64[s]") + minute * NS_MIN
    dis_min = rng.integers(9 * 60, 11 * 60 + 30, nv)
    end_ip = (base + vlos.astype("timedelta64[D]")).astype("datetime64[s]") + dis_min * NS_MIN
    end = np.where(ip, end_ip, begn + rng.integers(15, 60, nv) * NS_MIN)
    v = Visits.new(
        psn=pidx[vp],
        kind=kind,
        inst=inst,
        doc=doc,
        dept=dept,
        begn=begn,
        end=end,
        los=vlos,
        cond=vcond,
        diag1=d1,
        diag1_name=d1n,
        diag2=d2,
        diag2_name=d2n,
        level=level,
        died=vdied,
        refund=np.isin(kind, ("otp", "ph")) & (rng.random(nv) < 0.015),
    )
    v.df["tier"] = tier
    v.df["age"] = vage
    v.df["sex"] = vsex
    v.df["dm"] = dm
    v.df["month"] = np.concatenate([np.full(len(sp), -1), om])
    return v


def lines(ctx: Context, rng: np.random.Generator, v: Visits) -> Lines:
    """Fee lines of background visits."""
    cat = ctx.cat
    df = v.df
    kind = df["kind"].to_numpy()
    nv = len(df)
    tier = df["tier"].to_numpy()
    begn = df["begn"].to_numpy().astype("datetime64[s]")
    out = Lines()

    def add(vi, code, cnt, when, prd=None, tk=None):
        out.add(v=vi, code=code, cnt=cnt, time=when, prd_days=prd, dscg_tk=tk)

    otp = np.flatnonzero(np.isin(kind, ("otp", "er", "chr")))
    # consultation
    code = np.where(kind[otp] == "er", cat.idx(C.ER_CONSULT), cat.idx(C.OTP_CONSULT))
    add(otp, code, np.ones(len(otp)), begn[otp] + 2 * NS_MIN)
    # labs (not at village clinics) and imaging (二级+)
    k_lab = np.where(kind[otp] == "chr", 0, rng.choice(4, size=len(otp), p=[0.55, 0.25, 0.12, 0.08])) * (tier[otp] >= 1)
    k_lab = np.where(kind[otp] == "er", np.maximum(k_lab, 1), k_lab)
    vi = np.repeat(otp, k_lab)
    add(vi, rng.choice(cat.pools["lab"], len(vi)), np.ones(len(vi)), begn[vi] + rng.integers(5, 40, len(vi)) * NS_MIN)
    k_img = (rng.random(len(otp)) < 0.12) & (tier[otp] >= 2) & (kind[otp] != "chr")
    vi = otp[k_img]
    add(vi, rng.choice(cat.pools["img"], len(vi)), np.ones(len(vi)), begn[vi] + rng.integers(10, 50, len(vi)) * NS_MIN)
    # HbA1c for diabetics every third month at their chronic visit (≥ 60 days apart > 15-day cycle)
    month = df["month"].to_numpy()
    vi = np.flatnonzero((kind == "chr") & df["dm"].to_numpy() & (month % 3 == 0) & (tier >= 1))
    vi = vi[cat.indicated(C.HBA1C, df["diag1"].to_numpy()[vi])]  # on the visit for diabetes, not hypertension
    add(vi, np.full(len(vi), cat.idx(C.HBA1C)), np.ones(len(vi)), begn[vi] + 10 * NS_MIN)
    # drugs: outpatient ≤ 7 days (急诊 ≤ 3), chronic 28–30 days, pharmacy ≤ 7 days
    drug_v = np.flatnonzero(np.isin(kind, ("otp", "er", "chr", "ph")))
    k_drug = rng.choice([1, 2, 3], size=len(drug_v), p=[0.45, 0.35, 0.2])
    vi = np.repeat(drug_v, k_drug)
    kv = kind[vi]
    prd = np.select(
        [kv == "chr", kv == "er"],
        [rng.integers(28, 31, len(vi)), rng.integers(1, 4, len(vi))],
        rng.integers(3, 8, len(vi)),
    )
    cnt = np.where(kv == "chr", rng.integers(2, 5, len(vi)), rng.integers(1, 3, len(vi)))
    add(vi, _drugs(ctx, rng, df, vi, inpatient=False), cnt, begn[vi] + rng.integers(15, 55, len(vi)) * NS_MIN, prd)

    # --- stays ---------------------------------------------------------------------------------
    ip = np.flatnonzero(np.isin(kind, ("ipt", "ds")))
    los = df["los"].to_numpy()
    level = df["level"].to_numpy()
    di = np.repeat(ip, los[ip])
    dd = np.concatenate([np.arange(x) for x in los[ip]]) if len(ip) else np.zeros(0, int)
    day0 = begn[di].astype("datetime64[D]") + dd.astype("timedelta64[D]")
    morning = day0.astype("datetime64[s]") + np.timedelta64(8 * 3600, "s")
    first = dd == 0
    # on the admission day items are billed after admission time
    t_daily = np.where(first, begn[di] + 20 * NS_MIN, morning + rng.integers(0, 90, len(di)) * NS_MIN)
    single = rng.random(nv) < 0.1
    add(di, np.where(single[di], cat.idx(C.BED_SINGLE), cat.idx(C.BED)), np.ones(len(di)), t_daily)
    add(di, np.full(len(di), cat.idx(C.IPT_CONSULT)), np.ones(len(di)), t_daily + 5 * NS_MIN)
    add(di, np.where(level[di] == 2, cat.idx(C.NURSING_1), cat.idx(C.NURSING)), np.ones(len(di)), t_daily + 10 * NS_MIN)
    cardio = np.isin(
        df["cond"].to_numpy(), [k for k, c in enumerate(ctx.conds) if c.key in ("stroke", "heart_failure", "chd")]
    )
    mon = cardio[di] & (dd < 3)
    add(
        di[mon],
        np.full(int(mon.sum()), cat.idx(C.ECG_MONITOR)),
        rng.integers(8, 25, int(mon.sum())),
        t_daily[mon] + 15 * NS_MIN,
    )
    # drugs 1–3 per day; a stay's treatment intensity (1–6 units a line) varies with the patient, so two
    # stays of one condition at one hospital never cost the same to the 分 (as clustered fake admissions do)
    kd = rng.choice([1, 2, 3], size=len(di), p=[0.3, 0.4, 0.3])
    dv = np.repeat(di, kd)
    dt_ = np.repeat(t_daily, kd) + rng.integers(30, 600, len(dv)) * NS_MIN
    intensity = rng.integers(1, 4, nv)
    add(dv, _drugs(ctx, rng, df, dv, inpatient=True), rng.integers(1, 3, len(dv)) * intensity[dv], dt_)
    # one expensive 乙类 drug course on a third of stays (antibiotics, anticoagulants …)
    big = ip[rng.random(len(ip)) < 0.35]
    add(big, _drugs(ctx, rng, df, big, inpatient=True), rng.integers(3, 15, len(big)), begn[big] + 90 * NS_MIN)
    # treatment of a CC/MCC secondary diagnosis: two more drug lines a day and a daily lab
    cc = level[di] > 0
    xv = np.repeat(di[cc], 2)
    xt = np.repeat(t_daily[cc], 2) + rng.integers(60, 600, len(xv)) * NS_MIN
    add(xv, _drugs(ctx, rng, df, xv, inpatient=True), rng.integers(2, 5, len(xv)), xt)
    add(di[cc], rng.choice(cat.pools["lab"], int(cc.sum())), np.ones(int(cc.sum())), t_daily[cc] + 45 * NS_MIN)
    # labs: 3–6 on admission day, then one on a quarter of days
    kl = np.where(first, rng.integers(3, 7, len(di)), (rng.random(len(di)) < 0.25).astype(int))
    lv = np.repeat(di, kl)
    lt = np.repeat(t_daily, kl) + rng.integers(30, 300, len(lv)) * NS_MIN
    add(lv, rng.choice(cat.pools["lab"], len(lv)), np.ones(len(lv)), lt)
    im = first & (tier[di] >= 2)
    add(di[im], rng.choice(cat.pools["img"], int(im.sum())), np.ones(int(im.sum())), t_daily[im] + 120 * NS_MIN)
    # operation on day 1 (day 0 for a one-day stay)
    op_item = np.array([cat.index.get(c.op_item, -1) for c in ctx.conds])
    cond = df["cond"].to_numpy()
    has_op = (cond >= 0) & (op_item[np.maximum(cond, 0)] >= 0)
    op_day = (dd == np.minimum(1, los[di] - 1)) & has_op[di]
    add(di[op_day], op_item[cond[di[op_day]]], np.ones(int(op_day.sum())), t_daily[op_day] + 60 * NS_MIN)
    # discharge medication (出院带药, ≤ 7 days)
    tk = ip[(rng.random(len(ip)) < 0.4) & ~df["died"].to_numpy()[ip]]
    end = df["end"].to_numpy().astype("datetime64[s]")
    add(
        tk,
        _drugs(ctx, rng, df, tk, inpatient=True),
        rng.integers(1, 3, len(tk)),
        end[tk] - 30 * NS_MIN,
        rng.integers(3, 8, len(tk)),
        np.ones(len(tk)),
    )
    del nv
    return out.done(rng, ctx)


def _drugs(ctx: Context, rng: np.random.Generator, df: pd.DataFrame, vi: np.ndarray, inpatient: bool) -> np.ndarray:
    """One formulary drug per requested line, from the pool that fits patient and setting."""
    out = np.empty(len(vi), np.int64)
    if not len(vi):
        return out
    sex = df["sex"].to_numpy()[vi]
    age = df["age"].to_numpy()[vi]
    grp = np.select([age <= 12, age < 18], [0, 1], 2)
    tier = df["tier"].to_numpy()[vi]
    # a 门诊慢特病 visit bills from its 病种's drug range (catalog.drug_pool)
    chronic = np.where(df["kind"].to_numpy()[vi] == "chr", df["diag1"].to_numpy()[vi], "")
    keys = pd.DataFrame({"s": sex, "g": grp, "t": tier, "d": chronic})
    for (s, g, t, d), idx in keys.groupby(["s", "g", "t", "d"]).indices.items():
        rep_age = {0: 8, 1: 15, 2: 40}[int(g)]
        pool = ctx.cat.drug_pool(str(s), rep_age, inpatient, int(t), chronic_diag=str(d) or None)
        out[idx] = pool[rng.integers(0, len(pool), len(idx))]
    return out


__all__ = ["schedule", "lines", "MED_TYPE"]
