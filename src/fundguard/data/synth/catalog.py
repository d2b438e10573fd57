"""The region's chargeable catalogue: every drug and service code a fee line may carry, with price,
class (甲/乙/丙), charge category, device type and the 两库 restrictions, as parallel numpy arrays.

Background pools only contain codes whose use can be kept inside every restriction the rules know
(gender, child-only, care setting, hospital level, frequency, cycle, payment course, 重复收费 pairs,
主次手术 groups). Codes with restrictions the background cannot honour cheaply (payment course,
工伤/生育 insurance) are only billed by the injected scenarios.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from fundguard.data.synth.knowledge import Knowledge

# Hospital tier → share of the tier-3 price cap (a region prices lower levels lower).
TIER_PRICE = {3: 1.0, 2: 0.9, 1: 0.8, 0: 0.7}

# Device type of a test: curated item_equip (resources/curated/item_equip.csv), longest prefix wins.
EQUIP_NAMES = {
    "BIOCHEM": "全自动生化分析仪",
    "IMMUNO": "化学发光免疫分析仪",
    "HEMA": "血细胞分析仪",
    "DR": "数字X线摄影系统",
    "CT": "X线计算机体层摄影设备",
    "MRI": "磁共振成像设备",
    "US": "彩色多普勒超声诊断仪",
    "DIALYSIS": "血液透析机",
}
# Tests one device can do in a day (typical vendor figures for an 8-hour day).
EQUIP_DAILY_CAPACITY = {
    "BIOCHEM": 2400,
    "IMMUNO": 600,
    "HEMA": 800,
    "DR": 120,
    "CT": 100,
    "MRI": 40,
    "US": 60,
    "DIALYSIS": 3,
}

# Fixed codes the visit builders need (all from the shipped 两库 item batches).
OTP_CONSULT = "001102000010000"  # 普通门诊诊查费
ER_CONSULT = "001102000030000"  # 急诊诊查费
IPT_CONSULT = "001102000050000"  # 住院诊查费 (1/日)
BED = "001109000010000"  # 普通病房床位费 (1/日)
BED_SINGLE = "001109000010100"  # 普通病房床位费(单人间), billed 丙类 (patient's choice)
NURSING = "001201000040000"  # Ⅱ级护理
NURSING_1 = "001201000030000"  # Ⅰ级护理 (1/日)
ECG_MONITOR = "003107010220000"  # 心电监测 (24 小时/日)
SPO2_MONITOR = "003107010280000"  # 血氧饱和度监测 (24 小时/日)
HBA1C = "002503020030200"  # 糖化血红蛋白测定(各种免疫学方法): 1 per 15 days

# med_chrgitm_type by service code prefix.
_CHRG_PREFIX = [
    ("0011020", "02"),
    ("0011090", "01"),
    ("0012", "07"),
    ("0025", "04"),
    ("0021", "03"),
    ("0022", "03"),
    ("0023", "03"),
    ("0024", "03"),
    ("0033", "06"),
    ("003", "05"),
    ("004", "05"),
    ("", "14"),
]
# Price range (yuan, tier-3 cap) by prefix.
_PRICE_PREFIX = [
    ("0011020", 8, 30),
    ("0011090", 40, 90),
    ("0012", 15, 45),
    ("0025", 5, 60),
    ("0021", 30, 160),
    ("0022", 60, 260),
    ("0023", 80, 320),
    ("0024", 100, 420),
    ("0033", 600, 5200),
    ("0031", 15, 260),
    ("0034", 20, 90),
    ("004", 20, 110),
    ("", 20, 120),
]


def _u(code: str, salt: str = "") -> float:
    """A stable uniform [0,1) per code (independent of the seed: a region's price list is fixed)."""
    return (zlib.crc32((salt + code).encode()) & 0xFFFFFFFF) / 2**32


def _by_prefix(code: str, table):
    for row in table:
        if code.startswith(row[0]):
            return row[1:]
    raise KeyError(code)


def longest_prefix(code: str, table: dict[str, object]):
    best = ""
    for p in table:
        if code.startswith(p) and len(p) > len(best):
            best = p
    return table.get(best) if best else None


def item_price_cap(code: str) -> int:
    """Tier-3 price cap in cents, rounded to 0.5 yuan."""
    lo, hi = _by_prefix(code, _PRICE_PREFIX)
    yuan = lo + (hi - lo) * _u(code, "price")
    return int(round(yuan * 2)) * 50


def tier_cap(cap3: int, tier: int) -> int:
    return int(round(cap3 * TIER_PRICE[tier] / 50)) * 50


@dataclass
class Catalog:
    """All chargeable codes as arrays; index = code id used by the line builders."""

    code: np.ndarray
    name: np.ndarray
    is_drug: np.ndarray
    list_type: np.ndarray
    chrgitm_type: np.ndarray
    lv: np.ndarray  # '01' | '02' | '03'
    selfpay_prop: np.ndarray  # float
    cap: np.ndarray  # (n, 4) cents by tier 0..3 (drugs: same price everywhere)
    equip: np.ndarray  # equip_type or ''
    gender: np.ndarray  # '' | '男' | '女'
    age: np.ndarray  # '' | '儿童' | '新生儿' | '婴幼儿'
    med_type: np.ndarray  # drugs: '' | '住院'
    min_tier: np.ndarray  # int, 0 = none
    course_days: np.ndarray  # int, 0 = none
    insutype: np.ndarray  # '' | '工伤' | '生育'
    surgery_group: np.ndarray
    freq_limit: np.ndarray  # float, 0 = none
    cycle_days: np.ndarray  # int, 0 = none
    child_forbid_age: np.ndarray  # drugs forbidden under this age (curated 儿童禁用), 0 = none
    index: dict[str, int] = field(default_factory=dict)
    pools: dict[str, np.ndarray] = field(default_factory=dict)
    _drug_pools: dict[tuple, np.ndarray] = field(default_factory=dict)
    reserved_drugs: list[int] = field(default_factory=list)

    def idx(self, code: str) -> int:
        return self.index[code]

    def chronic_range(self, diag: str | None) -> tuple[str, ...]:
        """Drug codes / code prefixes covered for the 门慢 病种 a diagnosis falls under (curated
        chronic_disease_drug, matched on its ICD-10 prefixes as the rule does); () when none applies."""
        if not diag:
            return ()
        return tuple(sorted({r for p, rs in self.chronic_drugs.items() if diag.startswith(p) for r in rs}))

    def drug_pool(self, sex: str, age: int, inpatient: bool, tier: int, chronic_diag: str | None = None) -> np.ndarray:
        """Formulary drugs a background line may carry for this patient and setting.

        On a 门诊慢特病 visit (`chronic_diag` = its diagnosis) a drug comes from the 病种's drug range,
        as a 门慢 settlement bills the disease's list; where the formulary has no billable drug in the
        range for this patient and tier, from a drug class (first letter: X 西药 / Z 中成药) that the
        range does not cover, which the national list leaves to the local one.
        """
        rng_ = self.chronic_range(chronic_diag)
        if rng_:
            key = ("chronic", rng_, sex, age <= 12, age >= 18, inpatient, tier)
            pool = self._drug_pools.get(key)
            if pool is None:
                base = self.drug_pool(sex, age, inpatient, tier)
                codes = self.code[base].astype(str)
                in_range = np.zeros(len(base), bool)
                for r in rng_:
                    in_range |= np.char.startswith(codes, r)
                if not in_range.any():
                    covered = {r[0] for r in rng_}
                    in_range = np.array([c[:1] not in covered for c in codes], bool)
                pool = base[in_range]
                if not len(pool):
                    raise ValueError(f"no billable drug for 门慢 diagnosis {chronic_diag} (tier {tier})")
                self._drug_pools[key] = pool
            return pool
        child = age <= 12
        key = (sex, child, age >= 18, inpatient, tier)
        pool = self._drug_pools.get(key)
        if pool is None:
            ok = self.is_drug & (self.course_days == 0) & (self.insutype == "") & self.formulary
            ok &= self.indication == ""  # 限适应症 drugs would need a fitting diagnosis on the visit
            ok &= (self.gender == "") | (self.gender == sex)
            ok &= (self.age == "") | ((self.age == "儿童") & child)
            if child:  # children get children's drugs, not the adult gender-specific ones
                ok &= self.gender == ""
            ok &= (self.med_type == "") | ((self.med_type == "住院") & inpatient)
            ok &= self.min_tier <= tier
            ok &= self.child_forbid_age <= age
            ok[self.reserved_drugs] = False
            pool = np.flatnonzero(ok)
            self._drug_pools[key] = pool
        return pool

    formulary: np.ndarray = field(default=None)  # type: ignore[assignment]
    chronic_drugs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # 病种 ICD-10 prefix → drug range
    # drugs: NRDL 限适应症 ICD-10 prefixes ('' = none; facts/drugs.csv column `indication` when present)
    indication: np.ndarray = field(default=None)  # type: ignore[assignment]
    item_indications: dict[str, tuple[str, ...]] = field(default_factory=dict)  # item code prefix → ICD-10 prefixes

    def indicated(self, code: str, diags: np.ndarray) -> np.ndarray:
        """Per diagnosis: may `code` be billed on a visit with it (curated item_indication, longest prefix;
        an item without indication knowledge fits any diagnosis)."""
        icd = longest_prefix(code, self.item_indications)
        d = np.asarray(diags, object)
        if icd is None:
            return np.ones(len(d), bool)
        return np.array([isinstance(x, str) and x.startswith(icd) for x in d], bool)


def build(kn: Knowledge, rng: np.random.Generator) -> Catalog:
    d = kn.drugs.copy()
    # One manufacturer's code per generic name: a region's formulary, stable per seed.
    d["_r"] = rng.random(len(d))
    form_codes = set(d.sort_values(["drug_name", "_r"]).groupby("drug_name").head(1)["med_list_codg"])
    it = kn.items
    n_d, n_i = len(d), len(it)
    code = np.concatenate([d["med_list_codg"].to_numpy(), it["med_list_codg"].to_numpy()]).astype(object)
    name = np.concatenate([d["drug_name"].to_numpy(), it["item_name"].to_numpy()]).astype(object)
    is_drug = np.r_[np.ones(n_d, bool), np.zeros(n_i, bool)]
    list_type = np.r_[np.full(n_d, "101", object), np.full(n_i, "201", object)]
    chrg = np.r_[d["med_chrgitm_type"].to_numpy(), [_by_prefix(c, _CHRG_PREFIX)[0] for c in it["med_list_codg"]]]
    # Services: 甲类 except imaging/surgery (乙类, 10% 先行自付); drugs: NRDL 甲/乙.
    it_lv = ["02" if c.startswith(("0021", "0022", "0023", "0024", "0033")) else "01" for c in it["med_list_codg"]]
    lv = np.r_[d["chrgitm_lv"].to_numpy(), it_lv].astype(object)
    lv[n_d + int(np.flatnonzero(it["med_list_codg"].to_numpy() == BED_SINGLE)[0])] = "03"
    selfpay = np.where(lv == "01", 0.0, np.where(lv == "02", 0.1, 1.0))
    cap = np.zeros((n_d + n_i, 4), np.int64)
    for i, c in enumerate(d["med_list_codg"]):
        cap[i, :] = int(round(np.exp(np.log(3) + (np.log(180) - np.log(3)) * _u(c, "drug")) * 100))
    for j, c in enumerate(it["med_list_codg"]):
        c3 = item_price_cap(c)
        cap[n_d + j, :] = [tier_cap(c3, t) for t in range(4)]
    equip = np.r_[
        np.full(n_d, "", object), [longest_prefix(c, kn.equip_prefix) or "" for c in it["med_list_codg"]]
    ].astype(object)

    def col(df_d, df_i, name_, default=""):
        a = df_d[name_].to_numpy() if name_ in df_d else np.full(n_d, default, object)
        b = df_i[name_].to_numpy() if name_ in df_i else np.full(n_i, default, object)
        return np.r_[a, b].astype(object)

    def num(a):
        return np.array([float(x) if x not in ("", None) else 0.0 for x in a])

    cat = Catalog(
        code=code,
        name=name,
        is_drug=is_drug,
        list_type=list_type,
        chrgitm_type=chrg.astype(object),
        lv=lv,
        selfpay_prop=selfpay,
        cap=cap,
        equip=equip,
        gender=col(d, it, "gender"),
        age=col(d, it, "age"),
        med_type=col(d, it, "med_type"),
        min_tier=num(col(d, it, "min_tier")).astype(int),
        course_days=num(col(d, it, "course_days")).astype(int),
        insutype=col(d, it, "insutype"),
        surgery_group=col(d, it, "surgery_group"),
        freq_limit=num(col(d, it, "freq_limit")),
        cycle_days=num(col(d, it, "cycle_days")).astype(int),
        child_forbid_age=np.array(
            [(longest_prefix(c, kn.child_forbidden) or 0.0) if i < n_d else 0.0 for i, c in enumerate(code)]
        ),
    )
    cat.formulary = np.array([c in form_codes for c in code]) | ~is_drug
    cat.index = {c: i for i, c in enumerate(code)}
    cat.chronic_drugs = kn.chronic_drugs
    cat.indication = col(d, it, "indication")
    cat.item_indications = kn.item_indications
    _service_pools(cat, kn)
    return cat


def _service_pools(cat: Catalog, kn: Knowledge) -> None:
    svc = ~cat.is_drug
    neutral = (
        svc
        & (cat.gender == "")
        & (cat.age == "")
        & (cat.freq_limit == 0)
        & (cat.cycle_days == 0)
        & (cat.course_days == 0)
        & (cat.surgery_group == "")
    )
    code = cat.code.astype(str)
    lab = neutral & np.char.startswith(code, "0025")
    img = neutral & (np.char.startswith(code, "00210") | np.char.startswith(code, "0022"))
    img &= ~np.char.endswith(code, "0001")  # 加收 add-ons are never billed alone
    img &= np.array(["术中" not in n and "造影" not in n for n in cat.name])
    lab &= ~np.char.endswith(code, "0001")
    # items limited to indications (curated item_indication) are billed only where a diagnosis fits
    unrestricted = np.array([longest_prefix(c, cat.item_indications) is None for c in code])
    lab &= unrestricted
    img &= unrestricted
    fixed = {
        OTP_CONSULT,
        ER_CONSULT,
        IPT_CONSULT,
        BED,
        BED_SINGLE,
        NURSING,
        NURSING_1,
        ECG_MONITOR,
        SPO2_MONITOR,
        HBA1C,
    }
    # 重复收费 pairs: never bill both members in one background visit. Fixed daily codes win.
    chosen = set(code[lab | img]) | fixed
    for main, sub in kn.pairs[["main_codg", "sub_codg"]].itertuples(index=False):
        if main in chosen and sub in chosen:
            if main in fixed and sub in fixed:
                raise ValueError(f"fixed background items form a 重复收费 pair: {main} {sub}")
            chosen.discard(sub if sub not in fixed else main)
    keep = np.array([c in chosen for c in code])
    cat.pools["lab"] = np.flatnonzero(lab & keep)
    cat.pools["img"] = np.flatnonzero(img & keep)
    cat.pools["lab_biochem"] = np.flatnonzero(lab & keep & (cat.equip == "BIOCHEM"))
