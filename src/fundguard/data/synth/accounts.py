"""Running accounts kept while lines stream past: drug stock movements (进销存) and device load.

Both are aggregates with bounded keys (institution × code × month, institution × device × day), so
they stay small however many lines are generated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from fundguard.data.synth.catalog import EQUIP_DAILY_CAPACITY, EQUIP_NAMES, Catalog


class Accounts:
    def __init__(self, cat: Catalog, start: dt.date) -> None:
        self.cat = cat
        self.start = np.datetime64(start, "M")
        self._sales: list[pd.DataFrame] = []
        self._load: list[pd.DataFrame] = []
        self.swap_keys: set[tuple[int, int, int]] = set()

    def add(self, moves: pd.DataFrame) -> pd.DataFrame:
        """Record a chunk's movements; returns that chunk's daily sales rows for inventory_d."""
        cat = self.cat
        code = moves["code"].to_numpy()
        drug = cat.is_drug[code] & ~moves["noinv"].to_numpy()
        d = moves[drug].copy()
        d["month"] = ((d["date"].to_numpy().astype("datetime64[M]") - self.start) / np.timedelta64(1, "M")).astype(int)
        self._sales.append(d.groupby(["inst", "code", "month"], as_index=False)["cnt"].sum())
        if len(self._sales) > 8:
            self._sales = [pd.concat(self._sales).groupby(["inst", "code", "month"], as_index=False)["cnt"].sum()]
        eq = cat.equip[code]
        e = moves[eq != ""].assign(equip=eq[eq != ""])
        self._load.append(e.groupby(["inst", "equip", "date"], as_index=False)["cnt"].sum())
        if len(self._load) > 8:
            self._load = [pd.concat(self._load).groupby(["inst", "equip", "date"], as_index=False)["cnt"].sum()]
        daily = d.groupby(["inst", "code", "date"], as_index=False)["cnt"].sum()
        return daily[daily["cnt"] != 0]

    def load(self) -> pd.DataFrame:
        if not self._load:
            return pd.DataFrame(columns=["inst", "equip", "date", "cnt"])
        return pd.concat(self._load).groupby(["inst", "equip", "date"], as_index=False)["cnt"].sum()

    def sales(self) -> pd.DataFrame:
        if not self._sales:
            return pd.DataFrame(columns=["inst", "code", "month", "cnt"])
        return pd.concat(self._sales).groupby(["inst", "code", "month"], as_index=False)["cnt"].sum()

    def purchases(self, rng: np.random.Generator) -> pd.DataFrame:
        """One purchase per institution × drug × month on the month's first day, covering its sales."""
        s = self.sales()
        s = s[s["cnt"] > 0]
        qty = np.ceil(s["cnt"].to_numpy() * rng.uniform(1.05, 1.4, len(s))) + rng.integers(0, 5, len(s))
        first = self.start + s["month"].to_numpy().astype("timedelta64[M]")
        return pd.DataFrame(
            {
                "inst": s["inst"].to_numpy(),
                "code": s["code"].to_numpy(),
                "date": first.astype("datetime64[D]"),
                "cnt": qty,
            }
        )

    def equipment(self, inst: pd.DataFrame, fixed: dict[tuple[int, str], tuple[int, int]]) -> pd.DataFrame:
        """Devices sized to 1.5× each institution's busiest day, except `fixed` (inst, equip) → (cnt, capacity)."""
        peak = self.load().groupby(["inst", "equip"], as_index=False)["cnt"].max()
        rows = []
        have = set()
        for r in peak.itertuples(index=False):
            key = (int(r.inst), str(r.equip))
            have.add(key)
            if key in fixed:
                n, cap = fixed[key]
            else:
                cap = EQUIP_DAILY_CAPACITY[r.equip]
                n = max(1, int(np.ceil(r.cnt * 1.5 / cap)))
            rows.append((key[0], key[1], n, cap))
        tiers = inst["tier"].to_numpy()
        kinds = inst["kind"].to_numpy()
        for i in range(len(inst)):  # every hospital owns the basic devices even if idle in the data
            if kinds[i] in ("ph", "vc"):
                continue
            basics = ["HEMA", "BIOCHEM"] + (["US", "DR"] if tiers[i] >= 1 else []) + (["CT"] if tiers[i] >= 2 else [])
            basics += ["MRI", "IMMUNO"] if tiers[i] >= 3 else []
            for e in basics:
                if (i, e) not in have:
                    rows.append((i, e, 1, EQUIP_DAILY_CAPACITY[e]))
        df = pd.DataFrame(rows, columns=["inst", "equip_type", "equip_cnt", "daily_capacity"])
        df["fixmedins_code"] = inst["fixmedins_code"].to_numpy()[df["inst"].to_numpy()]
        df["equip_name"] = df["equip_type"].map(EQUIP_NAMES)
        return df.sort_values(["inst", "equip_type"], ignore_index=True)
