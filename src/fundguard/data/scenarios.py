"""Violation scenarios injected by the synthetic region and scored by `fundguard evaluate`.

This list is the contract between the generator (which injects and labels each scenario in
`ground_truth.*`) and the rule library (whose findings are scored against the labels). A
scenario names the rule codes expected to catch it and the object a label points at:

- ``line``        → ground_truth.feedetl_sn is set; a finding matches when it names that line
- ``settlement``  → ground_truth.setl_id
- ``visit``       → ground_truth.mdtrt_id
- ``person``      → ground_truth.psn_no
- ``institution`` → ground_truth.fixmedins_code
- ``doctor``      → ground_truth.bilg_dr_codg

Rule codes: the official GZ…/ZB… codes of framework 1.0; ``GZ2025Nsss`` (sss = the seq of the
2025 catalogue) for rule types new in 2025; ``FGXnnn`` for the screens the source plans name that
the framework lacks (see docs/rule-catalogue.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    id: str
    zh: str
    rule_codes: tuple[str, ...]
    unit: str  # line | settlement | visit | person | institution | doctor
    deterministic: bool  # False for statistical screens (scored, but no recall/precision target)
    signature: str  # how the generator injects it (and how a rule should see it)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "drug_gender",
        "药品限性别使用",
        ("GZ10000301004000",),
        "line",
        True,
        "a drug from the 限定性别 knowledge base billed to a person of the other gend",
    ),
    Scenario(
        "item_gender",
        "医疗服务项目限性别使用",
        ("GZ10000302004000",),
        "line",
        True,
        "a service item from the 限定性别 knowledge base billed to a person of the other gend",
    ),
    Scenario(
        "drug_child",
        "药品限儿童/儿童专用",
        ("GZ10000301002000", "GZ10000101007000"),
        "line",
        True,
        "a 儿童 drug billed to an adult (age at fee_ocur_time ≥ 18)",
    ),
    Scenario(
        "item_child",
        "医疗服务项目儿童专用",
        ("GZ10000302003000",),
        "line",
        True,
        "a 儿童 service item billed to an adult",
    ),
    Scenario(
        "drug_hosp_lv",
        "药品限医疗机构级别",
        ("GZ10000101012000",),
        "line",
        True,
        "a drug limited to 二级及以上 billed at a 一级 or unrated institution",
    ),
    Scenario(
        "drug_med_type",
        "药品限就医方式",
        ("GZ2025N013",),
        "line",
        True,
        "a drug limited to 住院 billed on an outpatient visit (med_type not inpatient)",
    ),
    Scenario(
        "drug_insutype",
        "药品限工伤/生育保险",
        ("GZ10000101001000", "GZ10000101002000"),
        "line",
        True,
        "a drug limited to 工伤/生育 insurance billed to a person insured only under 310/390",
    ),
    Scenario(
        "chronic_drug_scope",
        "药品超限定病种目录范围使用",
        ("GZ10000101011000",),
        "line",
        True,
        "on a 门诊慢特病 (14) visit, a drug of a class (X 西药 / Z 中成药) that the 病种's drug range (curated "
        "chronic_disease_drug, by ICD-10 prefix) covers, outside every entry of that range",
    ),
    Scenario(
        "drug_course",
        "药品限支付疗程",
        ("GZ10000101010000",),
        "line",
        True,
        "a drug limited to N days billed on more than N distinct days for one person; the lines after day N",
    ),
    Scenario(
        "item_course",
        "医疗服务项目限支付疗程",
        ("GZ10000102010000",),
        "line",
        True,
        "a service item limited to N days of payment billed beyond N days for one person",
    ),
    Scenario(
        "item_frequency",
        "医疗服务项目限定频次",
        ("GZ10000102014000",),
        "line",
        True,
        "an item limited to M per day billed more than M times on one day; the excess quantity",
    ),
    Scenario(
        "item_cycle",
        "医疗服务项目周期超频次",
        ("GZ2025N031",),
        "line",
        True,
        "an item limited to M per D days billed again inside the cycle",
    ),
    Scenario(
        "dup_charge",
        "医疗服务项目重复收费",
        ("GZ10000102012000",),
        "line",
        True,
        "both items of a 重复收费 pair on the same day of one visit; the 从项 line is labelled",
    ),
    Scenario(
        "surgery_discount",
        "手术项目未按规定折价收费",
        ("GZ10000102002000",),
        "line",
        True,
        "two operations of the same 主次手术 group in one visit both billed at full price; the second line",
    ),
    Scenario(
        "over_price",
        "医疗服务项目超限定单价收费",
        ("GZ10000102001000",),
        "line",
        True,
        "a service item priced above the price cap for the institution's level",
    ),
    Scenario(
        "drug_swap",
        "串换药品（进销存不符）",
        ("GZ10000202001000",),
        "line",
        True,
        "a drug settled at a pharmacy/hospital in a month with no matching purchase in inventory_d",
    ),
    Scenario(
        "over_quantity",
        "超量开药（超最大开药天数）",
        ("GZ2025N009",),
        "line",
        True,
        "an outpatient drug line whose prd_days exceeds the maximum (e.g. 30 days for chronic)",
    ),
    Scenario(
        "split_admission",
        "分解住院",
        ("GZ10000204001000",),
        "visit",
        True,
        "a second admission at the same institution within 15 days of discharge, same main diagnosis",
    ),
    Scenario(
        "bed_hanging",
        "挂床住院",
        ("FGX007",),
        "visit",
        True,
        "an inpatient stay with only bed/nursing/诊查 fees on most days and outpatient/pharmacy "
        "settlements elsewhere during the stay",
    ),
    Scenario(
        "fake_admission",
        "虚假住院/诱导住院（聚集性住院）",
        ("FGX008",),
        "visit",
        False,
        "a cluster of admissions at one institution within a few days with near-identical amounts",
    ),
    Scenario(
        "impersonation",
        "冒名就医",
        ("FGX010",),
        "visit",
        True,
        "a visit whose diagnoses/items contradict the card holder (gender-specific) while the holder "
        "is elsewhere at the same time",
    ),
    Scenario(
        "post_death", "死亡后就医", ("FGX002",), "settlement", True, "a settlement dated after the person's die_date"
    ),
    Scenario(
        "otp_during_ipt",
        "住院期间门诊/药店结算",
        ("FGX001",),
        "settlement",
        True,
        "an outpatient or pharmacy settlement of the same person strictly inside an inpatient stay",
    ),
    Scenario(
        "doctor_volume",
        "医师同一时段接诊量异常",
        ("FGX003",),
        "doctor",
        True,
        "a doctor with an impossible number of distinct visits within one clock hour",
    ),
    Scenario(
        "card_cashing_ring",
        "药店刷卡套现团伙",
        ("FGX004",),
        "person",
        False,
        "a group of persons cycling the same drugs through several pharmacies (purchase-refund-purchase)",
    ),
    Scenario(
        "frequent_visits",
        "频繁门诊",
        ("GZ10000204002000",),
        "person",
        True,
        "a person with more outpatient visits than the threshold within the window",
    ),
    Scenario(
        "frequent_purchase",
        "频繁购药",
        ("GZ10000204003000",),
        "person",
        True,
        "a person with more pharmacy purchases than the threshold within the window",
    ),
    Scenario(
        "device_capacity",
        "检验检查超设备产能",
        ("FGX006",),
        "institution",
        True,
        "an institution billing more tests of a device type on one day than equip_cnt × daily_capacity",
    ),
    Scenario(
        "drg_upcoding",
        "DRG高套分组",
        ("FGX009",),
        "settlement",
        False,
        "an inpatient settlement paid under an MCC/CC DRG while its secondary diagnoses carry no "
        "treatment, or a main diagnosis swapped to a heavier group",
    ),
    Scenario(
        "dup_reimbursement",
        "同一费用重复报销",
        ("FGX005",),
        "settlement",
        True,
        "the same visit's expenses settled twice (two valid settlements with the same lines)",
    ),
    Scenario(
        "late_upload",
        "就诊数据非实时上传",
        ("GZ10000201007000",),
        "settlement",
        True,
        "an outpatient settlement made more than 24 h after its fee lines (批量补传), or a stay's fee line dated "
        "more than 30 min after its settlement (事后补录); the dup_reimbursement second settlements are late too",
    ),
    Scenario(
        "diag_gender",
        "诊断与患者性别不符",
        ("GZ10000204006000",),
        "visit",
        True,
        "a gender-specific diagnosis (female-only chapter O/N70–N98, male-only N40–N51) on the other gend",
    ),
)

SCENARIOS_BY_ID: dict[str, Scenario] = {s.id: s for s in SCENARIOS}
