"""Intermediate visit and line frames shared by the background builder and the scenario injector.

A visit row becomes one mdtrt_d row, its diagnoses, operations and settlement(s); a line row becomes
one fee_list_d row. `tag` marks lines and visits that a ground-truth label must point at once ids
are assigned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

VISIT_DEFAULTS = {
    "diag2": None,
    "diag2_name": None,
    "level": 0,
    "died": False,
    "refund": False,
    "dup_setl": False,
    "oprn": None,
    "oprn2": None,
    "drg": None,
    "hosp_part": 0,
    "insutype": None,  # None = the person's insutype
    "setl_delay_min": 0,  # minutes from end to the settlement time
    "refund_min": -1,  # minutes from settlement to its refund (-1 = random)
    "tag": -1,
}


@dataclass
class Visits:
    df: pd.DataFrame

    @classmethod
    def new(cls, **cols) -> Visits:
        n = len(next(iter(cols.values())))
        df = pd.DataFrame(cols)
        for k, v in VISIT_DEFAULTS.items():
            if k not in df:
                df[k] = [v] * n if v is None else v
        return cls(df)

    @classmethod
    def concat(cls, parts: list[Visits]) -> Visits:
        return cls(pd.concat([p.df for p in parts], ignore_index=True))


@dataclass
class Lines:
    parts: list[dict[str, np.ndarray]] = field(default_factory=list)
    df: pd.DataFrame | None = None

    def add(self, v, code, cnt, time, prd_days=None, dscg_tk=None, price=None, tag=None, noinv=None) -> None:
        v = np.asarray(v, np.int64)
        n = len(v)
        if n == 0:
            return
        self.parts.append(
            {
                "v": v,
                "code": np.asarray(code, np.int64),
                "cnt": np.asarray(cnt, float),
                "time": np.asarray(time, "datetime64[s]"),
                "prd_days": np.full(n, np.nan) if prd_days is None else np.asarray(prd_days, float),
                "dscg_tk": np.zeros(n, np.int8) if dscg_tk is None else np.asarray(dscg_tk, np.int8),
                "price": np.full(n, -1, np.int64) if price is None else np.asarray(price, np.int64),
                "tag": np.full(n, -1, np.int64) if tag is None else np.asarray(tag, np.int64),
                "noinv": np.zeros(n, bool) if noinv is None else np.asarray(noinv, bool),
            }
        )

    def done(self, rng, ctx) -> Lines:
        del rng, ctx
        if not self.parts:
            cols = ["v", "code", "cnt", "time", "prd_days", "dscg_tk", "price", "tag", "noinv"]
            self.df = pd.DataFrame({c: [] for c in cols})
            return self
        self.df = pd.DataFrame({k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]})
        # one visit's lines in time order: feedetl_sn follows the order lines were charged
        self.df = self.df.sort_values(["v", "time"], kind="stable", ignore_index=True)
        return self
