"""The structured part of an NRDL 备注 (限定支付范围): age, gender, hospital level, care setting, course,
insurance type, second-line use, and the indication with an ICD-10 prefix mapping where reliable.

A remark often lists alternatives ("限：1.…；2.…", "…或…"). A patient-side restriction (age, gender, care
setting, hospital level) is emitted only when every alternative carries it, so a point never forbids a
use the remark allows. The course limit ("支付不超过N天") applies to the whole remark.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

from fundguard.kb import values


@lru_cache(maxsize=1)
def indication_table() -> list[tuple[str, list[str]]]:
    """(keyword, ICD-10 prefixes), longest keyword first — shipped as kb/data/indication_icd10.csv."""
    text = resources.files("fundguard.kb").joinpath("data/indication_icd10.csv").read_text(encoding="utf-8")
    rows = [r for r in csv.DictReader(text.splitlines()) if r["keyword"] and not r["keyword"].startswith("#")]
    table = [(r["keyword"], r["icd10_prefixes"].split("|")) for r in rows]
    return sorted(table, key=lambda kv: -len(kv[0]))


def alternatives(text: str, split_or: bool = False) -> list[str]:
    """The alternatives of a remark: numbered items and ；-clauses (and "或" parts when split_or)."""
    body = re.sub(r"^限\s*[:：]?", "", text.strip())
    pattern = r"[；;]|(?:^|(?<=[。，：:\s]))\d+\s*[.．、]" + ("|或" if split_or else "")
    parts = re.split(pattern, body)
    return [p.strip(" 。，,") for p in parts if p and p.strip(" 。，,")]


def _all_alts(alts: list[str], pattern: str) -> bool:
    return bool(alts) and all(re.search(pattern, a) for a in alts)


# Clauses already captured as structured points; what remains after removing them is an indication.
_STRUCTURED = re.compile(
    r"限|工伤保险|生育保险|(?:的)?二线用药|[二三]级及以上医疗机构(?:使用)?|住院患者|住院|患者|方予支付|使用|"
    r"(?:单次住院)?(?:支付不超过|最多支付|支付不超)\s*(?:\d+|[一二两三四五六七八九十]+)\s*(?:天|日|周|个月|年)|"
    r"[\s。，,；;：:、.]"
)


def _residual(compact: str) -> str:
    return _STRUCTURED.sub("", compact)


def is_restriction(text: str) -> bool:
    return text.startswith("限") or "方予支付" in text or "支付不超过" in text


_COURSE = re.compile(r"(?:支付不超过|最多支付|支付不超)\s*(\d+|[一二两三四五六七八九十]+)\s*(天|日|周|个月|年)")


def _course(compact: str) -> re.Match | None:
    """The course clause when it binds the whole remark: in every alternative, in the preamble before a
    numbered list, or in a sentence of its own after the alternatives."""
    m = _COURSE.search(compact)
    if not m:
        return None
    alts = alternatives(compact)
    if all(_COURSE.search(a) for a in alts):
        return m
    first = re.split(r"\d+\s*[.．、]", re.sub(r"^限\s*[:：]?", "", compact), maxsplit=1)[0]
    if _COURSE.search(first) and re.search(r"[：:]\s*$", first):
        return m
    for sentence in compact.split("。"):
        if _COURSE.search(sentence) and not re.search(r"[；;]|\d+\s*[.．、]", sentence):
            return m
    return None


def map_icd10(alts: list[str]) -> list[tuple[str, str]]:
    """(prefix, keyword) for the whole remark, or [] unless every alternative names a known disease."""
    found: list[tuple[str, str]] = []
    for a in alts:
        hit = False
        rest = a
        for kw, prefixes in indication_table():
            if kw in rest:
                hit = True
                rest = rest.replace(kw, " ")
                found.extend((p, kw) for p in prefixes)
        if not hit:
            return []
    seen: set[str] = set()
    return [(p, k) for p, k in found if not (p in seen or seen.add(p))]


def parse(text: str) -> list[dict]:
    """A remark → point fields (kp_type, limit_*, description, related_codg); empty for non-restrictions."""
    if not text or not is_restriction(text):
        return []
    out: list[dict] = []
    alts = alternatives(text)
    # "手术患者或产后出血患者": a gender word on one side of 或 does not restrict the other side
    or_alts = alternatives(text, split_or=True)
    compact = text.replace(" ", "")
    m = re.fullmatch(r"限(工伤|生育)保险[。.]?", compact)
    if m:
        return [{"kp_type": "drug_insutype", "limit_value": m.group(1), "description": text}]
    if "二线" in text:
        out.append({"kp_type": "drug_second_line", "description": text})
    if _all_alts(alts, r"[二三]级及以上医疗机构") or re.match(r"^限[二三]级及以上医疗机构", compact) and len(alts) == 1:
        word, tier = values.hosp_level(re.search(r"[二三]级", text).group(0))
        out.append(
            {
                "kp_type": "drug_hosp_lv",
                "limit_value": word,
                "limit_num": float(tier),
                "limit_unit": "级",
                "description": text,
            }
        )
    if _all_alts(alts, r"住院") and not re.search(r"门诊|急诊", text) and not re.search(r"单次住院", text):
        out.append({"kp_type": "drug_med_type", "limit_value": "住院", "description": text})
    cm = _course(compact)
    if cm:
        out.append(
            {
                "kp_type": "drug_course",
                "limit_num": float(values.days(cm.group(1) + cm.group(2))),
                "limit_unit": "天",
                "limit_value": "单次住院" if "单次住院" in compact else None,
                "description": text,
            }
        )
    if _all_alts(or_alts, r"女性|妇女|孕妇|产妇|绝经"):
        out.append({"kp_type": "drug_gender", "limit_value": "女", "description": text})
    elif _all_alts(or_alts, r"男性|前列腺癌|前列腺增生"):
        out.append({"kp_type": "drug_gender", "limit_value": "男", "description": text})
    ages = [values.age_ranges(a) for a in alts]
    if alts and all(ages):
        lo = min(r[1] for rs in ages for r in rs)
        hi = max(r[2] for rs in ages for r in rs)
        words = {r[0] for rs in ages for r in rs}
        if not (lo <= 0 and hi >= 150):
            if words == {"儿童"} and lo == 0:
                value = "儿童"
            elif words == {"成人"}:
                value = "成人"
            else:
                value = f"{values._fmt(lo)}-{values._fmt(hi)}"
            out.append(
                {
                    "kp_type": "drug_age",
                    "limit_value": value,
                    "limit_num": round(hi, 3),
                    "limit_unit": "岁",
                    "description": text,
                }
            )
    if _residual(compact):
        mapped = map_icd10(alts)
        if mapped:
            out.extend(
                {"kp_type": "drug_indication", "related_codg": p, "related_name": kw, "description": text}
                for p, kw in mapped
            )
        else:
            out.append({"kp_type": "drug_indication", "description": text})
    return out
