"""政策类 line restrictions of the 两库 (限性别, 儿童, 医疗机构级别, 就医方式, 工伤/生育, 支付疗程): each
instance bills one code whose only restriction the patient, institution, setting or day count breaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundguard.data.synth.inject.base import DAY, MIN

if TYPE_CHECKING:
    from fundguard.data.synth.catalog import Catalog
    from fundguard.data.synth.inject.injector import Injector


def drug_gender(inj: Injector, i: int) -> None:
    sex = "2" if i % 2 == 0 else "1"
    p = inj.take(sex)
    codes = inj.only("gender", "男" if sex == "2" else "女")
    v = inj.visit(p, "otp", inj.inst("h3", i=i), inj.when(i, 1))
    inj.otp_lines(v)
    t = inj.line(v, int(codes[(i * 37) % len(codes)]), inj.rows[v]["begn"] + 9 * MIN, 1, prd=5, label=True)
    inj.label(
        "drug_gender",
        f"{'女' if sex == '2' else '男'}性参保人开具限{'男' if sex == '2' else '女'}性药品",
        line=t,
    )


def item_gender(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    sex = "1" if i % 2 == 0 else "2"
    p = inj.take(sex)
    codes = inj.only("gender", "女" if sex == "1" else "男", drugs=False)
    codes = codes[np.char.startswith(cat.code[codes].astype(str), "002")]
    v = inj.visit(p, "otp", inj.inst("h3", i=i + 1), inj.when(i, 2))
    inj.otp_lines(v)
    t = inj.line(v, int(codes[(i * 13) % len(codes)]), inj.rows[v]["begn"] + 12 * MIN, label=True)
    inj.label(
        "item_gender",
        f"{'男' if sex == '1' else '女'}性参保人收取限{'女' if sex == '1' else '男'}性项目",
        line=t,
    )


def drug_child(inj: Injector, i: int) -> None:
    p = inj.take()
    codes = inj.only("age", "儿童")
    v = inj.visit(p, "otp", inj.inst("h3", i=i), inj.when(i, 3))
    inj.otp_lines(v)
    t = inj.line(v, int(codes[(i * 53) % len(codes)]), inj.rows[v]["begn"] + 9 * MIN, 1, prd=5, label=True)
    inj.label("drug_child", "成年参保人开具儿童专用药品", line=t)


def item_child(inj: Injector, i: int) -> None:
    p = inj.take()
    codes = inj.only("age", "儿童", drugs=False)
    v = inj.visit(p, "otp", inj.inst("h3", i=i + 1), inj.when(i, 4))
    inj.otp_lines(v)
    t = inj.line(v, int(codes[i % len(codes)]), inj.rows[v]["begn"] + 9 * MIN, label=True)
    inj.label("item_child", "成年参保人收取儿童专用项目", line=t)


def drug_hosp_lv(inj: Injector, i: int) -> None:
    p = inj.take()
    codes = inj.only("min_tier", 2)
    inst = inj.inst("chc", "thc", "vc", i=i)
    v = inj.visit(p, "otp", inst, inj.when(i, 5))
    inj.otp_lines(v)
    t = inj.line(v, int(codes[(i * 11) % len(codes)]), inj.rows[v]["begn"] + 9 * MIN, 1, prd=3, label=True)
    inj.label("drug_hosp_lv", "限二级及以上医疗机构使用的药品在一级/无等级机构结算", line=t)


def drug_med_type(inj: Injector, i: int) -> None:
    p = inj.take()
    codes = inj.only("med_type", "住院")
    v = inj.visit(p, "otp", inj.inst("h3", i=i), inj.when(i, 6))
    inj.otp_lines(v)
    t = inj.line(v, int(codes[(i * 7) % len(codes)]), inj.rows[v]["begn"] + 9 * MIN, 1, prd=1, label=True)
    inj.label("drug_med_type", "限住院使用的药品在门诊结算", line=t)


def drug_insutype(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    p = inj.take()
    codes = inj.only("insutype")
    v = inj.visit(p, "otp", inj.inst("h3", i=i + 2), inj.when(i, 7))
    inj.otp_lines(v)
    c = int(codes[(i * 5) % len(codes)])
    t = inj.line(v, c, inj.rows[v]["begn"] + 9 * MIN, 1, prd=1, label=True)
    inj.label("drug_insutype", f"限{cat.insutype[c]}保险药品由基本医保结算", line=t)


def drug_course(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    codes = inj.only("course_days")
    codes = codes[(cat.course_days[codes] >= 10) & (cat.course_days[codes] <= 20)]
    c = int(codes[(i * 17) % len(codes)])
    n = int(cat.course_days[c])
    p = inj.take()
    los = n + 4 + i % 3
    v = inj.visit(p, "ipt", inj.inst("h3", i=i), inj.when(i, 8), los=los, cond="stroke")
    inj.ipt_lines(v)
    day0 = np.datetime64(inj.rows[v]["begn"], "D")
    for d in range(los):
        when = (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(14 * 3600, "s")
        t = inj.line(v, c, when, 1, label=d >= n)
        if d >= n:
            inj.label("drug_course", f"限支付{n}天的药品在第{d + 1}天仍予结算", line=t)


def item_course(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    codes = inj.only("course_days", drugs=False)
    codes = codes[cat.course_days[codes] <= 60]
    c = int(codes[i % len(codes)])
    n = int(cat.course_days[c])
    p = inj.take()
    los = n + 4 + i % 3
    v = inj.visit(p, "ipt", inj.inst("h3", i=i + 1), inj.when(i, 9), los=los, cond="stroke", dept="A21")
    inj.ipt_lines(v)
    day0 = np.datetime64(inj.rows[v]["begn"], "D")
    for d in range(los):
        when = (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(15 * 3600, "s")
        t = inj.line(v, c, when, 1, label=d >= n)
        if d >= n:
            inj.label("item_course", f"限支付{n}天的项目在第{d + 1}天仍予结算", line=t)


def chronic_drug_scope(inj: Injector, i: int) -> None:
    """A 门诊慢特病 visit of a 病种 the curated chronic_disease_drug knowledge covers, billing besides its
    range drugs one more drug of a class the range covers (X 西药 / Z 中成药) that lies outside every range
    entry — the 病种's 门慢 settlement paying for another illness. The drug comes from the patient's
    background pool, so the range is the only restriction it breaks."""
    cat = inj.ctx.cat
    chronic = inj.ctx.clin.chronic
    keys = sorted(chronic)
    keys = keys[i % len(keys) :] + keys[: i % len(keys)]
    p = inj.take()
    person = inj.ctx.region.persons.loc[p]
    inst = inj.inst("h2", "h3", i=i)
    pool = cat.drug_pool(person["sex"], int(person["age"]), False, int(inj.ctx.tier[inst]))
    picks = {k: _outside_range(cat, pool, chronic[k][0]) for k in keys}
    # 病种 whose pick is not limited to one sex first: a diabetes drug on a hypertension visit, not a sex hormone
    ranked = [k for k in keys if (cat.gender[picks[k]] == "").any()] + [k for k in keys if len(picks[k])]
    if not ranked:
        raise ValueError("no billable drug outside any 门慢 病种's drug range")
    diag = chronic[ranked[0]]
    out = picks[ranked[0]]
    v = inj.visit(p, "chr", inst, inj.when(i, 30), diag=diag)
    inj.otp_lines(v)
    c = int(out[(i * 29) % len(out)])
    t = inj.line(v, c, inj.rows[v]["begn"] + 8 * MIN, 2, prd=30, label=True)
    inj.label("chronic_drug_scope", f"门诊慢特病（{diag[1]}）结算中开具病种用药范围外药品「{cat.name[c]}」", line=t)


def _outside_range(cat: Catalog, pool: np.ndarray, diag: str) -> np.ndarray:
    """Drugs of `pool` in a class (first letter) the 病种's range covers but outside every entry of it;
    only those not limited to one sex when there are any."""
    scope = cat.chronic_range(diag)
    codes = cat.code[pool].astype(str)
    covered = np.isin(np.array([c[:1] for c in codes]), sorted({s[:1] for s in scope}))
    inside = np.zeros(len(pool), bool)
    for s in scope:
        inside |= np.char.startswith(codes, s)
    out = pool[covered & ~inside]
    neutral = out[cat.gender[out] == ""]
    return neutral if len(neutral) else out
