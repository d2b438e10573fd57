"""Shared relations: SELECTs over the rule views that a family of rules reads, written once.

Each file ``src/fundguard/rules/_shared/<name>.sql`` defines relation ``<name>`` (DuckDB dialect, one
SELECT over the views of engine.views and earlier shared relations — files are taken in name order —
no parameters). Every engine sees them under that name: the DuckDB case runner as views, the real-time
context as tables refilled once per pass, Spark golden cases computed once for all of a rule's cases, the
Spark screen written once per run as Parquet (`inline_views` still inlines it for any other caller), and a
DuckDB batch screen as a TEMP TABLE filled once before the first rule that reads it (the reason they
exist: one scan of 20M fee lines serves the whole family instead of one per rule). Semantics are the same either way, so a rule's golden cases prove it on all.
"""

from __future__ import annotations

import re
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from fundguard.errors import FundguardError, Problem

if TYPE_CHECKING:
    import duckdb

    from fundguard.engine.library import Rule

SHARED_DIR = Path(__file__).resolve().parent.parent / "rules" / "_shared"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def tables_read(tree: exp.Expression) -> set[str]:
    """Relation names a parsed query reads, without its own CTE names or qualified (db.table) names."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name not in ctes and not t.db}


@cache
def _tables(sql: str, read: str = "duckdb") -> frozenset[str]:
    return frozenset(tables_read(sqlglot.parse_one(sql, read=read)))


def load_shared(folder: Path | None = None) -> dict[str, str]:
    """name → SELECT, in dependency (file name) order; one error listing every bad file."""
    from fundguard.engine.library import check_query
    from fundguard.engine.params import placeholders
    from fundguard.engine.views import VIEW_TABLES

    folder = Path(folder or SHARED_DIR)
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.sql")) if folder.exists() else []:
        name, file = path.stem, str(path)
        sql = path.read_text(encoding="utf-8")
        if not NAME_RE.match(name) or name in VIEW_TABLES:
            problems.append(
                Problem(file, "共享关系名须为小写 ASCII 且不同于视图名", "bad or clashing name", value=name)
            )
            continue
        bad = check_query(sql, file)
        if not bad and placeholders(sql):
            bad = [Problem(file, "共享关系不能使用参数 ${…}", "a shared relation takes no parameters")]
        if not bad:
            later = _tables(sql) - set(VIEW_TABLES) - set(out)
            known_later = sorted(t for t in later if (folder / f"{t}.sql").exists())
            if known_later:
                bad = [
                    Problem(file, f"只能引用文件名排在前面的共享关系：{known_later}", "reads a later shared relation")
                ]
        problems += bad
        if not bad:
            out[name] = sql.strip().rstrip(";")
    if problems:
        raise FundguardError("共享关系校验失败", "invalid shared relations", problems)
    return out


@cache
def shared_relations() -> dict[str, str]:
    return load_shared()


def shared_used(sql: str, read: str = "duckdb") -> list[str]:
    """The shared relations a query reads, directly or through other shared relations, in creation order."""
    return _with_dependencies(_tables(sql, read))


def _with_dependencies(reads: set[str] | frozenset[str]) -> list[str]:
    """The shared relations among `reads` and those they read in turn, in creation order."""
    rels = shared_relations()
    want = set(reads) & set(rels)
    frontier = list(want)
    while frontier:
        deps = _tables(rels[frontier.pop()]) & set(rels)
        frontier += [d for d in deps if d not in want]
        want |= deps
    return [n for n in rels if n in want]


def rule_shared(rule: Rule) -> list[str]:
    """The shared relations a rule reads (its spark.sql override's, if any, count too)."""
    from fundguard.engine.library import sample_binding
    from fundguard.engine.params import substitute

    if rule.reads is not None:  # parsed when the rule folder was loaded (parsing all rules again takes ≈ 1.3 s)
        return _with_dependencies(rule.reads)
    sample = sample_binding(rule.params)
    names = set(shared_used(substitute(rule.query, sample)))
    if rule.spark_query is not None:
        names |= set(shared_used(substitute(rule.spark_query, sample), read="spark"))
    return [n for n in shared_relations() if n in names]


def materialize(
    con: duckdb.DuckDBPyConnection, names: list[str], done: dict[str, float], into: str | None = None
) -> None:
    """Replace the views `names` (creation order) by tables of their rows, once per screen pass; `done` records
    the seconds each took (the screen reports them beside the per-rule times). The tables are TEMP tables of
    `con`, or, with `into` (a database attached to the instance), tables there that every connection of the
    instance can read: `con` then sees each through a TEMP view of the same name, and `link` gives another
    connection the same views."""
    rels = shared_relations()
    for name in names:
        if name in done:
            continue
        t = time.perf_counter()
        con.execute(f"DROP VIEW IF EXISTS {name}")
        if into is None:
            con.execute(f"CREATE TEMP TABLE {name} AS {rels[name]}")
        else:
            con.execute(f"CREATE TABLE {into}.{name} AS {rels[name]}")
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {into}.{name}")
        done[name] = round(time.perf_counter() - t, 3)


def link(con: duckdb.DuckDBPyConnection, done: dict[str, float], into: str) -> None:
    """Point `con`'s views of the relations `materialize(..., into=into)` filled at those tables."""
    for name in done:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {into}.{name}")


def unmaterialize(con: duckdb.DuckDBPyConnection, done: dict[str, float], into: str | None = None) -> None:
    """Drop the tables of `materialize` (before the views are created again, e.g. for another scope)."""
    for name in reversed(list(done)):
        if into is None:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        else:
            con.execute(f"DROP VIEW IF EXISTS {name}")
            con.execute(f"DROP TABLE IF EXISTS {into}.{name}")
    done.clear()
