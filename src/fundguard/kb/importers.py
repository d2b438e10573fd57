"""Reading one knowledge file into kb_point rows, whatever its layout (no warehouse involved).

Layouts are detected from content — sheet titles and headers for .xlsx, the header for .csv, the code
shapes for CHS-DRG .dat tables — never from the file name, so a region's own batch file named anything
imports the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from fundguard.errors import Problem, ValidationFailed
from fundguard.kb import chsdrg, generic, liangku, nrdl
from fundguard.kb.points import frame
from fundguard.kb.sheets import read_workbook

REFERENCE = "fundguard.resources.reference"


def reference_dir() -> Path:
    return Path(str(resources.files("fundguard").joinpath("resources/reference")))


@dataclass
class FileResult:
    """One file read: its layout, points, the 通用名→国标代码 pairs it provides, and its problems."""

    path: Path
    layout: str
    points: pd.DataFrame
    name_codes: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    effective: dt.date | None = None  # the default begndate it was read with
    relinked: bool = False  # re-read only to link its names through maps imported in this run


def _unknown(path: Path, detail: str = "") -> Problem:
    return Problem(
        file=path.name,
        reason_zh="无法识别的文件版式（支持：两库批次 xlsx、国家医保药品目录 xlsx、CHS-DRG/ICD .dat、通用 CSV、通用名→国标代码 CSV）",
        reason_en="unknown layout (supported: 两库 batch xlsx, NRDL xlsx, CHS-DRG/ICD .dat, generic CSV, name→code CSV)",
        value=detail or None,
    )


@lru_cache(maxsize=1)
def builtin_name_codes() -> dict[str, tuple[str, ...]]:
    """通用名 → 国标代码 from the code sheets of the shipped 两库 drug batches."""
    pairs: dict[str, set[str]] = defaultdict(set)
    for f in sorted((reference_dir() / "nhsa-liangku").glob("*.xlsx")):
        for name, codg in liangku.name_codes(read_workbook(f)):
            pairs[name].add(codg)
    return {k: tuple(sorted(v)) for k, v in pairs.items()}


def default_weight_files() -> list[Path]:
    return sorted((reference_dir() / "drg-weights-harbin").glob("*.weights.json"))


def read_file(
    path: str | Path,
    effective: dt.date | None = None,
    name_codes: dict[str, list[str]] | dict[str, tuple[str, ...]] | None = None,
    weight_files: list[Path] | None = None,
    sheets: list | None = None,
) -> FileResult:
    """Read one file; problems are returned, not raised (see read_points for the raising form).

    name_codes links NRDL names to codes (default: the shipped 两库 code sheets); weight_files give
    DRG weights (default: the shipped drg-weights-harbin tables, latest year).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        p = Problem(file=path.name, reason_zh="文件不存在", reason_en="file not found", value=str(path))
        return FileResult(path, "missing", frame([]), problems=[p])
    if suffix in (".xls", ".et"):
        p = Problem(
            file=path.name,
            reason_zh="旧版 Excel（.xls）格式暂不支持，请在 Excel/WPS 中另存为 .xlsx 后导入",
            reason_en="legacy .xls workbooks are not supported; save the file as .xlsx and import that",
        )
        return FileResult(path, "unknown", frame([]), problems=[p])
    if suffix in (".xlsx", ".xlsm"):
        try:
            sheets = read_workbook(path) if sheets is None else sheets
        except Exception as e:  # a corrupt or non-xlsx file: report it, do not crash
            return FileResult(path, "unknown", frame([]), problems=[_unknown(path, f"{type(e).__name__}: {e}")])
        if any(nrdl.is_nrdl(s) for s in sheets):
            codes = builtin_name_codes() if name_codes is None else name_codes
            pts, probs = nrdl.read(path.name, sheets, codes, effective)  # type: ignore[arg-type]
            return FileResult(path, "nrdl", frame(pts, effective), problems=probs)
        kinds = liangku.detect(sheets)
        if not kinds:
            heads = "; ".join(f"[{s.name}] " + " | ".join(h for h in s.header if h) for s in sheets)
            return FileResult(path, "unknown", frame([]), problems=[_unknown(path, heads)])
        pts, probs = liangku.read(path.name, sheets, effective)
        layout = "liangku:" + "+".join(sorted(set(kinds.values())))
        return FileResult(path, layout, frame(pts, effective), liangku.name_codes(sheets), probs)
    if suffix in (".csv", ".txt"):
        cols = generic.header(path)
        if generic.is_generic(cols):
            pts, probs = generic.read_generic(path, effective)
            return FileResult(path, "generic_csv", frame(pts if not probs else [], effective), problems=probs)
        if generic.is_name_map(cols):
            pairs, probs = generic.read_name_map(path)
            return FileResult(path, "name_code_map", frame([]), name_codes=pairs, problems=probs)
        return FileResult(path, "unknown", frame([]), problems=[_unknown(path, ",".join(cols))])
    if suffix == ".dat":
        layout = chsdrg.detect(path)
        if layout is None:
            return FileResult(path, "unknown", frame([]), problems=[_unknown(path)])
        weights = default_weight_files() if weight_files is None else weight_files
        pts, probs = chsdrg.read(path, layout, weights)
        return FileResult(path, layout, frame(pts, effective), problems=probs)
    return FileResult(path, "unknown", frame([]), problems=[_unknown(path)])


def read_points(path: str | Path, effective: dt.date | None = None, **kw) -> pd.DataFrame:
    """One knowledge file → DataFrame in kb_point columns (kb_version empty). Raises ValidationFailed."""
    res = read_file(path, effective, **kw)
    if res.problems:
        raise ValidationFailed(
            f"知识文件 {Path(path).name} 有 {len(res.problems)} 处问题，未导入",
            f"knowledge file {Path(path).name} has {len(res.problems)} problems; nothing imported",
            res.problems,
        )
    return res.points
