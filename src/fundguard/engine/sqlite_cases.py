"""Golden cases on SQLite, the 事中/事前 executor (decision 0015): a case's rows in an in-memory SQLite
database with the schema's type affinities, the rule views and shared relations as SQLite views, and the
rule's query.sql translated by ``engine.sqlite_sql.to_sqlite``."""

from __future__ import annotations

from fundguard.engine.cases import TABLES, Case, case_as_of, case_scope
from fundguard.engine.duck import bound_params, rule_query
from fundguard.engine.library import Rule
from fundguard.engine.sqlite_sql import affinity, connect, converter, to_sqlite
from fundguard.engine.views import VIEW_TABLES, table_columns, view_definitions

# stages whose rules the SQLite executor runs
SQLITE_STAGES = ("事中", "事前")


def runs_on_sqlite(rule: Rule) -> bool:
    return any(s in rule.stages for s in SQLITE_STAGES)


def run_case_sqlite(rule: Rule, case: Case) -> list[dict]:
    """The rule's raw output rows for one golden case, on SQLite."""
    con = connect()
    try:
        present: dict[str, set[str]] = {}
        for table in sorted({*VIEW_TABLES.values(), *TABLES}):
            cols = table_columns(table)
            con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {affinity(t)}' for c, t in cols.items())})")
            present[table] = set(cols)
            convert = [converter(t) for t in cols.values()]
            rows = [[f(r.get(c)) for f, c in zip(convert, cols, strict=True)] for r in case.tables.get(table, [])]
            if rows:
                con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
        views, _ = view_definitions(lambda t: present.get(t), case_scope(case))
        for name, sql in views:
            con.execute(f"CREATE VIEW {name} AS {to_sqlite(sql)}")
        bound = bound_params(rule, case_as_of(case), case.admdvs, case.params)
        cur = con.execute(to_sqlite(rule_query(rule, bound)))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
