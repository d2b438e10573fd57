"""The rule.yaml `realtime:` declarations the real-time auditor prunes by: complete, valid, and in step
with the kp_types each query filters on."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from fundguard.engine.library import load_library, load_rule, sample_binding
from fundguard.engine.params import PLACEHOLDER, sql_literal
from fundguard.errors import FundguardError

REALTIME_STAGES = {"事前", "事中"}


def kp_type_literals(sql: str, params) -> set[str]:
    """Every 'literal' a query compares kp_type with (kp_type = '…', kp_type IN ('…', …))."""
    sample = sample_binding(params)
    bound = PLACEHOLDER.sub(lambda m: sql_literal(sample[m.group(1)]) if m.group(1) in sample else "NULL", sql)
    out: set[str] = set()
    for tree in sqlglot.parse(bound, read="duckdb"):
        for node in tree.find_all(exp.EQ, exp.NEQ, exp.In):
            if isinstance(node, exp.In):
                sides, values = [node.this], node.expressions
            else:
                sides, values = [node.left, node.right], [node.left, node.right]
            if any(isinstance(s, exp.Column) and s.name == "kp_type" for s in sides):
                out |= {v.this for v in values if isinstance(v, exp.Literal) and v.is_string}
    return out


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_literal_finder_sees_eq_and_in():
    sql = "SELECT 1 FROM kb k WHERE k.kp_type = 'a' OR kp_type IN ('b', 'c') OR 'd' = k.kp_type"
    assert kp_type_literals(sql, {}) == {"a", "b", "c", "d"}


def test_requires_kb_covers_every_kp_type_the_sql_filters_on(library):
    """A declared rule must name every kp_type its SQL reads, so the declaration cannot drift from the query."""
    missing = {}
    for rule in library.rules.values():
        if not rule.requires_kb:
            continue
        used = kp_type_literals(rule.query, rule.params)
        if rule.spark_query:
            used |= kp_type_literals(rule.spark_query, rule.params)
        assert used, f"{rule.code}: requires_kb declared but the query filters on no kp_type"
        declared = set(rule.requires_kb) | set(rule.optional_kb)
        if used - declared:
            missing[rule.code] = sorted(used - declared)
    assert not missing, f"kp_types filtered in SQL but not in realtime.requires_kb/optional_kb: {missing}"


NAME_MATCH = re.compile(
    r"LIKE\s*'%'\s*\|\|\s*(\w+\.)?(item_name|related_name)|(item_name|related_name)\s*=|=\s*(\w+\.)?(item_name|related_name)\b",
    re.I,
)


def test_kb_keys_left_out_are_not_used_by_the_sql(library):
    """A rule that leaves `prefix` out of kb_keys compares no code_prefix; one that leaves `name` out
    matches no name (a partial guard: the related side of indications is a diagnosis that must be absent)."""
    wrong = {}
    for rule in library.rules.values():
        if not rule.requires_kb:
            continue
        sql = rule.query + (rule.spark_query or "")
        if "prefix" not in rule.kb_keys and "code_prefix" in sql:
            wrong[rule.code] = "code_prefix used but prefix not in kb_keys"
        if "name" not in rule.kb_keys and "related" not in rule.kb_keys and NAME_MATCH.search(sql):
            wrong[rule.code] = "names compared but name not in kb_keys"
    assert not wrong, wrong


def test_every_realtime_rule_with_knowledge_declares_how_it_is_pruned(library):
    undeclared = [
        r.code
        for r in library.rules.values()
        if REALTIME_STAGES & set(r.stages) and r.knowledge and not (r.requires_kb or r.always_run)
    ]
    assert not undeclared, f"add realtime: requires_kb or always_run to rule.yaml of {undeclared}"


def _copy_with(tmp_path: Path, block: str) -> Path:
    src = next(p.folder for p in load_library().rules.values() if p.code == "GZ10000301004000")
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    text = (dst / "rule.yaml").read_text(encoding="utf-8")
    head = text.split("realtime:")[0]
    (dst / "rule.yaml").write_text(head + block, encoding="utf-8")
    return dst


@pytest.mark.parametrize(
    "block, reason",
    [
        ("realtime:\n  requires_kb: [no_such_type]\n", "unknown kp_type"),
        ("realtime:\n  requires_kb: [drug_age]\n", "must be listed in knowledge"),
        ("realtime:\n  requires_kb: []\n", "non-empty list"),
        ("realtime:\n  requires_kb: [drug_gender]\n  always_run: x\n", "either"),
        ("realtime:\n  always_run: ''\n", "needs a reason"),
        ("realtime:\n  requires_kb: [drug_gender]\n  kb_keys: [codes]\n", "kb_keys must be"),
        ("realtime:\n  kb_keys: [code]\n", "need requires_kb"),
        ("realtime:\n  requires_kb: [drug_gender]\n  requires_visit: [weekend]\n", "requires_visit must be"),
    ],
)
def test_loader_rejects_bad_declarations(tmp_path, block, reason):
    folder = _copy_with(tmp_path, block)
    with pytest.raises(FundguardError) as e:
        load_rule(folder)
    assert any(reason in p.reason_en for p in e.value.problems), [p.reason_en for p in e.value.problems]


def test_loader_reads_declarations(tmp_path):
    assert load_rule(_copy_with(tmp_path, "realtime:\n  requires_kb: [drug_gender]\n")).requires_kb == ("drug_gender",)
    rule = load_rule(_copy_with(tmp_path / "b", "realtime:\n  always_run: 参数兜底\n"))
    assert rule.requires_kb == () and rule.always_run == "参数兜底"
    rule = load_rule(
        _copy_with(tmp_path / "c", "realtime:\n  requires_kb: [drug_gender]\n  requires_visit: [inpatient]\n")
    )
    assert rule.requires_kb == ("drug_gender",) and rule.requires_visit == ("inpatient",)
