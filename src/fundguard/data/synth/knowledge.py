"""The official knowledge the synthetic region is built from (read once per process).

Everything here comes from files shipped in fundguard/resources: the curated tables the rules use
(resources/curated: item_equip, drug_child_forbidden, chronic_disease_drug, item_indication), the 两库 facts flattened by
tools/extract_facts.py (resources/facts/*.csv), ICD-10 / ICD-9-CM-3 医保版 and CHS-DRG 1.1
(resources/reference/chs-drg-1.1) and the Harbin DRG weights. The generator uses the same codes
and restrictions the rules read, so what it calls clean or violating is what a rule sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd


def _res(*parts: str) -> Path:
    return Path(str(resources.files("fundguard").joinpath("resources", *parts)))


def _two_col(path: Path) -> dict[str, str]:
    """`code name` lines (name may contain spaces)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        code, _, name = line.strip().partition(" ")
        if code:
            out[code] = name.strip()
    return out


@dataclass(frozen=True)
class Knowledge:
    drugs: pd.DataFrame  # facts/drugs.csv, restriction columns as '' when absent
    items: pd.DataFrame  # facts/items.csv
    pairs: pd.DataFrame  # facts/item_pairs.csv
    icd10: dict[str, str]
    icd9: dict[str, str]
    mcc: frozenset[str]
    cc: frozenset[str]
    drg_names: dict[str, str]
    drg_weights: dict[str, float]
    drg_rates: dict[str, float]
    equip_prefix: dict[str, str]  # curated item_equip: code prefix → equip_type
    child_forbidden: dict[str, float]  # curated drug_child_forbidden: code prefix → age under which forbidden
    # curated chronic_disease_drug: 门慢 病种 ICD-10 prefix → drug codes / code prefixes of its drug range
    chronic_drugs: dict[str, tuple[str, ...]]
    # curated item_indication: item code / code prefix → ICD-10 prefixes of its indications
    item_indications: dict[str, tuple[str, ...]]

    def icd10_codes(self, prefix: str, limit: int = 12) -> list[tuple[str, str]]:
        """Codes under a category, shortest (the category itself) first; '+' dagger codes excluded."""
        hits = [
            (c, n)
            for c, n in self._by_cat.get(prefix[:3], ())
            if c.startswith(prefix) and "+" not in c and "*" not in c
        ]
        hits.sort(key=lambda cn: (len(cn[0]), cn[0]))
        return hits[:limit]

    @property
    def _by_cat(self) -> dict[str, list[tuple[str, str]]]:
        idx = self.__dict__.get("_cat_index")
        if idx is None:
            idx = {}
            for c, n in self.icd10.items():
                idx.setdefault(c[:3], []).append((c, n))
            object.__setattr__(self, "_cat_index", idx)
        return idx


@lru_cache(maxsize=1)
def load() -> Knowledge:
    facts = _res("facts")
    drugs = pd.read_csv(facts / "drugs.csv", dtype=str, keep_default_na=False)
    items = pd.read_csv(facts / "items.csv", dtype=str, keep_default_na=False)
    pairs = pd.read_csv(facts / "item_pairs.csv", dtype=str, keep_default_na=False)
    ref = _res("reference", "chs-drg-1.1")
    icd10 = _two_col(ref / "ICD" / "ZD_INFO.dat")
    icd9 = _two_col(ref / "ICD" / "SS_INFO.dat")
    mcc = frozenset(_two_col(ref / "DATA" / "MCC.dat"))
    cc = frozenset(_two_col(ref / "DATA" / "CC.dat"))
    drg_names = _two_col(ref / "DATA" / "DRG.dat")
    weights: dict[str, float] = {}
    rates: dict[str, float] = {}
    for year in ("2023", "2024"):  # later years override earlier ones
        doc = json.loads((_res("reference", "drg-weights-harbin") / f"{year}.weights.json").read_text("utf-8"))
        weights.update({k: float(v) for k, v in doc["weights"].items()})
        rates = {k: float(v) for k, v in doc["rates"].items()}
    curated = _res("curated")
    equip = pd.read_csv(curated / "item_equip.csv", dtype=str, keep_default_na=False)
    forbid = pd.read_csv(curated / "drug_child_forbidden.csv", dtype=str, keep_default_na=False)
    chronic = pd.read_csv(curated / "chronic_disease_drug.csv", dtype=str, keep_default_na=False)
    # national rows still in force (a dated or regional row could leave a drug outside the range)
    chronic = chronic[(chronic["enddate"] == "") & (chronic["admdvs"] == "") & (chronic["related_codg"] != "")]
    chronic_drugs: dict[str, tuple[str, ...]] = {}
    for disease, rows in chronic.groupby("related_codg"):
        codes = [c or p for c, p in zip(rows["med_list_codg"], rows["code_prefix"], strict=True) if c or p]
        chronic_drugs[str(disease)] = tuple(sorted(set(codes)))
    indication = pd.read_csv(curated / "item_indication.csv", dtype=str, keep_default_na=False)
    item_indications: dict[str, set[str]] = {}
    for c, p, icd in zip(
        indication["med_list_codg"], indication["code_prefix"], indication["related_codg"], strict=True
    ):
        if (c or p) and icd:
            item_indications.setdefault(c or p, set()).add(icd)
    return Knowledge(
        drugs,
        items,
        pairs,
        icd10,
        icd9,
        mcc,
        cc,
        drg_names,
        weights,
        rates,
        equip_prefix=dict(zip(equip["code_prefix"], equip["limit_value"], strict=True)),
        child_forbidden={
            p: float(a or 18) for p, a in zip(forbid["code_prefix"], forbid["limit_num"], strict=True) if p
        },
        chronic_drugs=chronic_drugs,
        item_indications={k: tuple(sorted(v)) for k, v in item_indications.items()},
    )
