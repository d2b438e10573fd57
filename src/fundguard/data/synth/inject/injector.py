"""Injected violations: for every scenario of fundguard.data.scenarios, k instances on persons that
have no background care (reserved before the background is generated), each labelled.

Each instance is a complete, otherwise clean visit (or set of visits) plus the one pattern the
scenario's signature describes, so a label points at exactly the object a rule should find. Where
one pattern necessarily shows another scenario too (挂床 with outpatient settlements during the stay;
冒名 with a gender-specific diagnosis), the second scenario is labelled as well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fundguard.data.scenarios import SCENARIOS_BY_ID
from fundguard.data.synth import catalog as C
from fundguard.data.synth.assemble import Assembled
from fundguard.data.synth.conditions import drg_weight
from fundguard.data.synth.context import INPATIENT_KINDS, Context
from fundguard.data.synth.frames import Lines, Visits

MIN = np.timedelta64(60, "s")
DAY = np.timedelta64(1, "D")

# Thresholds the injections exceed (and the background stays under); rule parameters must sit between.
FREQUENT_VISITS = 14  # outpatient visits in 28 days (background ≤ 8 in any 30 days; rule default > 10)
FREQUENT_PURCHASES = 12  # pharmacy purchases in 28 days (background ≤ 4 in any 30 days)
DOCTOR_HOUR_VISITS = 30  # distinct visits of one doctor in one clock hour (rule default > 12)
OVER_DAYS = 120  # prd_days on a chronic prescription (background ≤ 30; 长期处方 limit 84)
MAX_CHRONIC_DAYS = 84
PRICE_MARKUP = 1.3  # billed price / price cap


@dataclass
class Label:
    scenario: str
    note: str
    line: int = -1  # line tag
    visit: int = -1  # local visit index (mdtrt_id, setl_id)
    setl: str = "normal"  # normal | dup
    psn_no: str | None = None
    fixmedins_code: str | None = None
    bilg_dr_codg: str | None = None
    amount: float | None = None  # yuan; None = derive from the labelled object
    amount_part: float = 1.0  # share of the labelled line's in-scope amount at stake


@dataclass
class Injector:
    ctx: Context
    rng: np.random.Generator
    k: int
    rows: list[dict] = field(default_factory=list)
    lines: Lines = field(default_factory=Lines)
    labels: list[Label] = field(default_factory=list)
    fixed_equipment: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    _tag: int = 0
    _pool: dict[str, list[int]] = field(default_factory=dict)
    crowd: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)

    # ---- persons ----------------------------------------------------------------------------------
    def reserve(self) -> None:
        """Take persons out of the background and fix the drugs only injections may use."""
        psn = self.ctx.region.persons
        cand = psn[(psn["age"] >= 25) & (psn["age"] <= 70) & psn["die_date"].isna()]
        need_each = 32 * self.k + 10
        crowd_n = 40
        males = cand[cand["gend"] == "1"].index.to_numpy()
        females = cand[cand["gend"] == "2"].index.to_numpy()
        need = need_each + crowd_n // 2 + self.k * 5
        if len(males) < need or len(females) < need:
            raise ValueError(
                f"persons too few to inject {self.k} instances per scenario; use at least {need * 5} persons"
            )
        males = self.rng.permutation(males)[:need]
        females = self.rng.permutation(females)[:need]
        self.crowd = list(males[: crowd_n // 2]) + list(females[: crowd_n // 2])
        self._pool = {"1": list(males[crowd_n // 2 :]), "2": list(females[crowd_n // 2 :])}
        psn.loc[np.r_[males, females], "reserved"] = True
        # persons who die mid-period (post_death); their die_date is set here so psn_info carries it
        start = pd.Timestamp(self.ctx.region.start)
        period = (pd.Timestamp(self.ctx.region.end) - start).days
        for i in range(self.k):
            p = self.take(["1", "2"][i % 2])
            # dies ≥ 20 days into the period and ≥ 30 days before its end (the post-death visit stays inside)
            die = start + pd.Timedelta(days=20 + (i * 37) % max(1, period - 50))
            psn.loc[p, "die_date"] = die
            psn.loc[p, "psn_insu_stas"] = "3"
            self.dead.append(p)
        cat = self.ctx.cat
        # drugs withheld from the background for 串换 (no purchase will ever exist for them)
        female_only = np.flatnonzero(
            cat.is_drug
            & cat.formulary
            & (cat.gender == "女")
            & (cat.age == "")
            & (cat.med_type == "")
            & (cat.min_tier == 0)
            & (cat.course_days == 0)
            & (cat.insutype == "")
        )
        male_only = np.flatnonzero(
            cat.is_drug
            & cat.formulary
            & (cat.gender == "男")
            & (cat.age == "")
            & (cat.med_type == "")
            & (cat.min_tier == 0)
            & (cat.course_days == 0)
            & (cat.insutype == "")
        )
        cat.reserved_drugs = [int(female_only[0]), int(female_only[1]), int(male_only[0]), int(male_only[1])]
        cat._drug_pools.clear()

    def take(self, sex: str | None = None) -> int:
        sex = sex or ("1" if self.rng.random() < 0.5 else "2")
        return int(self._pool[sex].pop())

    # ---- building blocks ----------------------------------------------------------------------
    def _when(self, i: int, salt: int, hour: int = 9) -> np.datetime64:
        """A date spread over the period for instance i of a scenario."""
        months = self.ctx.region.months
        start = pd.Timestamp(self.ctx.region.start)
        m = (i * 5 + salt) % max(1, months - 1)
        d = start + pd.DateOffset(months=m) + pd.Timedelta(days=2 + (i * 7 + salt) % 20)
        return np.datetime64(d.to_pydatetime(), "s") + np.timedelta64(hour * 3600, "s")

    def inst(self, *kinds: str, i: int = 0) -> int:
        cand = self.ctx.insts(*kinds)
        return int(cand[i % len(cand)])

    def visit(
        self,
        psn: int,
        kind: str,
        inst: int,
        begn: np.datetime64,
        *,
        los: int = 0,
        diag: tuple[str, str] | None = None,
        diag2: tuple[str, str] | None = None,
        dept: str | None = None,
        cond: str | None = None,
        doc: int | None = None,
        **extra,
    ) -> int:
        ctx = self.ctx
        p = ctx.region.persons.loc[psn]
        conds = {c.key: k for k, c in enumerate(ctx.conds)}
        ci = conds[cond] if cond else -1
        if diag is None:
            if cond:
                diag = ctx.clin.cond_diags[cond][0]
            elif kind == "chr":
                diag = ctx.clin.chronic["htn"]
            elif kind == "ph":
                diag = (None, None)
            else:
                diag = ctx.clin.otp_neutral[int(self.rng.integers(0, len(ctx.clin.otp_neutral)))]
        if dept is None:
            dept = {"ph": "Y01", "er": "A16"}.get(kind, ctx.conds[ci].dept if cond else "A03")
            if ctx.kind[inst] in ("chc", "thc", "vc") and kind != "ph":
                dept = "A02"
        if doc is None:
            pool = ctx.doc_pool.get((inst, dept))
            if pool is None:
                pool = ctx.pharm_pool[inst] if dept == "Y01" else ctx.doc_pool.get((inst, "A02"), ctx.inst_docs[inst])
            doc = int(pool[int(self.rng.integers(0, len(pool)))])
            dept = str(ctx.prac_dept[doc])
        else:
            dept = str(ctx.prac_dept[doc])
        begn = np.datetime64(begn, "s")
        if kind in INPATIENT_KINDS:
            end = (begn.astype("datetime64[D]") + los * DAY).astype("datetime64[s]") + np.timedelta64(10 * 3600, "s")
        else:
            end = begn + 30 * MIN
        row = {
            "psn": psn,
            "kind": kind,
            "inst": inst,
            "doc": doc,
            "dept": dept,
            "begn": begn,
            "end": end,
            "los": los,
            "cond": ci,
            "diag1": diag[0],
            "diag1_name": diag[1],
            "diag2": diag2[0] if diag2 else None,
            "diag2_name": diag2[1] if diag2 else None,
            "tier": int(ctx.tier[inst]),
            "age": int(p["age"]),
            "sex": p["sex"],
            "dm": bool(p["dm"]),
            "month": -1,
        }
        row.update(extra)
        self.rows.append(row)
        return len(self.rows) - 1

    def line(
        self,
        v: int,
        code: str | int,
        when,
        cnt: float = 1,
        *,
        price: int | None = None,
        prd=None,
        label=False,
        noinv=False,
        tk=0,
    ) -> int:
        idx = self.ctx.cat.idx(code) if isinstance(code, str) else int(code)
        tag = -1
        if label:
            self._tag += 1
            tag = self._tag
        self.lines.add(
            v=[v],
            code=[idx],
            cnt=[cnt],
            time=[np.datetime64(when, "s")],
            prd_days=None if prd is None else [prd],
            dscg_tk=[tk],
            price=None if price is None else [price],
            tag=[tag],
            noinv=[noinv],
        )
        return tag

    def drug(self, v: int, inpatient: bool = False) -> int:
        r = self.rows[v]
        chronic = r["diag1"] if r["kind"] == "chr" else None  # 门慢: the 病种's drug range
        pool = self.ctx.cat.drug_pool(r["sex"], r["age"], inpatient, r["tier"], chronic_diag=chronic)
        return int(pool[int(self.rng.integers(0, len(pool)))])

    def otp_lines(self, v: int, drugs: int = 1) -> None:
        r = self.rows[v]
        consult = C.ER_CONSULT if r["kind"] == "er" else C.OTP_CONSULT
        if r["kind"] != "ph":
            self.line(v, consult, r["begn"] + 2 * MIN)
        for j in range(drugs):
            prd = 30 if r["kind"] == "chr" else 5
            self.line(v, self.drug(v), r["begn"] + (5 + j) * MIN, 2 if r["kind"] == "chr" else 1, prd=prd)

    def ipt_lines(self, v: int, basic_only_from: int | None = None, skip: set[tuple[int, str]] | None = None) -> None:
        """Daily bed/诊查/护理 and treatment lines of a stay; `basic_only_from` = day after which only basics."""
        r = self.rows[v]
        skip = skip or set()
        day0 = np.datetime64(r["begn"], "D")
        for d in range(r["los"]):
            t = (
                r["begn"] + 20 * MIN
                if d == 0
                else (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(8 * 3600, "s")
            )
            for code in (C.BED, C.IPT_CONSULT, C.NURSING):
                if (d, code) not in skip:
                    self.line(v, code, t)
            if basic_only_from is not None and d >= basic_only_from:
                continue
            self.line(v, self.drug(v, True), t + 60 * MIN, 2)
            if d == 0:
                for lab in self.ctx.cat.pools["lab"][:3]:
                    self.line(v, int(lab), t + 90 * MIN)
        if r["cond"] >= 0:
            op = self.ctx.conds[r["cond"]].op_item
            if op:
                t = (day0 + min(1, r["los"] - 1) * DAY).astype("datetime64[s]") + np.timedelta64(10 * 3600, "s")
                self.line(v, op, t)

    def label(self, scenario: str, note: str, **kw) -> None:
        self.labels.append(Label(scenario, note, **kw))

    # ---- scenarios ------------------------------------------------------------------------------
    def _only(self, col: str, value=None, drugs: bool = True) -> np.ndarray:
        """Codes whose only 两库 restriction is `col` (so a violation of it is the only one)."""
        cat = self.ctx.cat
        cols = {
            "gender": cat.gender != "",
            "age": cat.age != "",
            "med_type": cat.med_type != "",
            "min_tier": cat.min_tier > 0,
            "course_days": cat.course_days > 0,
            "insutype": cat.insutype != "",
        }
        if not drugs:
            cols.update(surgery=cat.surgery_group != "", freq=cat.freq_limit > 0, cycle=cat.cycle_days > 0)
        ok = (cat.is_drug == drugs) & cols[col]
        for c, m in cols.items():
            if c != col:
                ok &= ~m
        if value is not None:
            ok &= getattr(cat, col) == value
        ok[cat.reserved_drugs] = False
        return np.flatnonzero(ok)

    def build(self, accounts) -> tuple[Visits, Lines]:
        k = self.k
        ctx = self.ctx
        cat = ctx.cat
        h3 = lambda i: self.inst("h3", i=i)  # noqa: E731
        for i in range(k):
            # 1 药品限性别
            sex = "2" if i % 2 == 0 else "1"
            p = self.take(sex)
            codes = self._only("gender", "男" if sex == "2" else "女")
            v = self.visit(p, "otp", h3(i), self._when(i, 1))
            self.otp_lines(v)
            t = self.line(v, int(codes[(i * 37) % len(codes)]), self.rows[v]["begn"] + 9 * MIN, 1, prd=5, label=True)
            self.label(
                "drug_gender",
                f"{'女' if sex == '2' else '男'}性参保人开具限{'男' if sex == '2' else '女'}性药品",
                line=t,
            )
            # 2 项目限性别
            sex = "1" if i % 2 == 0 else "2"
            p = self.take(sex)
            codes = self._only("gender", "女" if sex == "1" else "男", drugs=False)
            codes = codes[np.char.startswith(cat.code[codes].astype(str), "002")]
            v = self.visit(p, "otp", h3(i + 1), self._when(i, 2))
            self.otp_lines(v)
            t = self.line(v, int(codes[(i * 13) % len(codes)]), self.rows[v]["begn"] + 12 * MIN, label=True)
            self.label(
                "item_gender",
                f"{'男' if sex == '1' else '女'}性参保人收取限{'女' if sex == '1' else '男'}性项目",
                line=t,
            )
            # 3 儿童药品用于成人
            p = self.take()
            codes = self._only("age", "儿童")
            v = self.visit(p, "otp", h3(i), self._when(i, 3))
            self.otp_lines(v)
            t = self.line(v, int(codes[(i * 53) % len(codes)]), self.rows[v]["begn"] + 9 * MIN, 1, prd=5, label=True)
            self.label("drug_child", "成年参保人开具儿童专用药品", line=t)
            # 4 儿童项目用于成人
            p = self.take()
            codes = self._only("age", "儿童", drugs=False)
            v = self.visit(p, "otp", h3(i + 1), self._when(i, 4))
            self.otp_lines(v)
            t = self.line(v, int(codes[i % len(codes)]), self.rows[v]["begn"] + 9 * MIN, label=True)
            self.label("item_child", "成年参保人收取儿童专用项目", line=t)
            # 5 限二级及以上药品在一级/无等级机构
            p = self.take()
            codes = self._only("min_tier", 2)
            inst = self.inst("chc", "thc", "vc", i=i)
            v = self.visit(p, "otp", inst, self._when(i, 5))
            self.otp_lines(v)
            t = self.line(v, int(codes[(i * 11) % len(codes)]), self.rows[v]["begn"] + 9 * MIN, 1, prd=3, label=True)
            self.label("drug_hosp_lv", "限二级及以上医疗机构使用的药品在一级/无等级机构结算", line=t)
            # 6 限住院药品门诊使用
            p = self.take()
            codes = self._only("med_type", "住院")
            v = self.visit(p, "otp", h3(i), self._when(i, 6))
            self.otp_lines(v)
            t = self.line(v, int(codes[(i * 7) % len(codes)]), self.rows[v]["begn"] + 9 * MIN, 1, prd=1, label=True)
            self.label("drug_med_type", "限住院使用的药品在门诊结算", line=t)
            # 7 工伤/生育限定药品由职工/居民医保结算
            p = self.take()
            codes = self._only("insutype")
            v = self.visit(p, "otp", h3(i + 2), self._when(i, 7))
            self.otp_lines(v)
            c = int(codes[(i * 5) % len(codes)])
            t = self.line(v, c, self.rows[v]["begn"] + 9 * MIN, 1, prd=1, label=True)
            self.label("drug_insutype", f"限{cat.insutype[c]}保险药品由基本医保结算", line=t)
            self._course_drug(i)
            self._course_item(i)
            self._frequency(i)
            self._cycle(i)
            self._dup_charge(i)
            self._surgery(i)
            self._over_price(i)
            self._swap(i)
            self._over_quantity(i)
            self._split(i)
            self._bed_hanging(i)
            self._fake_admission(i)
            self._impersonation(i)
            self._post_death(i)
            self._otp_during_ipt(i)
            self._ring(i)
            self._frequent(i)
            self._upcoding(i)
            self._dup_reimb(i)
            self._diag_gender(i)
        self._doctor_volume()
        self._device(accounts)
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        v = Visits.new(**{c: [r.get(c) for r in self.rows] for c in keys})
        for c in ("refund", "dup_setl", "died"):
            if c in v.df:
                v.df[c] = v.df[c].fillna(False).astype(bool)
        for c, d in (("setl_delay_min", 0), ("hosp_part", 0), ("level", 0), ("refund_min", -1)):
            v.df[c] = v.df[c].fillna(d).astype(int)
        return v, self.lines.done(self.rng, ctx)

    def _course_drug(self, i: int) -> None:
        cat = self.ctx.cat
        codes = self._only("course_days")
        codes = codes[(cat.course_days[codes] >= 10) & (cat.course_days[codes] <= 20)]
        c = int(codes[(i * 17) % len(codes)])
        n = int(cat.course_days[c])
        p = self.take()
        los = n + 4 + i % 3
        v = self.visit(p, "ipt", self.inst("h3", i=i), self._when(i, 8), los=los, cond="stroke")
        self.ipt_lines(v)
        day0 = np.datetime64(self.rows[v]["begn"], "D")
        for d in range(los):
            when = (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(14 * 3600, "s")
            t = self.line(v, c, when, 1, label=d >= n)
            if d >= n:
                self.label("drug_course", f"限支付{n}天的药品在第{d + 1}天仍予结算", line=t)

    def _course_item(self, i: int) -> None:
        cat = self.ctx.cat
        codes = self._only("course_days", drugs=False)
        codes = codes[cat.course_days[codes] <= 60]
        c = int(codes[i % len(codes)])
        n = int(cat.course_days[c])
        p = self.take()
        los = n + 4 + i % 3
        v = self.visit(p, "ipt", self.inst("h3", i=i + 1), self._when(i, 9), los=los, cond="stroke", dept="A21")
        self.ipt_lines(v)
        day0 = np.datetime64(self.rows[v]["begn"], "D")
        for d in range(los):
            when = (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(15 * 3600, "s")
            t = self.line(v, c, when, 1, label=d >= n)
            if d >= n:
                self.label("item_course", f"限支付{n}天的项目在第{d + 1}天仍予结算", line=t)

    def _frequency(self, i: int) -> None:
        cat = self.ctx.cat
        code = [C.BED, C.IPT_CONSULT, C.NURSING_1][i % 3]
        p = self.take()
        v = self.visit(p, "ipt", self.inst("h2", i=i), self._when(i, 10), los=6, cond="pneumonia")
        skip = {(2, code)} if code != C.NURSING_1 else set()
        self.ipt_lines(v, skip=skip)
        when = (np.datetime64(self.rows[v]["begn"], "D") + 2 * DAY).astype("datetime64[s]") + np.timedelta64(
            8 * 3600, "s"
        )
        limit = cat.freq_limit[cat.idx(code)]
        t = self.line(v, code, when, limit + 1, label=True)
        self.label(
            "item_frequency",
            f"限{int(limit)}次/日的项目单日收取{int(limit) + 1}次",
            line=t,
            amount_part=1 / (limit + 1),
        )

    def _cycle(self, i: int) -> None:
        p = self.take()
        inst = self.inst("h2", i=i + 1)
        dm = self.ctx.clin.chronic["dm"]
        first = self._when(i, 11)
        gap = 5 + i % 8
        v1 = self.visit(p, "chr", inst, first, diag=dm)
        self.otp_lines(v1)
        self.line(v1, C.HBA1C, first + 10 * MIN)
        v2 = self.visit(p, "chr", inst, first + gap * DAY, diag=dm)
        self.otp_lines(v2)
        t = self.line(v2, C.HBA1C, first + gap * DAY + 10 * MIN, label=True)
        self.label("item_cycle", f"限15天1次的项目间隔{gap}天再次收取", line=t)

    def _dup_charge(self, i: int) -> None:
        p = self.take()
        if i % 2 == 0:  # 急诊监护费 includes 诊查: the 急诊诊查费 is the 从项
            v = self.visit(p, "er", self.inst("h3", i=i), self._when(i, 12, hour=20))
            b = self.rows[v]["begn"]
            self.line(v, "001103000010000", b + MIN)
            t = self.line(v, C.ER_CONSULT, b + 2 * MIN, label=True)
            self.line(v, self.drug(v), b + 20 * MIN, 1, prd=2)
        else:  # 葡萄糖耐量试验 includes its 5 glucose measurements
            v = self.visit(p, "otp", self.inst("h3", i=i), self._when(i, 12))
            b = self.rows[v]["begn"]
            self.otp_lines(v)
            self.line(v, "003102050010100", b + 10 * MIN)
            t = self.line(v, "002503020010200", b + 40 * MIN, label=True)
        self.label("dup_charge", "同日收取重复收费项目对的主项与从项（从项违规）", line=t)

    def _surgery(self, i: int) -> None:
        cat = self.ctx.cat
        group = cat.surgery_group[cat.idx("003310060020000")]
        same = np.flatnonzero((cat.surgery_group == group) & (cat.gender == "") & ~cat.is_drug)
        same = [c for c in same if cat.code[c] != "003310060020000" and "胆" in cat.name[c]] or list(same)
        p = self.take()
        v = self.visit(p, "ipt", self.inst("h3", i=i), self._when(i, 13), los=6, cond="gallstone")
        self.ipt_lines(v)  # bills 胆囊切除术 at full price on day 1
        when = (np.datetime64(self.rows[v]["begn"], "D") + DAY).astype("datetime64[s]") + np.timedelta64(
            10 * 3600 + 600, "s"
        )
        t = self.line(v, int(same[i % len(same)]), when, label=True)
        self.label("surgery_discount", f"同一{group}第二项手术按全价收费", line=t, amount_part=0.5)

    def _over_price(self, i: int) -> None:
        cat = self.ctx.cat
        p = self.take()
        inst = self.inst("h2", "h1", i=i)
        v = self.visit(p, "otp", inst, self._when(i, 14))
        self.otp_lines(v)
        c = int(cat.pools["lab"][(i * 7) % len(cat.pools["lab"])])
        cap = int(cat.cap[c, self.ctx.tier[inst]])
        price = int(round(cap * PRICE_MARKUP / 10)) * 10
        t = self.line(v, c, self.rows[v]["begn"] + 8 * MIN, 1, price=price, label=True)
        self.label(
            "over_price",
            f"项目单价{price / 100:.2f}元超过本级限价{cap / 100:.2f}元",
            line=t,
            amount_part=(price - cap) / price,
        )

    def _swap(self, i: int) -> None:
        cat = self.ctx.cat
        sex = "2" if i % 2 == 0 else "1"
        p = self.take(sex)
        drugs = cat.reserved_drugs[:2] if sex == "2" else cat.reserved_drugs[2:]
        inst = self.inst("ph", i=i) if i % 3 else self.inst("h2", i=i)
        kind = "ph" if self.ctx.kind[inst] == "ph" else "otp"
        v = self.visit(p, kind, inst, self._when(i, 15))
        self.otp_lines(v)
        t = self.line(v, drugs[i % 2], self.rows[v]["begn"] + 6 * MIN, 2, prd=7, label=True, noinv=True)
        self.label("drug_swap", "结算药品当月无采购入库记录（进销存不符）", line=t)

    def _over_quantity(self, i: int) -> None:
        p = self.take()
        v = self.visit(p, "chr", self.inst("h2", "chc", i=i), self._when(i, 16))
        self.line(v, C.OTP_CONSULT, self.rows[v]["begn"] + MIN)
        t = self.line(v, self.drug(v), self.rows[v]["begn"] + 5 * MIN, 8, prd=OVER_DAYS, label=True)
        self.label(
            "over_quantity",
            f"慢特病门诊单次开药{OVER_DAYS}天，超过最大开药天数",
            line=t,
            amount_part=(OVER_DAYS - 30) / OVER_DAYS,
        )

    def _split(self, i: int) -> None:
        p = self.take()
        inst = self.inst("h2", i=i)
        diag = self.ctx.clin.cond_diags["pneumonia"][i % 2]
        v1 = self.visit(p, "ipt", inst, self._when(i, 17), los=6, cond="pneumonia", diag=diag)
        self.ipt_lines(v1)
        gap = 3 + i % 9
        b2 = (np.datetime64(self.rows[v1]["end"], "D") + gap * DAY).astype("datetime64[s]") + np.timedelta64(
            9 * 3600, "s"
        )
        v2 = self.visit(p, "ipt", inst, b2, los=5, cond="pneumonia", diag=diag)
        self.ipt_lines(v2)
        self.label("split_admission", f"出院{gap}天后同一机构同一主诊断再次入院", visit=v2)

    def _bed_hanging(self, i: int) -> None:
        p = self.take()
        inst = self.inst("h1", "h2", i=i)
        los = 18 + i % 5
        v = self.visit(p, "ipt", inst, self._when(i, 18), los=los, cond="copd")
        self.ipt_lines(v, basic_only_from=1)
        self.label("bed_hanging", f"住院{los}天除首日外仅有床位、诊查、护理费，且住院期间在外门诊/购药", visit=v)
        b = self.rows[v]["begn"]
        o1 = self.visit(
            p,
            "ph",
            self.inst("ph", i=i + 3),
            (np.datetime64(b, "D") + 5 * DAY).astype("datetime64[s]") + np.timedelta64(15 * 3600, "s"),
        )
        self.otp_lines(o1)
        o2 = self.visit(
            p,
            "otp",
            self.inst("vc", i=i),
            (np.datetime64(b, "D") + 11 * DAY).astype("datetime64[s]") + np.timedelta64(10 * 3600, "s"),
        )
        self.otp_lines(o2)
        for o in (o1, o2):
            self.label("otp_during_ipt", "挂床住院期间在其他机构门诊/购药结算", visit=o)

    def _fake_admission(self, i: int) -> None:
        inst = self.inst("h1", "thc", i=i)
        b = self._when(i, 19)
        diag = self.ctx.clin.cond_diags["copd"][0]
        drug = None
        sex = "1" if i % 2 else "2"  # one sex per cluster: the shared drug must fit every member
        for j in range(5):
            p = self.take(sex)
            v = self.visit(p, "ipt", inst, b + (j % 3) * DAY + j * 37 * MIN, los=7, cond="copd", diag=diag)
            r = self.rows[v]
            day0 = np.datetime64(r["begn"], "D")
            if drug is None:
                drug = self.drug(v, True)
            for d in range(7):
                t = (
                    r["begn"] + 20 * MIN
                    if d == 0
                    else (day0 + d * DAY).astype("datetime64[s]") + np.timedelta64(8 * 3600, "s")
                )
                for code in (C.BED, C.IPT_CONSULT, C.NURSING):
                    self.line(v, code, t)
                self.line(v, drug, t + 60 * MIN, 3)
            self.label("fake_admission", f"同一机构{3}天内{5}人同诊断入院、费用几乎相同", visit=v)

    def _impersonation(self, i: int) -> None:
        p = self.take("1")
        b = self._when(i, 20, hour=9)
        a = self.visit(p, "otp", self.inst("h3", i=i), b)
        self.otp_lines(a)
        fem = self.ctx.clin.otp_female[i % len(self.ctx.clin.otp_female)]
        other = self.inst("h2", i=i + 1)
        v = self.visit(p, "otp", other, b + 40 * MIN, diag=fem, dept="A05")
        self.otp_lines(v)
        self.label("impersonation", "男性参保人同一时段在另一机构以女性诊断就诊（疑冒名）", visit=v)
        self.label("diag_gender", "男性参保人诊断为女性疾病", visit=v)

    def _post_death(self, i: int) -> None:
        p = self.dead[i]
        die = np.datetime64(self.ctx.region.persons.loc[p, "die_date"], "D")
        before = self.visit(
            p, "otp", self.inst("h2", i=i), (die - 20 * DAY).astype("datetime64[s]") + np.timedelta64(9 * 3600, "s")
        )
        self.otp_lines(before)
        after = die + (3 + i % 20) * DAY
        kind = "ph" if i % 2 else "otp"
        inst = self.inst("ph", i=i) if kind == "ph" else self.inst("chc", "thc", i=i)
        v = self.visit(p, kind, inst, after.astype("datetime64[s]") + np.timedelta64(10 * 3600, "s"))
        self.otp_lines(v, drugs=2)
        self.label("post_death", "参保人死亡后仍发生结算", visit=v)

    def _otp_during_ipt(self, i: int) -> None:
        p = self.take()
        s = self.visit(p, "ipt", self.inst("h2", i=i), self._when(i, 21), los=9, cond="pneumonia")
        self.ipt_lines(s)
        b = (np.datetime64(self.rows[s]["begn"], "D") + 4 * DAY).astype("datetime64[s]") + np.timedelta64(
            16 * 3600, "s"
        )
        kind = "ph" if i % 2 else "otp"
        v = self.visit(p, kind, self.inst("ph", i=i + 1) if kind == "ph" else self.inst("vc", "chc", i=i), b)
        self.otp_lines(v)
        self.label("otp_during_ipt", "住院期间在其他机构门诊/药店结算", visit=v)

    def _ring(self, i: int) -> None:
        """A same-sex group cycling one drug through pharmacies: buy, refund within minutes, buy again."""
        members = [self.take("2") for _ in range(4)]
        start = self._when(i, 22, hour=10)
        drug = None
        for n, p in enumerate(members):
            for cyc in range(3):
                b = start + (cyc * 15) * DAY + n * 13 * MIN
                ph1 = self.inst("ph", i=i + cyc)
                ph2 = self.inst("ph", i=i + cyc + 1)
                v1 = self.visit(p, "ph", ph1, b, refund=True, refund_min=6)
                if drug is None:
                    drug = self.drug(v1)
                self.line(v1, drug, b + MIN, 5, prd=7)
                v2 = self.visit(p, "ph", ph2, b + 40 * MIN)
                self.line(v2, drug, b + 41 * MIN, 5, prd=7)
            self.label(
                "card_cashing_ring",
                "团伙在多家药店反复购药—退费—再购同一药品",
                psn_no=self.ctx.region.persons.loc[p, "psn_no"],
            )

    def _frequent(self, i: int) -> None:
        p = self.take()
        b = self._when(i, 23)
        vs = []
        for j in range(FREQUENT_VISITS):
            v = self.visit(p, "otp", self.inst("vc", "chc", i=i + j % 3), b + (j * 2) * DAY + (j % 3) * 60 * MIN)
            self.otp_lines(v)
            vs.append(v)
        self.label(
            "frequent_visits",
            f"{2 * FREQUENT_VISITS}天内门诊就诊{FREQUENT_VISITS}次",
            psn_no=self.ctx.region.persons.loc[p, "psn_no"],
            amount=None,
            visit=-1,
        )
        self._person_visits[("frequent_visits", len(self.labels) - 1)] = vs[10:]
        p = self.take()
        b = self._when(i, 24)
        vs = []
        for j in range(FREQUENT_PURCHASES):
            v = self.visit(p, "ph", self.inst("ph", i=i + j % 4), b + (j * 2) * DAY + 5 * 60 * MIN)
            self.otp_lines(v)
            vs.append(v)
        self.label(
            "frequent_purchase",
            f"{2 * FREQUENT_PURCHASES}天内药店购药{FREQUENT_PURCHASES}次",
            psn_no=self.ctx.region.persons.loc[p, "psn_no"],
        )
        self._person_visits[("frequent_purchase", len(self.labels) - 1)] = vs

    def _upcoding(self, i: int) -> None:
        kn = self.ctx.kn
        p = self.take()
        mcc = [c for c in self.ctx.clin.cc if c[2] == "MCC"][0]
        drg_hi = self.ctx.clin.drg[("ES3", 2)]
        drg_lo = self.ctx.clin.drg[("ES3", 0)]
        v = self.visit(
            p,
            "ipt",
            self.inst("h3", i=i),
            self._when(i, 25),
            los=3,
            cond="pneumonia",
            diag2=mcc[:2],
            level=2,
            drg=drg_hi,
        )
        self.ipt_lines(v, basic_only_from=1)
        ins = self.ctx.region.persons.loc[p, "insutype"]
        rate = kn.drg_rates["职工" if ins == "310" else "居民"]
        gain = (drg_weight(kn, drg_hi) - drg_weight(kn, drg_lo)) * rate
        self.label(
            "drg_upcoding", f"次要诊断{mcc[1]}无相应诊疗，按{drg_hi}而非{drg_lo}付费", visit=v, amount=round(gain, 2)
        )

    def _dup_reimb(self, i: int) -> None:
        p = self.take()
        v = self.visit(p, "otp", self.inst("h2", i=i), self._when(i, 26), dup_setl=True)
        self.otp_lines(v, drugs=2)
        self.label("dup_reimbursement", "同一就诊费用两次结算报销", visit=v, setl="dup")

    def _diag_gender(self, i: int) -> None:
        sex = "1" if i % 2 == 0 else "2"
        p = self.take(sex)
        pool = self.ctx.clin.otp_female if sex == "1" else self.ctx.clin.otp_male
        v = self.visit(p, "otp", self.inst("h2", i=i + 2), self._when(i, 27), diag=pool[i % len(pool)])
        self.otp_lines(v)
        self.label(
            "diag_gender", f"{'男' if sex == '1' else '女'}性参保人诊断为{'女' if sex == '1' else '男'}性疾病", visit=v
        )

    def _doctor_volume(self) -> None:
        for i in range(min(self.k, 5)):
            inst = self.inst("h3", i=i)
            pool = self.ctx.doc_pool[(inst, "A03")]
            doc = int(pool[(i * 7) % len(pool)])  # a different doctor per instance
            hour = self._when(i, 28, hour=10)
            vs = []
            for j in range(DOCTOR_HOUR_VISITS):
                p = self.crowd[j % len(self.crowd)]
                v = self.visit(p, "otp", inst, hour + int(j * 50 / DOCTOR_HOUR_VISITS) * MIN, doc=doc)
                b = self.rows[v]["begn"]
                self.line(v, C.OTP_CONSULT, b + MIN)
                self.line(v, self.drug(v), b + 2 * MIN, 1, prd=3)
                vs.append(v)
            code = self.ctx.region.practitioners["prac_code"].iloc[doc]
            self.label(
                "doctor_volume",
                f"医师一小时内接诊{DOCTOR_HOUR_VISITS}人次",
                bilg_dr_codg=code,
                fixmedins_code=self.ctx.region.institutions["fixmedins_code"].iloc[inst],
            )
            self._person_visits[("doctor_volume", len(self.labels) - 1)] = vs

    def _device(self, accounts) -> None:
        cat = self.ctx.cat
        load = accounts.load()
        for i in range(min(self.k, 3, len(self.ctx.insts("chc", "thc")))):
            inst = self.inst("chc", "thc", i=i)  # a different institution per instance
            bg = load[(load["inst"] == inst) & (load["equip"] == "BIOCHEM")]["cnt"]
            bg_max = int(bg.max()) if len(bg) else 0
            tests = 2 * bg_max + 60
            per = 8
            n_visits = int(np.ceil(tests / per))
            day = self._when(i, 29, hour=8)
            labs = cat.pools["lab_biochem"]
            vs = []
            for j in range(n_visits):
                p = self.crowd[(j + 7 * i) % len(self.crowd)]
                v = self.visit(p, "otp", inst, day + (j * 20) * MIN)
                b = self.rows[v]["begn"]
                self.line(v, C.OTP_CONSULT, b + MIN)
                for lab in self.rng.choice(labs, per, replace=False):
                    self.line(v, int(lab), b + 5 * MIN)
                vs.append(v)
            cap = bg_max + (n_visits * per) // 2
            self.fixed_equipment[(inst, "BIOCHEM")] = (1, cap)
            self.label(
                "device_capacity",
                f"单日生化检验{n_visits * per}+项次，超过设备产能{cap}项次/日",
                fixmedins_code=self.ctx.region.institutions["fixmedins_code"].iloc[inst],
            )
            self._person_visits[("device_capacity", len(self.labels) - 1)] = vs
            self._device_excess[len(self.labels) - 1] = (n_visits * per - cap) / (n_visits * per)

    _person_visits: dict = field(default_factory=dict)
    _device_excess: dict = field(default_factory=dict)

    # ---- labels → ground truth ----------------------------------------------------------------
    def ground_truth(self, a: Assembled, lines: Lines, visits: Visits) -> pd.DataFrame:
        ctx = self.ctx
        L = lines.df
        V = visits.df
        tag_row = {int(t): r for r, t in enumerate(L["tag"].to_numpy()) if t >= 0}
        inst_code = ctx.region.institutions["fixmedins_code"].to_numpy()
        prac_code = ctx.region.practitioners["prac_code"].to_numpy()
        psn_no = ctx.region.persons["psn_no"].to_numpy()
        st = a.tables["setl_d"]
        setl = pd.DataFrame({k: st[k] for k in ("setl_id", "fund_pay_sumamt", "inscp_scp_amt")}).set_index("setl_id")
        rows = []
        for n, lab in enumerate(self.labels):
            sc = SCENARIOS_BY_ID[lab.scenario]
            row = {
                "scenario": sc.id,
                "scenario_zh": sc.zh,
                "unit": sc.unit,
                "rule_codes": ",".join(sc.rule_codes),
                "setl_id": None,
                "mdtrt_id": None,
                "feedetl_sn": None,
                "psn_no": lab.psn_no,
                "fixmedins_code": lab.fixmedins_code,
                "bilg_dr_codg": lab.bilg_dr_codg,
                "amount_at_stake": lab.amount,
                "note": lab.note,
            }
            if lab.line >= 0:
                r = tag_row[lab.line]
                vi = int(L["v"].iat[r])
                row.update(
                    feedetl_sn=a.line_sn[r],
                    setl_id=a.visit_setl[vi],
                    mdtrt_id=a.visit_mdtrt[vi],
                    psn_no=psn_no[int(V["psn"].iat[vi])],
                    fixmedins_code=inst_code[int(V["inst"].iat[vi])],
                    bilg_dr_codg=prac_code[int(V["doc"].iat[vi])],
                    amount_at_stake=round(a.line_inscp[r] * lab.amount_part / 100, 2),
                )
            elif lab.visit >= 0:
                vi = lab.visit
                sid = a.visit_dup_setl[vi] if lab.setl == "dup" else a.visit_setl[vi]
                row.update(
                    setl_id=sid,
                    mdtrt_id=a.visit_mdtrt[vi],
                    psn_no=psn_no[int(V["psn"].iat[vi])],
                    fixmedins_code=inst_code[int(V["inst"].iat[vi])],
                    bilg_dr_codg=prac_code[int(V["doc"].iat[vi])],
                )
                if lab.amount is None:
                    field_ = "fund_pay_sumamt" if sc.unit == "settlement" else "inscp_scp_amt"
                    row["amount_at_stake"] = float(setl.loc[sid, field_])
            else:
                vs = self._person_visits.get((lab.scenario, n), [])
                if lab.amount is None:
                    share = self._device_excess.get(n, 1.0)
                    row["amount_at_stake"] = round(float(sum(a.visit_inscp[x] for x in vs)) * share / 100, 2)
                if lab.scenario == "card_cashing_ring":
                    mine = V.index[
                        (V["psn"].to_numpy() == np.flatnonzero(psn_no == lab.psn_no)[0]) & ~V["refund"].to_numpy()
                    ]
                    row["amount_at_stake"] = round(float(sum(a.visit_inscp[x] for x in mine)) / 100, 2)
            rows.append(row)
        return pd.DataFrame(rows)


def instances(persons: int) -> int:
    """Instances per scenario: 3 for a demo region, growing slowly with its size."""
    return int(max(3, min(60, round(persons / 5000))))


__all__ = ["Injector", "instances", "dt"]
