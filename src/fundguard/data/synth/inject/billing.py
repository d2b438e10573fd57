"""政策类 charging patterns: a service billed more often, at a higher price or together with what it
includes, and a prescription longer than the maximum days."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundguard.data.synth import catalog as C
from fundguard.data.synth.inject.base import DAY, MIN, OVER_DAYS, PRICE_MARKUP

if TYPE_CHECKING:
    from fundguard.data.synth.inject.injector import Injector


def item_frequency(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    code = [C.BED, C.IPT_CONSULT, C.NURSING_1][i % 3]
    p = inj.take()
    v = inj.visit(p, "ipt", inj.inst("h2", i=i), inj.when(i, 10), los=6, cond="pneumonia")
    skip = {(2, code)} if code != C.NURSING_1 else set()
    inj.ipt_lines(v, skip=skip)
    when = (np.datetime64(inj.rows[v]["begn"], "D") + 2 * DAY).astype("datetime64[s]") + np.timedelta64(8 * 3600, "s")
    limit = cat.freq_limit[cat.idx(code)]
    t = inj.line(v, code, when, limit + 1, label=True)
    inj.label(
        "item_frequency",
        f"限{int(limit)}次/日的项目单日收取{int(limit) + 1}次",
        line=t,
        amount_part=1 / (limit + 1),
    )


def item_cycle(inj: Injector, i: int) -> None:
    p = inj.take()
    inst = inj.inst("h2", i=i + 1)
    dm = inj.ctx.clin.chronic["dm"]
    first = inj.when(i, 11)
    gap = 5 + i % 8
    v1 = inj.visit(p, "chr", inst, first, diag=dm)
    inj.otp_lines(v1)
    inj.line(v1, C.HBA1C, first + 10 * MIN)
    v2 = inj.visit(p, "chr", inst, first + gap * DAY, diag=dm)
    inj.otp_lines(v2)
    t = inj.line(v2, C.HBA1C, first + gap * DAY + 10 * MIN, label=True)
    inj.label("item_cycle", f"限15天1次的项目间隔{gap}天再次收取", line=t)


def dup_charge(inj: Injector, i: int) -> None:
    p = inj.take()
    if i % 2 == 0:  # 急诊监护费 includes 诊查: the 急诊诊查费 is the 从项
        v = inj.visit(p, "er", inj.inst("h3", i=i), inj.when(i, 12, hour=20))
        b = inj.rows[v]["begn"]
        inj.line(v, "001103000010000", b + MIN)
        t = inj.line(v, C.ER_CONSULT, b + 2 * MIN, label=True)
        inj.line(v, inj.drug(v), b + 20 * MIN, 1, prd=2)
    else:  # 葡萄糖耐量试验 includes its 5 glucose measurements
        v = inj.visit(p, "otp", inj.inst("h3", i=i), inj.when(i, 12))
        b = inj.rows[v]["begn"]
        inj.otp_lines(v)
        inj.line(v, "003102050010100", b + 10 * MIN)
        t = inj.line(v, "002503020010200", b + 40 * MIN, label=True)
    inj.label("dup_charge", "同日收取重复收费项目对的主项与从项（从项违规）", line=t)


def surgery_discount(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    group = cat.surgery_group[cat.idx("003310060020000")]
    same = np.flatnonzero((cat.surgery_group == group) & (cat.gender == "") & ~cat.is_drug)
    same = [c for c in same if cat.code[c] != "003310060020000" and "胆" in cat.name[c]] or list(same)
    p = inj.take()
    v = inj.visit(p, "ipt", inj.inst("h3", i=i), inj.when(i, 13), los=6, cond="gallstone")
    inj.ipt_lines(v)  # bills 胆囊切除术 at full price on day 1
    when = (np.datetime64(inj.rows[v]["begn"], "D") + DAY).astype("datetime64[s]") + np.timedelta64(
        10 * 3600 + 600, "s"
    )
    t = inj.line(v, int(same[i % len(same)]), when, label=True)
    inj.label("surgery_discount", f"同一{group}第二项手术按全价收费", line=t, amount_part=0.5)


def over_price(inj: Injector, i: int) -> None:
    cat = inj.ctx.cat
    p = inj.take()
    inst = inj.inst("h2", "h1", i=i)
    v = inj.visit(p, "otp", inst, inj.when(i, 14))
    inj.otp_lines(v)
    c = int(cat.pools["lab"][(i * 7) % len(cat.pools["lab"])])
    cap = int(cat.cap[c, inj.ctx.tier[inst]])
    price = int(round(cap * PRICE_MARKUP / 10)) * 10
    t = inj.line(v, c, inj.rows[v]["begn"] + 8 * MIN, 1, price=price, label=True)
    inj.label(
        "over_price",
        f"项目单价{price / 100:.2f}元超过本级限价{cap / 100:.2f}元",
        line=t,
        amount_part=(price - cap) / price,
    )


def over_quantity(inj: Injector, i: int) -> None:
    p = inj.take()
    v = inj.visit(p, "chr", inj.inst("h2", "chc", i=i), inj.when(i, 16))
    inj.line(v, C.OTP_CONSULT, inj.rows[v]["begn"] + MIN)
    t = inj.line(v, inj.drug(v), inj.rows[v]["begn"] + 5 * MIN, 8, prd=OVER_DAYS, label=True)
    inj.label(
        "over_quantity",
        f"慢特病门诊单次开药{OVER_DAYS}天，超过最大开药天数",
        line=t,
        amount_part=(OVER_DAYS - 30) / OVER_DAYS,
    )
