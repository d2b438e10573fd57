"""Scoring the rule library against a labelled synthetic region (`fundguard evaluate`).

Each scenario of fundguard.data.scenarios names its rule codes and the unit its labels point at.
A finding of one of those rules, projected onto that unit (its feedetl_sn, setl_id, mdtrt_id,
psn_no, fixmedins_code or bilg_dr_codg), is a hit when the object is labelled by any scenario
sharing the rule code, otherwise an unexpected hit. Recall = labelled objects found / labelled;
precision = expected hits / all hits.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from fundguard.data.scenarios import SCENARIOS, Scenario
from fundguard.engine.library import Library, load_library
from fundguard.engine.screen import ScreenOptions, ScreenResult, screen
from fundguard.errors import FundguardError

UNIT_KEY = {
    "line": "feedetl_sn",
    "settlement": "setl_id",
    "visit": "mdtrt_id",
    "person": "psn_no",
    "institution": "fixmedins_code",
    "doctor": "bilg_dr_codg",
}
RECALL_TARGET = 0.95
PRECISION_TARGET = 0.90


@dataclass
class ScenarioScore:
    id: str
    zh: str
    unit: str
    rule_codes: tuple[str, ...]
    deterministic: bool
    labelled: int
    found: int
    hits: int
    unexpected: int
    misses: list[str] = field(default_factory=list)
    unexpected_hits: list[dict] = field(default_factory=list)
    missing_rules: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return round((self.labelled - len(self.misses)) / self.labelled, 4) if self.labelled else None

    @property
    def precision(self) -> float | None:
        return round(self.hits / (self.hits + self.unexpected), 4) if (self.hits + self.unexpected) else None

    @property
    def passed(self) -> bool | None:
        if not self.deterministic:
            return None
        return (self.recall or 0) >= RECALL_TARGET and (self.precision is None or self.precision >= PRECISION_TARGET)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items()}
        d.update(recall=self.recall, precision=self.precision, passed=self.passed)
        return d


def ground_truth_path(folder: Path) -> Path:
    for name in ("ground_truth.parquet", "ground_truth.csv"):
        if (folder / name).exists():
            return folder / name
    raise FundguardError(
        f"{folder} 中没有 ground_truth.parquet 或 ground_truth.csv", f"no ground_truth.parquet|csv in {folder}"
    )


def load_region(folder: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Claims via the loader (validated), knowledge: built-in batches plus the region's kb/ files."""
    from fundguard.data.load import load_dir
    from fundguard.kb.store import import_builtin, import_files

    load_dir(folder, con)
    import_builtin(con)
    kb_dir = folder / "kb"
    if kb_dir.is_dir():
        files = sorted(p for p in kb_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        if files:
            import_files(con, files)


def score(
    con: duckdb.DuckDBPyConnection, gt_path: Path, scenarios: tuple[Scenario, ...] = SCENARIOS
) -> list[ScenarioScore]:
    path = str(gt_path).replace("'", "''")
    if gt_path.suffix == ".parquet":
        src = f"read_parquet('{path}')"
    else:  # keys are codes: keep them as text (leading zeros)
        src = f"read_csv('{path}', header = true, all_varchar = true)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _gt AS SELECT * FROM {src}")
    present_rules = {r[0] for r in con.execute("SELECT DISTINCT rule_code FROM findings").fetchall()}
    out = []
    for sc in scenarios:
        key = UNIT_KEY[sc.unit]
        codes = ", ".join(f"'{c}'" for c in sc.rule_codes)
        labelled = {
            str(r[0])
            for r in con.execute(
                f"SELECT DISTINCT CAST({key} AS VARCHAR) FROM _gt WHERE scenario = ? AND {key} IS NOT NULL", [sc.id]
            ).fetchall()
        }
        # Objects labelled by any scenario that shares a rule code with this one (same unit) are expected.
        sharing = [s.id for s in scenarios if s.unit == sc.unit and set(s.rule_codes) & set(sc.rule_codes)]
        expected = {
            str(r[0])
            for r in con.execute(
                f"SELECT DISTINCT CAST({key} AS VARCHAR) FROM _gt WHERE scenario IN ({', '.join('?' for _ in sharing)}) "
                f"AND {key} IS NOT NULL",
                sharing,
            ).fetchall()
        }
        found_rows = con.execute(
            f"""SELECT CAST({key} AS VARCHAR) AS k, min(rule_code) AS rule_code, count(*) AS n,
                       sum(violation_amount) AS amount, min(message) AS message
                FROM findings WHERE rule_code IN ({codes}) AND {key} IS NOT NULL GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        found = {r[0] for r in found_rows}
        unexpected = [
            {"key": r[0], "rule_code": r[1], "findings": r[2], "amount": float(r[3] or 0), "message": r[4]}
            for r in found_rows
            if r[0] not in expected
        ]
        out.append(
            ScenarioScore(
                id=sc.id,
                zh=sc.zh,
                unit=sc.unit,
                rule_codes=sc.rule_codes,
                deterministic=sc.deterministic,
                labelled=len(labelled),
                found=len(found),
                hits=len(found & expected),
                unexpected=len(unexpected),
                misses=sorted(labelled - found),
                unexpected_hits=unexpected,
                missing_rules=[c for c in sc.rule_codes if c not in present_rules],
            )
        )
    return out


def evaluate(
    folder: str | Path, warehouse: str | Path | None = None, library: Library | None = None, engine: str = "duckdb"
) -> tuple[ScreenResult, list[ScenarioScore]]:
    folder = Path(folder)
    gt = ground_truth_path(folder)
    library = library or load_library()
    with tempfile.TemporaryDirectory(prefix="fg-eval-") as tmp:
        path = Path(warehouse) if warehouse else Path(tmp) / "evaluate.duckdb"
        con = duckdb.connect(str(path))
        try:
            load_region(folder, con)
        finally:
            con.close()
        result = screen(path, ScreenOptions(full=True, engine=engine), library=library)
        con = duckdb.connect(str(path))
        try:
            scores = score(con, gt)
        finally:
            con.close()
    return result, scores
