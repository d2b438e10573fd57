"""The injector: reserves persons, builds visits and lines with the same building blocks the scenario
families use, runs every scenario k times in a fixed order and turns its labels into ground truth.

Each instance is a complete, otherwise clean visit (or set of visits) plus the one pattern the
scenario's signature describes, so a label points at exactly the object a rule should find. Where
one pattern necessarily shows another scenario too (挂床 with outpatient settlements during the stay;
冒名 with a gender-specific diagnosis), the second scenario is labelled as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fundguard.data.synth import catalog as C
from fundguard.data.synth.assemble import Assembled
from fundguard.data.synth.context import INPATIENT_KINDS, Context
from fundguard.data.synth.frames import Lines, Visits
from fundguard.data.synth.inject import billing, fraud, management, policy, truth
from fundguard.data.synth.inject.base import DAY, MIN, Label

# Per-instance scenarios in the order they are built: the order fixes which reserved person and which
# random draws each instance gets, so it is part of the region's identity (same seed → same files).
PER_INSTANCE: tuple[Callable[..., None], ...] = (
    policy.drug_gender,
    policy.item_gender,
    policy.drug_child,
    policy.item_child,
    policy.drug_hosp_lv,
    policy.drug_med_type,
    policy.drug_insutype,
    policy.drug_course,
    policy.item_course,
    billing.item_frequency,
    billing.item_cycle,
    billing.dup_charge,
    billing.surgery_discount,
    billing.over_price,
    management.drug_swap,
    billing.over_quantity,
    management.split_admission,
    fraud.bed_hanging,
    fraud.fake_admission,
    fraud.impersonation,
    management.post_death,
    management.otp_during_ipt,
    fraud.card_cashing_ring,
    management.frequent_visits,
    management.frequent_purchase,
    fraud.drg_upcoding,
    management.dup_reimbursement,
    management.diag_gender,
    policy.chronic_drug_scope,
    management.late_upload,
)


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
    person_visits: dict = field(default_factory=dict)  # (scenario, label n) → visits its amount sums
    device_excess: dict = field(default_factory=dict)  # label n → share of the day's tests above capacity

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
    def when(self, i: int, salt: int, hour: int = 9) -> np.datetime64:
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

    def only(self, col: str, value=None, drugs: bool = True) -> np.ndarray:
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

    # ---- scenarios ------------------------------------------------------------------------------
    def build(self, accounts) -> tuple[Visits, Lines]:
        for i in range(self.k):
            for scenario in PER_INSTANCE:
                scenario(self, i)
        fraud.doctor_volume(self)
        fraud.device_capacity(self, accounts)
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        v = Visits.new(**{c: [r.get(c) for r in self.rows] for c in keys})
        for c in ("refund", "dup_setl", "died"):
            if c in v.df:
                v.df[c] = v.df[c].fillna(False).astype(bool)
        for c, d in (("setl_delay_min", 0), ("hosp_part", 0), ("level", 0), ("refund_min", -1)):
            v.df[c] = v.df[c].fillna(d).astype(int)
        return v, self.lines.done(self.rng, self.ctx)

    # ---- labels → ground truth ----------------------------------------------------------------
    def ground_truth(self, a: Assembled, lines: Lines, visits: Visits) -> pd.DataFrame:
        return truth.ground_truth(self, a, lines, visits)


def instances(persons: int) -> int:
    """Instances per scenario: 3 for a demo region, growing slowly with its size."""
    return int(max(3, min(60, round(persons / 5000))))
