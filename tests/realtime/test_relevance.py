"""The relevance index: which kp_types the codes and names of a pass meet (a superset, never less)."""

from __future__ import annotations

import copy

from fundguard.realtime.auditor import Auditor
from fundguard.realtime.relevance import ALL, KbIndex

from .conftest import COURSE, ELDERLY, FEMALE_DRUG, GENDER

POINTS = [
    # kp_type, med_list_codg, code_prefix, item_name, related_codg, related_name
    ("drug_gender", "ZD03AAA0043010100166", None, "某药", None, None),
    ("drug_elderly_caution", None, "XN05BA", "苯二氮䓬类", None, None),
    ("diag_gender", None, "N40", None, None, None),
    ("item_dup_pair", "001201000010000", None, "主项", "001201000020000", "从项"),
    ("drug_interaction", None, "XC09", None, "XC03DA", None),
    ("tcm_incompatible", None, None, "甘草", None, "甘遂"),
    ("consumable_gender", None, None, "前列腺支架", None, None),
    ("tcm_max_herbs", None, None, None, None, None),  # a region-wide limit: matches every pass
    ("item_dept", None, None, "脂肪乳(36%)注射液", None, None),  # a LIKE wildcard in a name: matched as LIKE
    ("drug_max_days", None, "X_1", None, None, None),  # … and in a prefix
]
KINDS = {p[0] for p in POINTS}


def _pairs(codes=(), names=(), wanted=KINDS):
    return KbIndex.build(POINTS).matched(codes, names, set(wanted))


def _matched(codes=(), names=(), wanted=KINDS):
    return {kp for kp, _ in _pairs(codes, names, wanted)}


def test_exact_code_and_case():
    assert _pairs(["zd03aaa0043010100166"]) == {("drug_gender", "code"), ("tcm_max_herbs", ALL)}
    assert "drug_gender" not in _matched(["ZD03AAA004301010016"])  # a code is not a prefix


def test_code_prefix():
    assert ("drug_elderly_caution", "prefix") in _pairs(["XN05BAD056A001010100215"])
    assert "drug_elderly_caution" not in _matched(["XN05B"])


def test_name_only_points_by_containment():
    assert ("consumable_gender", "name") in _pairs(names=["一次性前列腺支架（进口）"])
    assert "consumable_gender" not in _matched(names=["前列腺"])
    # a point with a code is matched by its code only, not by its name
    assert "drug_gender" not in _matched(names=["某药"])


def test_related_side_as_code_and_prefix():
    # 重复收费: the incoming line may be the 从项, the 主项 being in the history
    assert ("item_dup_pair", "related") in _pairs(["001201000020000"])
    assert ("item_dup_pair", "code") in _pairs(["001201000010000"])
    # interaction: the claim holds the B side (related_codg prefix) or the A side (code_prefix)
    assert ("drug_interaction", "related") in _pairs(["XC03DAA001"])
    assert ("drug_interaction", "prefix") in _pairs(["XC09AAA001"])
    # incompatible herbs by related_name when the point has no related code
    assert ("tcm_incompatible", "related") in _pairs(names=["甘遂（醋制）"])
    assert ("tcm_incompatible", "name") in _pairs(names=["炙甘草"])


def test_diagnosis_codes_meet_icd_prefixes():
    assert "diag_gender" in _matched(["n40.x00"])
    assert "diag_gender" not in _matched(["I10.x00"])


def test_unmatchable_points_always_match_and_wanted_limits():
    assert _pairs(["nothing"], ["nothing"]) == {("tcm_max_herbs", ALL)}
    assert _matched(["N40"], wanted={"drug_gender"}) == set()


def test_like_wildcards_are_matched_as_like():
    assert ("item_dept", "name") in _pairs(names=["中长链脂肪乳(36.5%)注射液"])
    assert "item_dept" not in _matched(names=["脂肪乳注射液"])
    assert ("drug_max_days", "prefix") in _pairs(["XA1B"])
    assert "drug_max_days" not in _matched(["XA2B", "AX1"])


def test_context_runs_only_rules_a_claim_can_meet(auditor, message):
    """Pass level: the elderly/course drugs dropped from the claim → their rules are skipped."""
    from fundguard.realtime.messages import parse

    msg = copy.deepcopy(message)
    msg["input"]["feedetail"] = [f for f in msg["input"]["feedetail"] if f["med_list_codg"] == FEMALE_DRUG]
    claim = auditor.claim_rows(parse("settlement", msg))
    with auditor._context() as ctx:
        ctx.load([claim])
        assert [r.code for r in ctx.relevant("事中")] == [GENDER]
    res = auditor.audit("settlement", parse("settlement", msg))
    assert res.summary["rules_run"] == 1 and res.rules_ran == [GENDER]
    full = auditor.audit("settlement", parse("settlement", message))
    assert sorted(full.rules_ran) == sorted([GENDER, ELDERLY, COURSE])


def test_visit_facts_prune_inpatient_and_outpatient_rules(tiny_store, message):
    """requires_visit: 计费日期与住院时间不符 only on an inpatient stay, 药品种类超标 only outside one,
    围手术期抗菌药物 only on an inpatient stay with an operation."""
    from fundguard.engine.library import load_library
    from fundguard.realtime.messages import parse

    lib = load_library()
    by_slug = {r.slug: r.code for r in lib.rules.values()}
    stay, kinds, periop = by_slug["fee_outside_stay"], by_slug["drug_kinds"], by_slug["periop_antibiotic"]
    a = Auditor(tiny_store, library=lib, rule_codes=[stay, kinds, periop])
    try:
        outpatient = a.audit("settlement", parse("settlement", message))
        assert outpatient.rules_ran == [kinds]
        ipt = copy.deepcopy(message)
        ipt["input"]["mdtrtinfo"]["med_type"] = "21"
        assert a.audit("settlement", parse("settlement", ipt)).rules_ran == [stay]
        ipt["input"]["oprninfo"] = [
            {
                "oprn_srt_no": 1,
                "oprn_oprt_type": "1",
                "oprn_oprt_code": "00.0000",
                "oprn_oprt_date": "2025-03-05 09:30:00",
            }
        ]
        assert sorted(a.audit("settlement", parse("settlement", ipt)).rules_ran) == sorted([stay, periop])
    finally:
        a.close()


def test_person_and_med_type_facts(tiny_store, message):
    """requires_visit [deceased] (结算发生在死亡后) and requires_med_type ['14'] (门诊慢特病超病种用药)."""
    from fundguard.engine.library import load_library
    from fundguard.realtime.messages import parse

    lib = load_library()
    by_slug = {r.slug: r.code for r in lib.rules.values()}
    death, chronic = by_slug["post_death"], by_slug["chronic_drug_scope"]
    a = Auditor(tiny_store, library=lib, rule_codes=[death, chronic])
    try:
        assert a.audit("settlement", parse("settlement", message)).rules_ran == []
        msg = copy.deepcopy(message)
        msg["input"]["mdtrtinfo"]["med_type"] = "14"
        msg["input"]["mdtrtinfo"]["psn_no"] = "P9"
        msg["input"]["psninfo"] = {"gend": "1", "brdy": "1950-01-01", "die_date": "2025-03-01"}
        assert sorted(a.audit("settlement", parse("settlement", msg)).rules_ran) == sorted([death, chronic])
    finally:
        a.close()
