"""Synthetic region generator (`fundguard synth`): a deterministic 示范市 with clean background care
and labelled injected violations for every scenario of fundguard.data.scenarios.

    from fundguard.data.synth import generate
    summary = generate("demo-region", persons=2000, seed=7)

Writes one file per claims table (schema.CLAIMS_TABLES, columns and types exactly as the schema),
ground_truth.<fmt>, and kb/ (the region's price list and device map in the kb_point layout).
See docs/synthetic-region.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fundguard.data import schema
from fundguard.data.synth import background, catalog, conditions, knowledge, region
from fundguard.data.synth.accounts import Accounts
from fundguard.data.synth.assemble import Ids, assemble
from fundguard.data.synth.context import Context
from fundguard.data.synth.inject import Injector, instances
from fundguard.data.synth.kbfiles import write_kb
from fundguard.data.synth.sink import Sink

START = dt.date(2024, 1, 1)
LINES_PER_PERSON_YEAR = 28  # measured: 1.12 M lines for 40 000 persons; used by --fee-lines
CHUNK_PERSONS = 5_000  # ≈ 125 k fee lines per chunk: bounded memory

GROUND_TRUTH_SCHEMA = pa.schema(
    [
        ("scenario", pa.string()),
        ("scenario_zh", pa.string()),
        ("unit", pa.string()),
        ("rule_codes", pa.string()),
        ("setl_id", pa.string()),
        ("mdtrt_id", pa.string()),
        ("feedetl_sn", pa.string()),
        ("psn_no", pa.string()),
        ("fixmedins_code", pa.string()),
        ("bilg_dr_codg", pa.string()),
        ("amount_at_stake", pa.decimal128(16, 2)),
        ("note", pa.string()),
    ]
)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def persons_for_lines(fee_lines: int, months: int = 12) -> int:
    return max(2000, int(round(fee_lines / (LINES_PER_PERSON_YEAR * months / 12))))


def generate(
    out_dir: str | Path,
    persons: int = 2000,
    seed: int = 20240101,
    months: int = 12,
    fmt: str = "parquet",
    fee_lines: int | None = None,
    progress: Progress | None = None,
    chunk_persons: int = CHUNK_PERSONS,
) -> dict:
    """Generate the region into out_dir; returns a summary (rows per table, labels per scenario, seconds)."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be parquet or csv, not {fmt!r}")
    if not 2 <= months <= 36:
        raise ValueError("months must be between 2 and 36")
    t0 = time.perf_counter()
    if fee_lines:
        persons = persons_for_lines(fee_lines, months)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kn = knowledge.load()
    clin = conditions.load(kn)
    cat = catalog.build(kn, np.random.default_rng([seed, 1]))
    rng_m = np.random.default_rng([seed, 2])
    inst = region.institutions(rng_m, persons)
    prac = region.practitioners(rng_m, inst, persons)
    psn, emp = region.persons_and_employers(rng_m, persons, START, months)
    reg = region.Region(START, months, inst, prac, emp, psn)
    ctx = Context(kn, cat, clin, reg)
    inj = Injector(ctx, np.random.default_rng([seed, 3]), instances(persons))
    inj.reserve()

    sinks = {t.name: Sink(out, t, fmt) for t in schema.CLAIMS_TABLES}
    ids = Ids()
    acc = Accounts(cat, START)
    bg = psn[~psn["reserved"]]
    n_chunks = max(1, int(np.ceil(len(bg) / chunk_persons)))
    for ci in range(n_chunks):
        chunk = bg.iloc[ci * chunk_persons : (ci + 1) * chunk_persons]
        crng = np.random.default_rng([seed, 100, ci])
        visits = background.schedule(ctx, crng, chunk)
        lines = background.lines(ctx, crng, visits)
        _write(ctx, sinks, ids, acc, assemble(ctx, crng, ids, visits, lines))
        if progress:
            progress("background", ci + 1, n_chunks + 1)
    irng = np.random.default_rng([seed, 4])
    iv, il = inj.build(acc)
    a = assemble(ctx, irng, ids, iv, il)
    _write(ctx, sinks, ids, acc, a)
    truth = inj.ground_truth(a, il, iv)
    if progress:
        progress("background", n_chunks + 1, n_chunks + 1)

    _write_masters(ctx, sinks, ids, acc, inj, np.random.default_rng([seed, 5]))
    rows = {}
    for name, s in sinks.items():
        s.close()
        rows[name] = s.rows
    _write_truth(out, truth, fmt)
    write_kb(out / "kb", ctx)
    return {
        "out_dir": str(out),
        "format": fmt,
        "seed": seed,
        "persons": persons,
        "months": months,
        "start": START.isoformat(),
        "rows": rows,
        "labels": truth.groupby("scenario").size().to_dict(),
        "label_rows": len(truth),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _write(ctx: Context, sinks: dict[str, Sink], ids: Ids, acc: Accounts, a) -> None:
    for name, df in a.tables.items():
        sinks[name].write(df)
    daily = acc.add(a.moves)
    if len(daily):
        sinks["inventory_d"].write(_inventory(ctx, ids, daily, inv_type="2", sign=-1))


def _inventory(ctx: Context, ids: Ids, df: pd.DataFrame, inv_type: str, sign: int) -> pd.DataFrame:
    cat = ctx.cat
    code = df["code"].to_numpy().astype(np.int64)
    price = cat.cap[code, 3] / 100.0
    return pd.DataFrame(
        {
            "inv_sn": ids.take("inv", len(df)),
            "fixmedins_code": ctx.region.institutions["fixmedins_code"].to_numpy()[df["inst"].to_numpy().astype(int)],
            "med_list_codg": cat.code[code],
            "occur_date": df["date"].to_numpy().astype("datetime64[D]"),
            "inv_type": inv_type,
            "cnt": sign * df["cnt"].to_numpy(),
            "pric": np.round(price * (0.85 if inv_type == "1" else 1.0), 2),
        }
    )


def _write_masters(ctx: Context, sinks: dict[str, Sink], ids: Ids, acc: Accounts, inj: Injector, rng) -> None:
    reg = ctx.region
    inst = reg.institutions.copy()
    prac = reg.practitioners
    docs = prac[prac["prac_type"] == "1"].groupby("inst").size()
    phs = prac[prac["prac_type"] == "2"].groupby("inst").size()
    inst["doctor_cnt"] = inst["idx"].map(docs).fillna(0).astype(int)
    inst["pharmacist_cnt"] = inst["idx"].map(phs).fillna(0).astype(int)
    inst["nurse_cnt"] = np.where(
        inst["kind"] == "ph", 0, np.round(inst["doctor_cnt"] * 1.2 + inst["bed_cnt"] * 0.3)
    ).astype(int)
    inst["staff_cnt"] = np.round((inst["doctor_cnt"] + inst["nurse_cnt"] + inst["pharmacist_cnt"]) * 1.25 + 1).astype(
        int
    )
    sinks["fixmedins"].write(inst)
    sinks["practitioner"].write(prac)
    sinks["emp_info"].write(reg.employers)
    sinks["psn_info"].write(reg.persons)
    sinks["emp_clct_d"].write(region.contributions(reg))
    sinks["medins_equip_d"].write(acc.equipment(inst, inj.fixed_equipment))
    purchases = acc.purchases(rng)
    if len(purchases):
        sinks["inventory_d"].write(_inventory(ctx, ids, purchases, inv_type="1", sign=1))


def _write_truth(out: Path, truth: pd.DataFrame, fmt: str) -> None:
    t = pa.Table.from_pandas(truth.astype({"amount_at_stake": float}), preserve_index=False)
    t = pa.Table.from_arrays([t.column(f.name).cast(f.type) for f in GROUND_TRUTH_SCHEMA], schema=GROUND_TRUTH_SCHEMA)
    if fmt == "parquet":
        pq.write_table(t, out / "ground_truth.parquet")
    else:
        pacsv.write_csv(t, out / "ground_truth.csv")


__all__ = ["generate", "persons_for_lines"]
