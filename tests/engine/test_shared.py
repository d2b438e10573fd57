"""Shared relations (engine.shared): validation, dependency order, Spark inlining, DuckDB materialization."""

from pathlib import Path

import duckdb
import pytest
import sqlglot

from fundguard.engine import shared
from fundguard.engine.shared import load_shared, materialize, shared_used, unmaterialize
from fundguard.engine.spark import inline_views, used_views
from fundguard.errors import FundguardError


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, sql in files.items():
        (folder / f"{name}.sql").write_text(sql, encoding="utf-8")
    return folder


def test_load_shared_lists_every_bad_file(tmp_path):
    folder = _write(
        tmp_path / "s",
        {
            "a_ok": "SELECT setl_id, count(*) AS n FROM fee GROUP BY setl_id",
            "b_param": "SELECT * FROM fee WHERE cnt > ${n}",
            "c_later": "SELECT * FROM d_last",
            "d_last": "SELECT 1 AS x",
            "fee": "SELECT 1 AS x",
            "e_bad": "SELECT FROM WHERE",
        },
    )
    with pytest.raises(FundguardError) as e:
        load_shared(folder)
    bad = sorted(Path(p.file).stem for p in e.value.problems)
    assert bad == ["b_param", "c_later", "e_bad", "fee"]


def test_load_shared_keeps_file_order(tmp_path):
    folder = _write(tmp_path / "s", {"b_second": "SELECT x FROM a_first", "a_first": "SELECT 1 AS x"})
    assert list(load_shared(folder)) == ["a_first", "b_second"]


@pytest.fixture
def two_level(monkeypatch):
    rels = {
        "s_lines": "SELECT setl_id, amt FROM fee WHERE amt > 0",
        "s_sum": "SELECT setl_id, sum(amt) AS total FROM s_lines GROUP BY setl_id",
    }
    monkeypatch.setattr(shared, "shared_relations", lambda: rels)
    import fundguard.engine.spark as spark

    monkeypatch.setattr(spark, "shared_relations", lambda: rels)
    monkeypatch.setattr(spark, "shared_used", shared.shared_used)
    return rels


def test_shared_used_follows_dependencies(two_level):
    assert shared_used("SELECT * FROM s_sum t JOIN setl s USING (setl_id)") == ["s_lines", "s_sum"]
    assert shared_used("WITH s_sum AS (SELECT 1 AS x) SELECT * FROM s_sum") == []
    assert used_views("SELECT * FROM s_sum JOIN setl USING (setl_id)") == {"fee", "setl"}


def test_inline_views_inlines_shared_relations_then_their_views(two_level):
    views = {"fee": "SELECT setl_id, amt FROM fee_list_d", **two_level}
    tree = sqlglot.parse_one("SELECT t.total FROM s_sum t", read="duckdb")
    out = inline_views(tree, views).sql(dialect="spark")
    assert "fee_list_d" in out and "s_sum" not in out.replace(") AS t", "") and "s_lines" in out
    assert "FROM s_lines" not in out  # the inner relation was inlined too (only its alias remains)


def test_materialize_replaces_views_by_tables_with_the_same_rows(two_level):
    con = duckdb.connect()
    con.execute("CREATE TABLE fee AS SELECT * FROM (VALUES ('s1', 2.0), ('s1', 3.0), ('s2', -1.0)) t(setl_id, amt)")
    for name, sql in two_level.items():
        con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
    before = con.execute("SELECT * FROM s_sum ORDER BY setl_id").fetchall()
    done: dict[str, float] = {}
    materialize(con, ["s_lines", "s_sum"], done)
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["s_sum"] == "LOCAL TEMPORARY" and list(done) == ["s_lines", "s_sum"]
    assert con.execute("SELECT * FROM s_sum ORDER BY setl_id").fetchall() == before == [("s1", 5.0)]
    materialize(con, ["s_sum"], done)  # already filled: not again
    unmaterialize(con, done)
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert done == {} and "s_sum" not in names and "fee" in names


def test_packaged_shared_relations_are_valid():
    assert isinstance(load_shared(), dict)


def test_rule_shared_from_load_time_reads_equals_parsing_the_queries_again():
    """Rule.reads (found when the folder is loaded) gives the same shared relations as parsing query.sql and
    spark.sql on demand, for every packaged rule; at least one rule reads a shared relation."""
    import dataclasses

    from fundguard.engine.library import load_library

    rules = list(load_library().rules.values())
    assert all(r.reads for r in rules)
    from_load = {r.code: shared.rule_shared(r) for r in rules}
    reparsed = {r.code: shared.rule_shared(dataclasses.replace(r, reads=None)) for r in rules}
    assert from_load == reparsed
    assert any(from_load.values())
