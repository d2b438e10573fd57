"""欺诈骗保 patterns across visits, persons and institutions: 挂床, 聚集性住院, 冒名, 刷卡套现 rings, DRG
高套, and a doctor or a device working beyond what is possible."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundguard.data.synth import catalog as C
from fundguard.data.synth.conditions import drg_weight
from fundguard.data.synth.inject.base import DAY, DOCTOR_HOUR_VISITS, MIN

if TYPE_CHECKING:
    from fundguard.data.synth.inject.injector import Injector


def bed_hanging(inj: Injector, i: int) -> None:
    p = inj.take()
    inst = inj.inst("h1", "h2", i=i)
    los = 18 + i % 5
    v = inj.visit(p, "ipt", inst, inj.when(i, 18), los=los, cond="copd")
    inj.ipt_lines(v, basic_only_from=1)
    inj.label("bed_hanging", f"住院{los}天除首日外仅有床位、诊查、护理费，且住院期间在外门诊/购药", visit=v)
    b = inj.rows[v]["begn"]
    o1 = inj.visit(
        p,
        "ph",
        inj.inst("ph", i=i + 3),
        (np.datetime64(b, "D") + 5 * DAY).astype("datetime64[s]") + np.timedelta64(15 * 3600, "s"),
    )
    inj.otp_lines(o1)
    o2 = inj.visit(
        p,
        "otp",
        inj.inst("vc", i=i),
        (np.datetime64(b, "D") + 11 * DAY).astype("datetime64[s]") + np.timedelta64(10 * 3600, "s"),
    )
    inj.otp_lines(o2)
    for o in (o1, o2):
        inj.label("otp_during_ipt", "挂床住院期间在其他机构门诊/购药结算", visit=o)


def fake_admission(inj: Injector, i: int) -> None:
    inst = inj.inst("h1", "thc", i=i)
    b = inj.when(i, 19)
    diag = inj.ctx.clin.cond_diags["copd"][0]
    drug = None
    sex = "1" if i % 2 else "2"  # one sex per cluster: the shared drug must fit every member
    for j in range(5):
        p = inj.take(sex)
        v = inj.visit(p, "ipt", inst, b + (j % 3) * DAY + j * 37 * MIN, los=7, cond="copd", diag=diag)
        r = inj.rows[v]
        day0 = np.datetime64(r["begn"], "D")
        if drug is None:
            drug = inj.drug(v, True)
        for d in range(7):
            t = (
                r["begn"] + 20 * MIN
                if d == 0
                else (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(8 * 3600, "s")
            )
            for code in (C.BED, C.IPT_CONSULT, C.NURSING):
                inj.line(v, code, t)
            inj.line(v, drug, t + 60 * MIN, 3)
        inj.label("fake_admission", f"同一机构{3}天内{5}人同诊断入院、费用几乎相同", visit=v)


def impersonation(inj: Injector, i: int) -> None:
    p = inj.take("1")
    b = inj.when(i, 20, hour=9)
    a = inj.visit(p, "otp", inj.inst("h3", i=i), b)
    inj.otp_lines(a)
    fem = inj.ctx.clin.otp_female[i % len(inj.ctx.clin.otp_female)]
    other = inj.inst("h2", i=i + 1)
    v = inj.visit(p, "otp", other, b + 40 * MIN, diag=fem, dept="A05")
    inj.otp_lines(v)
    inj.label("impersonation", "男性参保人同一时段在另一机构以女性诊断就诊（疑冒名）", visit=v)
    inj.label("diag_gender", "男性参保人诊断为女性疾病", visit=v)


def card_cashing_ring(inj: Injector, i: int) -> None:
    """A same-sex group cycling one drug through pharmacies: buy, refund within minutes, buy again."""
    members = [inj.take("2") for _ in range(4)]
    start = inj.when(i, 22, hour=10)
    drug = None
    for n, p in enumerate(members):
        for cyc in range(3):
            b = start + (cyc * 15) * DAY + n * 13 * MIN
            ph1 = inj.inst("ph", i=i + cyc)
            ph2 = inj.inst("ph", i=i + cyc + 1)
            v1 = inj.visit(p, "ph", ph1, b, refund=True, refund_min=6)
            if drug is None:
                drug = inj.drug(v1)
            inj.line(v1, drug, b + MIN, 5, prd=7)
            v2 = inj.visit(p, "ph", ph2, b + 40 * MIN)
            inj.line(v2, drug, b + 41 * MIN, 5, prd=7)
        inj.label(
            "card_cashing_ring",
            "团伙在多家药店反复购药—退费—再购同一药品",
            psn_no=inj.ctx.region.persons.loc[p, "psn_no"],
        )


def drg_upcoding(inj: Injector, i: int) -> None:
    kn = inj.ctx.kn
    p = inj.take()
    mcc = [c for c in inj.ctx.clin.cc if c[2] == "MCC"][0]
    drg_hi = inj.ctx.clin.drg[("ES3", 2)]
    drg_lo = inj.ctx.clin.drg[("ES3", 0)]
    v = inj.visit(
        p,
        "ipt",
        inj.inst("h3", i=i),
        inj.when(i, 25),
        los=3,
        cond="pneumonia",
        diag2=mcc[:2],
        level=2,
        drg=drg_hi,
    )
    inj.ipt_lines(v, basic_only_from=1)
    ins = inj.ctx.region.persons.loc[p, "insutype"]
    rate = kn.drg_rates["职工" if ins == "310" else "居民"]
    gain = (drg_weight(kn, drg_hi) - drg_weight(kn, drg_lo)) * rate
    inj.label("drg_upcoding", f"次要诊断{mcc[1]}无相应诊疗，按{drg_hi}而非{drg_lo}付费", visit=v, amount=round(gain, 2))


def doctor_volume(inj: Injector) -> None:
    for i in range(min(inj.k, 5)):
        inst = inj.inst("h3", i=i)
        pool = inj.ctx.doc_pool[(inst, "A03")]
        doc = int(pool[(i * 7) % len(pool)])  # a different doctor per instance
        hour = inj.when(i, 28, hour=10)
        vs = []
        for j in range(DOCTOR_HOUR_VISITS):
            p = inj.crowd[j % len(inj.crowd)]
            v = inj.visit(p, "otp", inst, hour + int(j * 50 / DOCTOR_HOUR_VISITS) * MIN, doc=doc)
            b = inj.rows[v]["begn"]
            inj.line(v, C.OTP_CONSULT, b + MIN)
            inj.line(v, inj.drug(v), b + 2 * MIN, 1, prd=3)
            vs.append(v)
        code = inj.ctx.region.practitioners["prac_code"].iloc[doc]
        inj.label(
            "doctor_volume",
            f"医师一小时内接诊{DOCTOR_HOUR_VISITS}人次",
            bilg_dr_codg=code,
            fixmedins_code=inj.ctx.region.institutions["fixmedins_code"].iloc[inst],
        )
        inj.person_visits[("doctor_volume", len(inj.labels) - 1)] = vs


def device_capacity(inj: Injector, accounts) -> None:
    cat = inj.ctx.cat
    load = accounts.load()
    for i in range(min(inj.k, 3, len(inj.ctx.insts("chc", "thc")))):
        inst = inj.inst("chc", "thc", i=i)  # a different institution per instance
        bg = load[(load["inst"] == inst) & (load["equip"] == "BIOCHEM")]["cnt"]
        bg_max = int(bg.max()) if len(bg) else 0
        tests = 2 * bg_max + 60
        per = 8
        n_visits = int(np.ceil(tests / per))
        day = inj.when(i, 29, hour=8)
        labs = cat.pools["lab_biochem"]
        vs = []
        for j in range(n_visits):
            p = inj.crowd[(j + 7 * i) % len(inj.crowd)]
            v = inj.visit(p, "otp", inst, day + (j * 20) * MIN)
            b = inj.rows[v]["begn"]
            inj.line(v, C.OTP_CONSULT, b + MIN)
            for lab in inj.rng.choice(labs, per, replace=False):
                inj.line(v, int(lab), b + 5 * MIN)
            vs.append(v)
        cap = bg_max + (n_visits * per) // 2
        inj.fixed_equipment[(inst, "BIOCHEM")] = (1, cap)
        inj.label(
            "device_capacity",
            f"单日生化检验{n_visits * per}+项次，超过设备产能{cap}项次/日",
            fixmedins_code=inj.ctx.region.institutions["fixmedins_code"].iloc[inst],
        )
        inj.person_visits[("device_capacity", len(inj.labels) - 1)] = vs
        inj.device_excess[len(inj.labels) - 1] = (n_visits * per - cap) / (n_visits * per)
