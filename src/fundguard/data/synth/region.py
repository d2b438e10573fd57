"""Master data of the synthetic region: institutions, practitioners, employers and insured persons.

The region is 示范市 (医保区划 990100, a code no real region uses) with four counties. Sizes scale
with the number of persons, but every kind of institution a region has is always present.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

REGION = "990100"
REGION_NAME = "示范市"
COUNTIES = [("990102", "城区"), ("990103", "东区"), ("990121", "北县"), ("990122", "南县")]

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥建国建华志强海燕晓东丹凤春梅金凤")

# kind: (zh, fixmedins_type, medins_type, hosp_lv choices, tier, persons per institution, minimum, beds range,
#        share of outpatient visits, share of admissions)
KINDS = {
    "h3": ("三级医院", "1", "A1", ("02", "03"), 3, 150_000, 1, (800, 2000), 0.24, 0.42),
    "h2": ("二级医院", "1", "A1", ("05", "06"), 2, 50_000, 2, (200, 500), 0.22, 0.38),
    "h1": ("一级医院", "1", "A1", ("08", "09"), 1, 80_000, 1, (30, 99), 0.08, 0.08),
    "chc": ("社区卫生服务中心", "1", "B1", ("08", "09"), 1, 20_000, 2, (0, 30), 0.18, 0.0),
    "thc": ("乡镇卫生院", "1", "B2", ("08", "09", "10"), 1, 25_000, 2, (20, 60), 0.12, 0.12),
    "vc": ("村卫生室", "1", "C1", ("11",), 0, 4_000, 3, (0, 0), 0.16, 0.0),
    "ph": ("零售药店", "2", "D1", ("11",), 0, 2_000, 6, (0, 0), 0.0, 0.0),
}
DEPTS = {
    "A02": "全科医疗科",
    "A03": "内科",
    "A04": "外科",
    "A05": "妇产科",
    "A07": "儿科",
    "A16": "急诊医学科",
    "A21": "康复医学科",
    "A50": "中医科",
    "Y01": "零售药房",
}
HOSP_DEPTS = (["A03", "A04", "A05", "A07", "A16", "A21", "A50"], [0.36, 0.2, 0.1, 0.1, 0.1, 0.06, 0.08])

# Outpatient visits per person-year (all settings) used to size the number of doctors.
OTP_RATE = 3.2
CHRONIC_RATE = 1.5
CHRONIC_SHARE = sum(KINDS[k][8] for k in ("h2", "h1", "chc", "thc"))
PHARM_RATE = 3.0


@dataclass
class Region:
    start: dt.date
    months: int
    institutions: pd.DataFrame  # fixmedins columns + kind, tier, idx
    practitioners: pd.DataFrame  # practitioner columns + inst (idx), is_doctor
    employers: pd.DataFrame  # emp_info columns
    persons: pd.DataFrame  # psn_info columns + internal columns (sex, age, htn, dm, reserved, …)

    @property
    def end(self) -> dt.date:
        m = self.start.month - 1 + self.months
        return dt.date(self.start.year + m // 12, m % 12 + 1, 1)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES, object)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN, object)[rng.integers(0, len(GIVEN), n)]
    g2 = np.array(GIVEN + [""] * 20, object)[rng.integers(0, len(GIVEN) + 20, n)]
    return s + g1 + g2


def _certno(admdvs: str, brdy: pd.Series, seq: np.ndarray, sex: np.ndarray) -> list[str]:
    """18-digit 居民身份证号 with a valid ISO 7064 check digit; odd 17th digit = male."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    checks = "10X98765432"
    out = []
    for b, q, s in zip(brdy.dt.strftime("%Y%m%d"), seq, sex, strict=True):
        order = (q % 50) * 2 + (1 if s == "1" else 2)
        body = f"{admdvs}{b}{order:03d}"
        out.append(body + checks[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11])
    return out


def institutions(rng: np.random.Generator, persons: int) -> pd.DataFrame:
    rows = []
    seq = {"1": 0, "2": 0}
    for kind, (_zh, ftype, mtype, lvs, tier, per, minimum, beds, otp_share, ipt_share) in KINDS.items():
        n = max(minimum, round(persons / per))
        for i in range(n):
            county, county_name = COUNTIES[(i + len(rows)) % len(COUNTIES)]
            seq[ftype] += 1
            code = ("H" if ftype == "1" else "P") + county + f"{seq[ftype]:05d}"
            name = {
                "h3": f"{REGION_NAME}第{'一二三四五六七八九十'[i % 10]}人民医院"
                if i < 10
                else f"{REGION_NAME}三级医院{i + 1}",
                "h2": f"{county_name}人民医院" if i < 4 else f"{county_name}第{i // 4 + 1}医院",
                "h1": f"{county_name}康复医院{i + 1}",
                "chc": f"{county_name}第{i + 1}社区卫生服务中心",
                "thc": f"{county_name}第{i + 1}镇卫生院",
                "vc": f"{county_name}第{i + 1}村卫生室",
                "ph": f"{REGION_NAME}康民大药房第{i + 1}分店",
            }[kind]
            bed = int(rng.integers(beds[0], beds[1] + 1)) if beds[1] else 0
            rows.append(
                {
                    "fixmedins_code": code,
                    "fixmedins_name": name,
                    "fixmedins_type": ftype,
                    "medins_type": mtype,
                    "hosp_lv": lvs[int(rng.integers(0, len(lvs)))],
                    "admdvs": county,
                    "open_date": dt.date(2010 + int(rng.integers(0, 12)), int(rng.integers(1, 13)), 1),
                    "bed_cnt": bed,
                    "open_hours": "08:00-22:00" if kind == "ph" else None,
                    "kind": kind,
                    "tier": tier,
                    "otp_w": otp_share / n,
                    "ipt_w": ipt_share / n,
                }
            )
    df = pd.DataFrame(rows)
    df["idx"] = np.arange(len(df))
    return df


def practitioners(rng: np.random.Generator, inst: pd.DataFrame, persons: int) -> pd.DataFrame:
    rows = []
    n_d = n_y = 0
    for r in inst.itertuples():
        # outpatient + 慢特病 visits a day (慢特病 only at 二级/一级/社区/乡镇): hospital doctors see ~8 a day
        # on average (most work on the wards), primary-care doctors ~15, so a busy day stays under ~50
        chronic = CHRONIC_RATE * r.otp_w / CHRONIC_SHARE if r.kind in ("h2", "h1", "chc", "thc") else 0.0
        daily = persons * (OTP_RATE * r.otp_w + chronic) / 365
        if r.kind == "ph":
            docs, pharm = 0, int(max(2, np.ceil(persons * PHARM_RATE / (persons / KINDS["ph"][5]) / 300 / 30)))
        else:
            minimum = {"h3": 60, "h2": 25, "h1": 12, "chc": 6, "thc": 6, "vc": 1}[r.kind]
            docs = int(max(minimum, np.ceil(daily / (8 if r.kind in ("h3", "h2", "h1") else 15))))
            pharm = {"h3": 10, "h2": 5, "h1": 2, "chc": 2, "thc": 2, "vc": 0}[r.kind]
        if r.kind in ("h3", "h2", "h1"):
            # every department staffed, in proportion (内科 takes most outpatients and the 慢特病)
            per = np.maximum(1, np.round(docs * np.array(HOSP_DEPTS[1]))).astype(int)
            depts = [d for d, k in zip(HOSP_DEPTS[0], per, strict=True) for _ in range(k)]
        elif r.kind in ("chc", "thc"):
            depts = ["A02"] * docs
            depts[-1] = "A07"
        else:
            depts = ["A02"] * docs
        for dept in depts:
            n_d += 1
            rows.append(("D", n_d, r, dept, "1"))
        for _ in range(pharm):
            n_y += 1
            rows.append(("Y", n_y, r, "Y01", "2"))
    duty = np.array(["住院医师", "主治医师", "副主任医师", "主任医师"], object)
    pduty = np.array(["药士", "药师", "主管药师"], object)
    df = pd.DataFrame(
        {
            "prac_code": [f"{p}{r.admdvs}{n:07d}" for p, n, r, _, _ in rows],
            "prac_type": [t for *_, t in rows],
            "fixmedins_code": [r.fixmedins_code for _, _, r, _, _ in rows],
            "dept_code": [d for _, _, _, d, _ in rows],
            "inst": [r.idx for _, _, r, _, _ in rows],
        }
    )
    df["dept_name"] = df["dept_code"].map(DEPTS)
    df["prac_name"] = _names(rng, len(df))
    is_doc = df["prac_type"].to_numpy() == "1"
    df["pro_tech_duty"] = np.where(is_doc, duty[rng.integers(0, 4, len(df))], pduty[rng.integers(0, 3, len(df))])
    df["certno"] = [f"{REGION}{1960 + i % 35}0101{i % 1000:03d}X" for i in range(len(df))]
    df["vali_flag"] = "1"
    df["idx"] = np.arange(len(df))
    return df


def persons_and_employers(
    rng: np.random.Generator, n: int, start: dt.date, months: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    sex = np.where(rng.random(n) < 0.5, "1", "2")
    band = rng.choice(4, size=n, p=[0.15, 0.10, 0.52, 0.23])  # 0–13, 14–22, 23–59, 60+
    lo = np.array([0, 14, 23, 60])[band]
    hi = np.array([13, 22, 59, 92])[band]
    age = lo + (rng.random(n) * (hi - lo + 1)).astype(int)
    start_ts = pd.Timestamp(start)
    brdy = start_ts - pd.to_timedelta(age * 365.25 + rng.integers(1, 364, n), unit="D")
    brdy = pd.Series(brdy.normalize())
    employed = (age >= 23) & (age < 60) & (rng.random(n) < 0.55)
    retired = (age >= 60) & (rng.random(n) < 0.45)
    insutype = np.where(employed | retired, "310", "390")
    r = rng.random(n)
    psn_type = np.select(
        [
            employed & (r < 0.06),
            employed & (r < 0.16),
            employed,
            retired & (r < 0.06),
            retired,
            age < 1,
            age < 6,
            age < 18,
            (age < 23) & (r < 0.5),
            age < 60,
        ],
        ["1102", "1103", "1101", "1202", "1201", "1401", "1402", "1403", "1404", "1501"],
        default="1601",
    )
    # Employers: in-service 职工 except 灵活就业 (1103) belong to one.
    has_emp = employed & (psn_type != "1103")
    n_emp = max(3, int(has_emp.sum() // 25) + 1)
    sizes = rng.pareto(1.2, n_emp) + 1
    emp_of = np.full(n, -1)
    emp_of[has_emp] = rng.choice(n_emp, size=int(has_emp.sum()), p=sizes / sizes.sum())
    emp_types = np.array(["企业", "机关", "事业单位", "社会团体", "个体工商户"], object)
    emp_suffix = np.array(["有限公司", "股份有限公司", "商贸有限公司", "机械厂", "建筑工程有限公司"], object)
    county_of_emp = rng.integers(0, len(COUNTIES), n_emp)
    employers = pd.DataFrame(
        {
            "emp_no": [f"{REGION}{i + 1:08d}" for i in range(n_emp)],
            "emp_name": [
                f"{REGION_NAME}{COUNTIES[c][1]}{SURNAMES[i % len(SURNAMES)]}{GIVEN[(i * 7) % len(GIVEN)]}"
                f"{emp_suffix[i % len(emp_suffix)]}"
                for i, c in enumerate(county_of_emp)
            ],
            "uscc": [f"91{REGION}MA{i:08d}" for i in range(n_emp)],
            "emp_type": emp_types[rng.integers(0, len(emp_types), n_emp)],
            "insu_admdvs": REGION,
            "reg_date": [dt.date(2000 + int(x), 1 + int(x) % 12, 1) for x in rng.integers(0, 20, n_emp)],
        }
    )
    # Deaths: annual mortality by age band, die_date inside the period.
    annual = np.array([0.0005, 0.0004, 0.002, 0.03])[band] * np.where(age >= 80, 3, 1)
    period_days = (pd.Timestamp(start) + pd.DateOffset(months=months) - start_ts).days
    dies = rng.random(n) < annual * months / 12
    die_day = rng.integers(20, max(21, period_days - 5), n)
    die_date = pd.Series(np.where(dies, start_ts + pd.to_timedelta(die_day, unit="D"), pd.NaT)).astype("datetime64[ns]")
    seq = np.arange(n)
    county_idx = rng.integers(0, len(COUNTIES), n)
    psn = pd.DataFrame(
        {
            "psn_no": [f"{REGION}{i + 1:014d}" for i in seq],
            "psn_name": _names(rng, n),
            "psn_cert_type": "01",
            "gend": sex,
            "brdy": brdy,
            "naty": np.where(rng.random(n) < 0.92, "01", "02"),
            "tel": [f"1{3 + x % 7}{x:09d}" for x in rng.integers(0, 10**9, n)],
            "insutype": insutype,
            "psn_type": psn_type,
            "psn_insu_stas": "1",
            "psn_insu_date": (brdy + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")).clip(
                upper=start_ts - pd.Timedelta(days=1)
            ),
            "insu_admdvs": REGION,
            "emp_no": np.where(emp_of >= 0, employers["emp_no"].to_numpy()[np.maximum(emp_of, 0)], None),
            "die_date": die_date,
        }
    )
    psn["certno"] = _certno(COUNTIES[0][0], psn["brdy"], seq, sex)
    psn.loc[dies, "psn_insu_stas"] = "3"
    # Internal attributes (not written): age, chronic conditions, county, 低保 (medical assistance).
    psn["sex"] = np.where(sex == "1", "男", "女")
    psn["age"] = age
    htn_p = np.clip((age - 35) / 100, 0, 0.45)
    psn["htn"] = rng.random(n) < htn_p
    psn["dm"] = rng.random(n) < np.clip((age - 35) / 200, 0, 0.2)
    psn["county"] = county_idx
    psn["maf"] = (insutype == "390") & (rng.random(n) < 0.03)
    psn["emp"] = emp_of
    psn["wage"] = np.where(has_emp, rng.lognormal(np.log(6500), 0.45, n).round(-1), 0.0)
    psn["idx"] = seq
    psn["reserved"] = False
    return psn, employers


def contributions(region: Region) -> pd.DataFrame:
    """Monthly 征缴 records per employer: headcount and wage base of its in-service staff alive that month."""
    p = region.persons
    staff = p[p["emp"] >= 0]
    emp = staff["emp"].to_numpy()
    wage = staff["wage"].to_numpy()
    die = staff["die_date"].to_numpy()
    n_emp = len(region.employers)
    emp_nos = region.employers["emp_no"].to_numpy()
    parts = []
    for m in pd.period_range(pd.Timestamp(region.start), periods=region.months, freq="M"):
        alive = np.isnat(die) | (die >= np.datetime64(m.start_time))
        cnt = np.bincount(emp[alive], minlength=n_emp)
        base = np.round(np.bincount(emp[alive], weights=wage[alive], minlength=n_emp), 2)
        has = np.flatnonzero(cnt > 0)
        for insutype, unit_rate, psn_rate in (("310", 0.08, 0.02), ("510", 0.008, 0.0), ("610", 0.005, 0.0)):
            parts.append(
                pd.DataFrame(
                    {
                        "emp_no": emp_nos[has],
                        "clct_ym": str(m),
                        "insutype": insutype,
                        "psn_cnt": cnt[has],
                        "wage_base_sumamt": base[has],
                        "emp_clct_amt": np.round(base[has] * unit_rate, 2),
                        "psn_clct_amt": np.round(base[has] * psn_rate, 2),
                        "clct_date": (m.end_time + pd.Timedelta(days=15)).date(),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True).sort_values(["emp_no", "clct_ym", "insutype"], ignore_index=True)
