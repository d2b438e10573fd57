"""Visit fingerprints: computed from the warehouse, kept current by the loader, checked by the screen.

A visit's fingerprint is the sum of the hashes of its rows in the visit tables (mdtrt/setl/fee/diag/oprn); an
incremental screen re-screens the visits whose fingerprint changed since the last screen (engine/state.py).

Kept fingerprints (decision 0020): the loader keeps the current per-visit fingerprints (`visit_fp_kept`) and each
visit table's row count and hash sum (`visit_fp_totals`) up to date as it writes, by adding the hashes of the rows
it inserts and subtracting those it replaces (KeptDelta). Both are sums, so an edit made outside `fundguard load`
leaves the kept totals different from the table's: a screen hashes every row once (no grouping, ≈ 4 CPU-s at 20M
lines) and takes the kept fingerprints only when every table's totals are equal; else it computes them (≈ 9 CPU-s:
the grouping of 25M rows by visit) and keeps the result for the next screen.
"""

from __future__ import annotations

import duckdb

from fundguard.warehouse import table_exists

VISIT_TABLES = ("mdtrt_d", "setl_d", "fee_list_d", "diag_d", "oprn_d")
KEPT_FP = "visit_fp_kept"
KEPT_TOTALS = "visit_fp_totals"
KEPT_FP_DDL = f"CREATE TABLE IF NOT EXISTS {KEPT_FP} (mdtrt_id VARCHAR, fp HUGEINT, n BIGINT)"
KEPT_TOTALS_DDL = f"CREATE TABLE IF NOT EXISTS {KEPT_TOTALS} (table_name VARCHAR, n BIGINT, h HUGEINT)"


def ensure_kept_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(KEPT_FP_DDL)
    con.execute(KEPT_TOTALS_DDL)


def compute_visit_fingerprints(con: duckdb.DuckDBPyConnection, into: str) -> None:
    """Table `into`(mdtrt_id, fp, n) over the current warehouse (`into` may name a table of an attached database);
    n = the visit's rows in all visit tables."""
    parts = [f"SELECT mdtrt_id, CAST(hash(t) AS HUGEINT) AS h FROM {t} t" for t in VISIT_TABLES if table_exists(con, t)]
    if not parts:
        con.execute(f"CREATE OR REPLACE TABLE {into} (mdtrt_id VARCHAR, fp HUGEINT, n BIGINT)")
        return
    con.execute(
        f"CREATE OR REPLACE TABLE {into} AS SELECT mdtrt_id, sum(h) AS fp, count(*) AS n FROM ("
        + " UNION ALL ".join(parts)
        + ") GROUP BY mdtrt_id"
    )


def table_totals(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Per existing visit table: (rows, sum of row hashes), the figures the kept fingerprints are checked against.
    One scan per table and no grouping: ≈ 4 CPU-s at 20M lines against ≈ 9 for the per-visit fingerprints."""
    parts = [
        f"SELECT '{t}' AS table_name, count(*) AS n, coalesce(sum(CAST(hash(t) AS HUGEINT)), 0) AS h FROM {t} t"
        for t in VISIT_TABLES
        if table_exists(con, t)
    ]
    if not parts:
        return {}
    return {r[0]: (int(r[1]), int(r[2])) for r in con.execute(" UNION ALL ".join(parts)).fetchall()}


def kept_totals(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """The totals kept with `visit_fp_kept` ({} when nothing is kept)."""
    if not table_exists(con, KEPT_TOTALS):
        return {}
    rows = con.execute(f"SELECT table_name, n, h FROM {KEPT_TOTALS}").fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def current_visit_fingerprints(con: duckdb.DuckDBPyConnection, into: str, totals_into: str) -> None:
    """Table `into` as compute_visit_fingerprints makes it: copied from the kept fingerprints when the visit tables'
    totals equal the kept ones, else computed. Table `totals_into`(table_name, n, h, kept) records the totals and
    whether the kept fingerprints were used (else the screen keeps the computed ones: keep_computed_fingerprints)."""
    now = table_totals(con)
    reuse = bool(now) and kept_totals(con) == now and table_exists(con, KEPT_FP)
    if reuse:
        con.execute(f"CREATE OR REPLACE TABLE {into} AS SELECT mdtrt_id, fp, n FROM {KEPT_FP}")
    else:
        compute_visit_fingerprints(con, into)
    con.execute(f"CREATE OR REPLACE TABLE {totals_into} (table_name VARCHAR, n BIGINT, h HUGEINT, kept BOOLEAN)")
    if now:
        con.executemany(
            f"INSERT INTO {totals_into} VALUES (?, ?, ?, ?)", [(t, n, h, reuse) for t, (n, h) in now.items()]
        )


def keep_computed_fingerprints(con: duckdb.DuckDBPyConnection, fingerprints: str, totals: str) -> None:
    """After current_visit_fingerprints computed them: keep them and their totals for the next screen (in the caller's
    transaction)."""
    if con.execute(f"SELECT count(*) FROM {totals} WHERE NOT kept").fetchone()[0] == 0:
        return  # the kept ones were used (or there are no visit tables)
    con.execute(f"DELETE FROM {KEPT_FP}")
    con.execute(f"INSERT INTO {KEPT_FP} SELECT mdtrt_id, fp, n FROM {fingerprints}")
    con.execute(f"DELETE FROM {KEPT_TOTALS}")
    con.execute(f"INSERT INTO {KEPT_TOTALS} SELECT table_name, n, h FROM {totals}")


def keep_all_fingerprints(con: duckdb.DuckDBPyConnection) -> None:
    """Kept fingerprints and totals computed from the whole warehouse (a warehouse built without the loader)."""
    compute_visit_fingerprints(con, KEPT_FP)  # the kept table's own layout
    con.execute(KEPT_TOTALS_DDL)
    con.execute(f"DELETE FROM {KEPT_TOTALS}")
    for t, (n, h) in table_totals(con).items():
        con.execute(f"INSERT INTO {KEPT_TOTALS} VALUES (?, ?, ?)", [t, n, h])


class KeptDelta:
    """The loader's side: within its write transaction, the hashes of the visit-table rows it replaces (before the
    delete) and inserts (after the insert) are collected, then added to the kept fingerprints and totals.

    Kept state is maintained only from a known start: kept totals exist, or every visit table is empty (a new
    warehouse). A warehouse with data and nothing kept (written before decision 0020) is left to the next screen,
    which computes and keeps. A table with rows growing a column changes every row's hash: the kept state is dropped."""

    _DELTA = "_fp_delta"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.fresh: dict[str, bool] = {}  # visit table -> empty before this load
        ensure_kept_tables(con)
        self.base = kept_totals(con)
        self.active = bool(self.base) or all(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0 for t in VISIT_TABLES if table_exists(con, t)
        )
        if self.active:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self._DELTA} (table_name VARCHAR, mdtrt_id VARCHAR, h HUGEINT, n BIGINT)"
            )

    def rows(self, table: str, staged: str, on: str, sign: int) -> None:
        """Add (sign 1, after the insert) or subtract (sign -1, before the delete) the hashes of `table`'s rows whose
        key is in `staged` (`on`: the key condition between aliases w and s)."""
        if not self.active or table not in VISIT_TABLES:
            return
        if sign < 0:
            # a table empty before this load (the first load of a warehouse): nothing to subtract, and every row
            # after the insert is new, so no key lookup of millions of rows is needed
            self.fresh[table] = self.con.execute(f"SELECT count(*) = 0 FROM {table}").fetchone()[0]
            if self.fresh[table]:
                return
        where = "" if sign > 0 and self.fresh.get(table) else f"WHERE EXISTS (SELECT 1 FROM {staged} AS s WHERE {on})"
        self.con.execute(
            f"""INSERT INTO {self._DELTA}
            SELECT '{table}', w.mdtrt_id, {sign} * CAST(hash(w) AS HUGEINT), {sign} FROM {table} AS w {where}"""
        )

    def column_added(self, table: str) -> None:
        """`table` grew a column: the hash of each of its rows changed. Empty, nothing kept depends on it; else the
        kept state is dropped and the next screen computes it."""
        if table not in VISIT_TABLES or self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0:
            return
        if self.active:
            self.con.execute(f"DROP TABLE IF EXISTS {self._DELTA}")
        self.active = False
        self.con.execute(f"DELETE FROM {KEPT_FP}")
        self.con.execute(f"DELETE FROM {KEPT_TOTALS}")

    def apply(self) -> None:
        if not self.active:
            return
        con, d = self.con, self._DELTA
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _fp_visit AS SELECT mdtrt_id, sum(h) AS h, sum(n) AS n FROM {d} GROUP BY mdtrt_id"
        )
        con.execute(
            f"""UPDATE {KEPT_FP} AS k SET fp = k.fp + v.h, n = k.n + v.n
            FROM _fp_visit v WHERE k.mdtrt_id IS NOT DISTINCT FROM v.mdtrt_id"""
        )
        con.execute(
            f"""INSERT INTO {KEPT_FP} SELECT v.mdtrt_id, v.h, v.n FROM _fp_visit v
            WHERE NOT EXISTS (SELECT 1 FROM {KEPT_FP} k WHERE k.mdtrt_id IS NOT DISTINCT FROM v.mdtrt_id)"""
        )
        con.execute(f"DELETE FROM {KEPT_FP} WHERE n = 0")  # a visit none of whose rows is left
        sums = {
            r[0]: (int(r[1]), int(r[2]))
            for r in con.execute(f"SELECT table_name, sum(n), sum(h) FROM {d} GROUP BY 1").fetchall()
        }
        con.execute(f"DELETE FROM {KEPT_TOTALS}")
        for t in VISIT_TABLES:
            if table_exists(con, t):
                n0, h0 = self.base.get(t, (0, 0))
                dn, dh = sums.get(t, (0, 0))
                con.execute(f"INSERT INTO {KEPT_TOTALS} VALUES (?, ?, ?)", [t, n0 + dn, h0 + dh])
        con.execute(f"DROP TABLE {d}")
        con.execute("DROP TABLE _fp_visit")
