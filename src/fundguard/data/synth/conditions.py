"""Clinical content: diagnosis pools (ICD-10 医保版 categories) and inpatient conditions with their
CHS-DRG ADRG, operation (ICD-9-CM-3 医保版) and the 两库 surgery item billed for it.

Codes are resolved against the shipped ICD tables at load time, so a category missing from the
tables fails loudly instead of producing an invented code.
"""

from __future__ import annotations

from dataclasses import dataclass

from fundguard.data.synth.knowledge import Knowledge

# Outpatient diagnosis categories. Sex-specific categories are the ones the diag_gender knowledge
# restricts (female O, N70–N98; male N40–N51), so the background only gives them to that sex.
OTP_NEUTRAL = ["J06", "J20", "J02", "K29", "K30", "M54", "L30", "H10", "J30", "K21", "M17", "R51", "A09", "K59"]
OTP_CHILD = ["J06", "J20", "J02", "A09", "L30", "H10", "J30"]
OTP_FEMALE = ["N76", "N92", "N94", "N95"]
OTP_MALE = ["N40", "N41"]
CHRONIC = {"htn": "I10.x00", "dm": "E11.900"}
COMORBID = ["E78", "K76", "M81", "H25"]
# Secondary diagnoses that raise the DRG level (checked against CC.dat / MCC.dat at load).
CC_CANDIDATES = ["D64.9", "E87.1", "E87.6", "N18.9", "J96.0", "I48", "E87.2", "J96.9"]


@dataclass(frozen=True)
class Condition:
    key: str
    diag: str  # ICD-10 category
    adrg: str  # CHS-DRG ADRG (first 3 characters of the DRG code)
    los: float  # mean length of stay (days)
    dept: str
    sex: str = ""  # '男' | '女' | ''
    min_age: int = 0
    max_age: int = 120
    oprn: str = ""  # ICD-9-CM-3 医保版 code
    op_item: str = ""  # 15-digit 两库 surgery item billed for the operation
    day_surgery: bool = False
    weight: float = 1.0


CONDITIONS = [
    Condition("pneumonia", "J18", "ES3", 8, "A03", weight=3),
    Condition("child_bronchitis", "J20", "EX2", 5, "A07", max_age=13, weight=2),
    Condition("child_pneumonia", "J18", "ES3", 6, "A07", max_age=13, weight=2),
    Condition("stroke", "I63", "BR2", 12, "A03", min_age=45, weight=3),
    Condition("copd", "J44", "ET2", 9, "A03", min_age=45, weight=2),
    Condition("heart_failure", "I50", "FR2", 9, "A03", min_age=50, weight=1.5),
    Condition("chd", "I25", "FR4", 7, "A03", min_age=45, weight=2),
    Condition("hypertension", "I10", "FV2", 7, "A03", min_age=35, weight=1.5),
    Condition("diabetes", "E11", "KS1", 8, "A03", min_age=30, weight=1.5),
    Condition("gallstone", "K80", "HC2", 6, "A04", min_age=25, oprn="51.2300", op_item="003310060020000", weight=1.5),
    Condition("appendicitis", "K35", "GD2", 5, "A04", min_age=6, oprn="47.0100", op_item="003310030220000"),
    Condition("hernia", "K40", "GE1", 4, "A04", min_age=18, oprn="53.0000", op_item="003310080010000"),
    Condition("bph", "N40", "MB1", 7, "A04", sex="男", min_age=55, oprn="60.2902", op_item="003312010020000"),
    Condition(
        "fibroid", "D25", "NC1", 7, "A05", sex="女", min_age=35, max_age=60, oprn="68.3100", op_item="003313030140000"
    ),
    Condition("delivery", "O80", "OR1", 3, "A05", sex="女", min_age=22, max_age=40, weight=1.5),
    Condition(
        "hernia_ds", "K40", "GE1", 1, "A04", min_age=18, oprn="53.0000", op_item="003310080010000", day_surgery=True
    ),
    Condition("cataract_ds", "H25", "CB3", 1, "A04", min_age=55, oprn="13.4100x001", day_surgery=True),
]


@dataclass
class Clinical:
    otp_neutral: list[tuple[str, str]]
    otp_child: list[tuple[str, str]]
    otp_female: list[tuple[str, str]]
    otp_male: list[tuple[str, str]]
    chronic: dict[str, tuple[str, str]]
    comorbid: list[tuple[str, str]]
    cc: list[tuple[str, str, str]]  # (code, name, 'MCC'|'CC')
    cond_diags: dict[str, list[tuple[str, str]]]
    drg: dict[tuple[str, int], str]  # (adrg, level 0 none/1 CC/2 MCC) → DRG code


def _pool(kn: Knowledge, cats: list[str], per: int = 3) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for c in cats:
        codes = kn.icd10_codes(c, per)
        if not codes:
            raise ValueError(f"ICD-10 category {c} not in ZD_INFO.dat")
        out.extend(codes)
    return out


def drg_code(kn: Knowledge, adrg: str, level: int) -> str:
    """The DRG of an ADRG at complication level 0/1/2 (5 none, 3 CC, 1 MCC, 9 not split)."""
    avail = [s for s in "1359" if adrg + s in kn.drg_names]
    if "9" in avail:
        return adrg + "9"
    # a CC never qualifies for the MCC group: level 1 falls back to "none", not up to "1"
    want = {2: "135", 1: "35", 0: "5"}[level]
    for s in want:
        if s in avail:
            return adrg + s
    raise ValueError(f"no DRG for ADRG {adrg}")


def drg_weight(kn: Knowledge, code: str) -> float:
    if code in kn.drg_weights:
        return kn.drg_weights[code]
    sib = [w for k, w in kn.drg_weights.items() if k[:3] == code[:3]]
    return max(sib) if sib else 1.0


def load(kn: Knowledge) -> Clinical:
    cc = []
    for p in CC_CANDIDATES:
        for code, name in kn.icd10_codes(p, 4):
            if code in kn.mcc:
                cc.append((code, name, "MCC"))
                break
            if code in kn.cc:
                cc.append((code, name, "CC"))
                break
    for c in CONDITIONS:
        if c.oprn and c.oprn not in kn.icd9:
            raise ValueError(f"ICD-9-CM-3 code {c.oprn} not in SS_INFO.dat")
    drg = {(c.adrg, lv): drg_code(kn, c.adrg, lv) for c in CONDITIONS for lv in range(3)}
    return Clinical(
        otp_neutral=_pool(kn, OTP_NEUTRAL),
        otp_child=_pool(kn, OTP_CHILD),
        otp_female=_pool(kn, OTP_FEMALE),
        otp_male=_pool(kn, OTP_MALE),
        chronic={k: (v, kn.icd10[v]) for k, v in CHRONIC.items()},
        comorbid=[kn.icd10_codes(c, 1)[0] for c in COMORBID],
        cc=cc,
        cond_diags={c.key: kn.icd10_codes(c.diag, 3) for c in CONDITIONS},
        drg=drg,
    )
