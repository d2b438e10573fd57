"""Region-specific knowledge written next to the data (DIR/kb/), in the generic kb_point layout.

- price_list.csv  the region's service-item price caps (kp_type item_price_cap), one row per item and
                  hospital tier (group_name 3/2/1/0); the over_price scenario bills above them.
The device map (item_equip) is national curated knowledge (resources/curated/item_equip.csv) and is
not repeated here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fundguard.data.synth.context import Context
from fundguard.data.synth.region import REGION, REGION_NAME
from fundguard.kb.types import KB_POINT_COLUMNS

LAYOUT = [c for c in KB_POINT_COLUMNS if c not in ("kp_id", "kb_version", "source_file", "source_row")]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=LAYOUT)


def write_kb(out: Path, ctx: Context) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cat = ctx.cat
    start = ctx.region.start.isoformat()
    svc = np.flatnonzero(~cat.is_drug)
    rows = []
    for i in svc:
        for tier in (3, 2, 1, 0):
            rows.append(
                {
                    "kp_type": "item_price_cap",
                    "med_list_codg": cat.code[i],
                    "item_name": cat.name[i],
                    "limit_num": cat.cap[i, tier] / 100.0,
                    "limit_unit": "元",
                    "group_name": str(tier),
                    "description": f"{REGION_NAME}医疗服务价格：{'三级' if tier == 3 else '二级' if tier == 2 else '一级' if tier == 1 else '无等级'}机构最高限价",
                    "begndate": start,
                    "admdvs": REGION,
                    "source": "synthetic region price list",
                    "batch": "synth",
                }
            )
    _frame(rows).to_csv(out / "price_list.csv", index=False)
