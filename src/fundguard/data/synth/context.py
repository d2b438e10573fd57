"""Everything the visit builders share: region, catalogue, clinical pools, doctor lookup."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fundguard.data.synth.catalog import Catalog
from fundguard.data.synth.conditions import CONDITIONS, Clinical, Condition
from fundguard.data.synth.knowledge import Knowledge
from fundguard.data.synth.region import Region

# Visit kinds → national med_type.
MED_TYPE = {"otp": "11", "er": "13", "chr": "14", "ph": "41", "ipt": "21", "ds": "28"}
INPATIENT_KINDS = ("ipt", "ds")


@dataclass
class Context:
    kn: Knowledge
    cat: Catalog
    clin: Clinical
    region: Region
    # doctor lookup
    doc_pool: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)
    inst_docs: dict[int, np.ndarray] = field(default_factory=dict)
    pharm_pool: dict[int, np.ndarray] = field(default_factory=dict)
    conds: list[Condition] = field(default_factory=lambda: list(CONDITIONS))

    def __post_init__(self) -> None:
        pr = self.region.practitioners
        docs = pr[pr["prac_type"] == "1"]
        for (inst, dept), g in docs.groupby(["inst", "dept_code"]):
            self.doc_pool[(int(inst), str(dept))] = g["idx"].to_numpy()
        for inst, g in docs.groupby("inst"):
            self.inst_docs[int(inst)] = g["idx"].to_numpy()
        for inst, g in pr[pr["prac_type"] == "2"].groupby("inst"):
            self.pharm_pool[int(inst)] = g["idx"].to_numpy()
        inst = self.region.institutions
        self.tier = inst["tier"].to_numpy()
        self.kind = inst["kind"].to_numpy()
        self.prac_dept = pr["dept_code"].to_numpy().astype(object)

    def insts(self, *kinds: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.kind, kinds))

    def has_dept(self, inst: int, dept: str) -> bool:
        return (inst, dept) in self.doc_pool

    def pick_docs(self, rng: np.random.Generator, inst: np.ndarray, dept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A doctor (or, at pharmacies, a pharmacist) per visit; falls back to 全科 then any doctor."""
        out = np.empty(len(inst), np.int64)
        frame = pd.DataFrame({"i": inst, "d": dept})
        for (i, d), idx in frame.groupby(["i", "d"]).indices.items():
            i = int(i)
            pool = self.doc_pool.get((i, d))
            if pool is None:
                pool = self.pharm_pool[i] if d == "Y01" else self.doc_pool.get((i, "A02"), self.inst_docs.get(i))
            out[idx] = pool[rng.integers(0, len(pool), len(idx))]
        return out, self.prac_dept[out]
