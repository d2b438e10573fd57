"""Writing the full problem report of a load to CSV (opens in Excel) or JSON, chosen by the file's extension."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fundguard.data.load.result import LoadResult, LoadValidationFailed
from fundguard.errors import FundguardError

FIELDS = ("file", "row", "field", "value", "reason_zh", "reason_en")


def check_report_path(path: Path) -> None:
    """Fail before loading, not after, when the report cannot be written in a known format."""
    if path.suffix.lower() not in {".csv", ".json"}:
        raise FundguardError(
            f"报告文件扩展名应为 .csv 或 .json：{path.name}", f"report file must end in .csv or .json: {path.name}"
        )


def write_report(path: Path, outcome: LoadResult | LoadValidationFailed) -> None:
    check_report_path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    failed = isinstance(outcome, LoadValidationFailed)
    if suffix == ".json":
        data = outcome.as_dict() if failed else {"ok": True, **outcome.as_dict(), "problems": []}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        return
    # utf-8-sig: Excel on Windows (what 稽核 staff open it with) needs the BOM to show Chinese.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for p in outcome.problems if failed else []:
            w.writerow({k: v for k, v in p.as_dict().items() if k in FIELDS})
