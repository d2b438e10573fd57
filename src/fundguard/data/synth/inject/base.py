"""Constants and the label record shared by the injector and the scenario families."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN = np.timedelta64(60, "s")
DAY = np.timedelta64(1, "D")

# Thresholds the injections exceed (and the background stays under); rule parameters must sit between.
FREQUENT_VISITS = 14  # outpatient visits in 28 days (background ≤ 8 in any 30 days; rule default > 10)
FREQUENT_PURCHASES = 12  # pharmacy purchases in 28 days (background ≤ 4 in any 30 days)
DOCTOR_HOUR_VISITS = 30  # distinct visits of one doctor in one clock hour (rule default > 12)
OVER_DAYS = 120  # prd_days on a chronic prescription (background ≤ 30; 长期处方 limit 84)
MAX_CHRONIC_DAYS = 84
PRICE_MARKUP = 1.3  # billed price / price cap
# 就诊数据非实时上传 (GZ10000201007000 defaults: a line > 30 min after its settlement, or an outpatient line
# > 24 h before it); the background settles minutes after its last line.
# a stay's fee line recorded this long after the discharge settlement at 10:00 (事后补录), still on the discharge
# day (a later day would also be 计费日期与住院时间不符)
LATE_ENTRY_HOURS = (2, 12)
UPLOAD_LAG_HOURS = (30, 70)  # an outpatient visit settled (uploaded) this long after its fee lines (批量补传)


@dataclass
class Label:
    scenario: str
    note: str
    line: int = -1  # line tag
    visit: int = -1  # local visit index (mdtrt_id, setl_id)
    setl: str = "normal"  # normal | dup
    psn_no: str | None = None
    fixmedins_code: str | None = None
    bilg_dr_codg: str | None = None
    amount: float | None = None  # yuan; None = derive from the labelled object
    amount_part: float = 1.0  # share of the labelled line's in-scope amount at stake
