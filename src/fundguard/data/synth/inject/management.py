"""管理类 patterns: stock that does not match sales, readmissions, settlements of the dead or during a
stay, too frequent visits or purchases, a visit settled twice and diagnoses that contradict the person."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundguard.data.synth.inject.base import (
    DAY,
    FREQUENT_PURCHASES,
    FREQUENT_VISITS,
    LATE_ENTRY_HOURS,
    MIN,
    UPLOAD_LAG_HOURS,
)

if TYPE_CHECKING:
    from fundguard.data.synth.inject.injector import Injector


def drug_swap(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    sex = "2" if i % 2 == 0 else "1"
    p = inj.take(sex)
    drugs = cat.reserved_drugs[:2] if sex == "2" else cat.reserved_drugs[2:]
    inst = inj.inst("ph", i=i) if i % 3 else inj.inst("h2", i=i)
    kind = "ph" if inj.ctx.kind[inst] == "ph" else "otp"
    v = inj.visit(p, kind, inst, inj.when(i, 15))
    inj.otp_lines(v)
    t = inj.line(v, drugs[i % 2], inj.rows[v]["begn"] + 6 * MIN, 2, prd=7, label=True, noinv=True)
    inj.label("drug_swap", "结算药品当月无采购入库记录（进销存不符）", line=t)


def split_admission(inj: Injector, i: int) -> None:
    p = inj.take()
    inst = inj.inst("h2", i=i)
    diag = inj.ctx.clin.cond_diags["pneumonia"][i % 2]
    v1 = inj.visit(p, "ipt", inst, inj.when(i, 17), los=6, cond="pneumonia", diag=diag)
    inj.ipt_lines(v1)
    gap = 3 + i % 9
    b2 = (np.datetime64(inj.rows[v1]["end"], "D") + gap * DAY).astype("datetime64[s]") + np.timedelta64(9 * 3600, "s")
    v2 = inj.visit(p, "ipt", inst, b2, los=5, cond="pneumonia", diag=diag)
    inj.ipt_lines(v2)
    inj.label("split_admission", f"出院{gap}天后同一机构同一主诊断再次入院", visit=v2)


def post_death(inj: Injector, i: int) -> None:
    p = inj.dead[i]
    die = np.datetime64(inj.ctx.region.persons.loc[p, "die_date"], "D")
    before = inj.visit(
        p, "otp", inj.inst("h2", i=i), (die - 20 * DAY).astype("datetime64[s]") + np.timedelta64(9 * 3600, "s")
    )
    inj.otp_lines(before)
    after = die + (3 + i % 20) * DAY
    kind = "ph" if i % 2 else "otp"
    inst = inj.inst("ph", i=i) if kind == "ph" else inj.inst("chc", "thc", i=i)
    v = inj.visit(p, kind, inst, after.astype("datetime64[s]") + np.timedelta64(10 * 3600, "s"))
    inj.otp_lines(v, drugs=2)
    inj.label("post_death", "参保人死亡后仍发生结算", visit=v)


def otp_during_ipt(inj: Injector, i: int) -> None:
    p = inj.take()
    s = inj.visit(p, "ipt", inj.inst("h2", i=i), inj.when(i, 21), los=9, cond="pneumonia")
    inj.ipt_lines(s)
    b = (np.datetime64(inj.rows[s]["begn"], "D") + 4 * DAY).astype("datetime64[s]") + np.timedelta64(16 * 3600, "s")
    kind = "ph" if i % 2 else "otp"
    v = inj.visit(p, kind, inj.inst("ph", i=i + 1) if kind == "ph" else inj.inst("vc", "chc", i=i), b)
    inj.otp_lines(v)
    inj.label("otp_during_ipt", "住院期间在其他机构门诊/药店结算", visit=v)


def frequent_visits(inj: Injector, i: int) -> None:
    p = inj.take()
    b = inj.when(i, 23)
    vs = []
    for j in range(FREQUENT_VISITS):
        v = inj.visit(p, "otp", inj.inst("vc", "chc", i=i + j % 3), b + (j * 2) * DAY + (j % 3) * 60 * MIN)
        inj.otp_lines(v)
        vs.append(v)
    inj.label(
        "frequent_visits",
        f"{2 * FREQUENT_VISITS}天内门诊就诊{FREQUENT_VISITS}次",
        psn_no=inj.ctx.region.persons.loc[p, "psn_no"],
        amount=None,
        visit=-1,
    )
    inj.person_visits[("frequent_visits", len(inj.labels) - 1)] = vs[10:]


def frequent_purchase(inj: Injector, i: int) -> None:
    p = inj.take()
    b = inj.when(i, 24)
    vs = []
    for j in range(FREQUENT_PURCHASES):
        v = inj.visit(p, "ph", inj.inst("ph", i=i + j % 4), b + (j * 2) * DAY + 5 * 60 * MIN)
        inj.otp_lines(v)
        vs.append(v)
    inj.label(
        "frequent_purchase",
        f"{2 * FREQUENT_PURCHASES}天内药店购药{FREQUENT_PURCHASES}次",
        psn_no=inj.ctx.region.persons.loc[p, "psn_no"],
    )
    inj.person_visits[("frequent_purchase", len(inj.labels) - 1)] = vs


def dup_reimbursement(inj: Injector, i: int) -> None:
    p = inj.take()
    v = inj.visit(p, "otp", inj.inst("h2", i=i), inj.when(i, 26), dup_setl=True)
    inj.otp_lines(v, drugs=2)
    inj.label("dup_reimbursement", "同一就诊费用两次结算报销", visit=v, setl="dup")
    # the second settlement comes 1–3 days after the lines it pays: late by construction
    inj.label("late_upload", "重复结算在费用发生1天以上后才结算上传", visit=v, setl="dup")


def diag_gender(inj: Injector, i: int) -> None:
    sex = "1" if i % 2 == 0 else "2"
    p = inj.take(sex)
    pool = inj.ctx.clin.otp_female if sex == "1" else inj.ctx.clin.otp_male
    v = inj.visit(p, "otp", inj.inst("h2", i=i + 2), inj.when(i, 27), diag=pool[i % len(pool)])
    inj.otp_lines(v)
    inj.label(
        "diag_gender", f"{'男' if sex == '1' else '女'}性参保人诊断为{'女' if sex == '1' else '男'}性疾病", visit=v
    )


def late_upload(inj: Injector, i: int) -> None:
    """就诊数据非实时上传, alternating: an outpatient visit settled — and so uploaded — more than a day after
    its fee lines were issued (批量补传), or a stay with a drug line recorded after its discharge settlement
    (事后补录)."""
    p = inj.take()
    if i % 2 == 0:
        lo, hi = UPLOAD_LAG_HOURS
        hours = lo + (i * 11) % (hi - lo)
        v = inj.visit(p, "otp", inj.inst("h2", "chc", "thc", i=i), inj.when(i, 31), setl_delay_min=hours * 60)
        inj.otp_lines(v, drugs=2)
        inj.label("late_upload", f"门诊费用发生{hours}小时后才结算上传（批量补传）", visit=v)
        return
    lo, hi = LATE_ENTRY_HOURS
    hours = lo + (i * 7) % (hi - lo)
    v = inj.visit(p, "ipt", inj.inst("h2", "h1", i=i), inj.when(i, 31), los=5, cond="pneumonia")
    inj.ipt_lines(v)
    inj.line(v, inj.drug(v, True), inj.rows[v]["end"] + hours * 60 * MIN, 2)
    inj.label("late_upload", f"出院结算{hours}小时后补录费用明细（事后补录）", visit=v)
