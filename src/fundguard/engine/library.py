"""The rule library: every folder src/fundguard/rules/<code>_<slug>/ loaded and validated.

Validation collects every problem of a folder (bilingual, naming file and field) instead of
stopping at the first, so a rule author sees the whole list at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

import fundguard
from fundguard.engine.params import Param, placeholders
from fundguard.errors import FundguardError, Problem
from fundguard.kb.types import KP_TYPES

RULES_DIR = Path(fundguard.__file__).resolve().parent / "rules"

OUTPUT_COLUMNS: tuple[str, ...] = (
    "feedetl_sn",
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "fixmedins_code",
    "bilg_dr_codg",
    "med_list_codg",
    "occur_time",
    "violation_amount",
    "message",
    "kp_id",
    "detail",
)
TIER1 = ("政策类", "管理类", "医疗类", "扩展监管类")
RESULT_TYPES = ("明确违规", "可疑")
STAGES = ("事前", "事中", "事后")
OBJECT_TYPES = ("line", "settlement", "visit", "person", "institution", "doctor")
SEVERITIES = ("高", "中", "低")
CODE_RE = re.compile(r"^(GZ1000\d{10}|ZB1000\d{10}|GZ2025N\d{3}|FGX\d{3})$")
SLUG_RE = re.compile(r"^[a-z0-9_]+$")
REQUIRED_KEYS = (
    "code",
    "name",
    "tier1",
    "tier2",
    "result_type",
    "stages",
    "object_type",
    "severity",
    "needs_history",
    "knowledge",
    "logic",
    "amount",
    "legal_basis",
)
OPTIONAL_KEYS = ("seq_2025", "code_1_0", "knowledge_completeness", "policy", "params", "realtime")
PARAM_KEYS = ("desc", "unit", "values", "overrides", "type")
# realtime: what the real-time auditor may use to skip a rule for a claim (docs/realtime-audit.md)
REALTIME_KEYS = ("requires_kb", "kb_keys", "optional_kb", "always_run", "requires_visit", "requires_med_type")
# how a query meets a claim with a point of its requires_kb kp_types: med_list_codg = code, code starts
# with code_prefix, hilist_name contains item_name (points without a code), related_codg/related_name
KB_KEYS = ("code", "prefix", "name", "related")
# facts of an incoming visit a rule can require (all of them, on one visit of the pass) to fire
VISIT_FACTS = {
    "inpatient": "住院就诊（mdtrt.is_inpatient）/ an inpatient stay",
    "outpatient": "非住院就诊 / not an inpatient stay",
    "operation": "本次就诊有手术操作（oprn）/ the visit has an operation",
    "deceased": "参保人有死亡日期（psn.die_date）/ the visit's person has a death date",
}


@dataclass(frozen=True)
class Rule:
    code: str
    slug: str
    folder: Path
    name: str
    tier1: str
    tier2: str
    result_type: str
    stages: tuple[str, ...]
    object_type: str
    severity: str
    needs_history: bool
    knowledge: tuple[str, ...]
    logic: str
    amount: str
    legal_basis: tuple[str, ...]
    query: str
    params: dict[str, Param] = field(default_factory=dict)
    seq_2025: int | None = None
    code_1_0: str | None = None
    knowledge_completeness: str = ""
    policy: str = ""
    spark_query: str | None = None
    # the relations query.sql and spark.sql read (views, shared relations), found once when the folder is loaded;
    # None (a Rule built by hand) = parse the queries when asked (engine.shared.rule_shared)
    reads: frozenset[str] | None = None
    # realtime.requires_kb: the rule can only fire about a claim one of whose codes/names matches a
    # point of these kp_types; empty = always run in real time (realtime.always_run says why)
    requires_kb: tuple[str, ...] = ()
    kb_keys: tuple[str, ...] = KB_KEYS  # the point keys the query matches claims by
    optional_kb: tuple[str, ...] = ()  # kp_types the query also reads, but that never decide whether it fires
    always_run: str = ""
    # realtime.requires_visit: facts (VISIT_FACTS) an incoming visit must all have for the rule to fire
    requires_visit: tuple[str, ...] = ()
    # realtime.requires_med_type: the incoming visit's med_type must be one of these (e.g. 14 门诊慢特病)
    requires_med_type: tuple[str, ...] = ()

    @property
    def cases_path(self) -> Path:
        return self.folder / "cases.yaml"

    @property
    def stage(self) -> str:
        """The stage a batch screen runs in: 事后 when the rule supports it."""
        return "事后" if "事后" in self.stages else self.stages[-1]

    def declaration(self) -> dict[str, Any]:
        from fundguard.engine.params import jsonable

        return {
            "code": self.code,
            "name": self.name,
            "seq_2025": self.seq_2025,
            "code_1_0": self.code_1_0,
            "tier1": self.tier1,
            "tier2": self.tier2,
            "result_type": self.result_type,
            "stages": list(self.stages),
            "object_type": self.object_type,
            "severity": self.severity,
            "needs_history": self.needs_history,
            "knowledge": list(self.knowledge),
            "knowledge_completeness": self.knowledge_completeness,
            "logic": self.logic,
            "amount": self.amount,
            "legal_basis": list(self.legal_basis),
            "policy": self.policy,
            "params": {
                name: {
                    "desc": p.desc,
                    "unit": p.unit,
                    "values": {d.isoformat(): jsonable(v) for d, v in sorted(p.values.items())},
                    "overrides": {
                        region: {d.isoformat(): jsonable(v) for d, v in sorted(series.items())}
                        for region, series in sorted(p.overrides.items())
                    },
                }
                for name, p in self.params.items()
            },
            "spark_override": self.spark_query is not None,
            "realtime": {
                k: v
                for k, v in (
                    ("requires_kb", list(self.requires_kb)),
                    ("kb_keys", list(self.kb_keys) if self.requires_kb and self.kb_keys != KB_KEYS else []),
                    ("optional_kb", list(self.optional_kb)),
                    ("always_run", self.always_run),
                    ("requires_visit", list(self.requires_visit)),
                    ("requires_med_type", list(self.requires_med_type)),
                )
                if v
            },
        }


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _series(raw: Any, where: str, problems: list[Problem], file: str) -> dict[dt.date, Any]:
    if not isinstance(raw, dict) or not raw:
        problems.append(
            Problem(file, "须为非空的 {生效日期: 值} 映射", "must be a non-empty {date: value} mapping", field=where)
        )
        return {}
    out: dict[dt.date, Any] = {}
    for k, v in raw.items():
        try:
            out[_date(k)] = v
        except ValueError:
            problems.append(
                Problem(
                    file,
                    "生效日期格式错误，应为 YYYY-MM-DD",
                    "bad effective date, use YYYY-MM-DD",
                    field=where,
                    value=str(k),
                )
            )
    return out


def _params(raw: Any, file: str, problems: list[Problem]) -> dict[str, Param]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem(file, "params 须为映射", "params must be a mapping", field="params"))
        return {}
    out: dict[str, Param] = {}
    for name, spec in raw.items():
        where = f"params.{name}"
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(name)):
            problems.append(Problem(file, "参数名须为标识符", "parameter name must be an identifier", field=where))
            continue
        if not isinstance(spec, dict):
            problems.append(Problem(file, "参数声明须为映射", "parameter declaration must be a mapping", field=where))
            continue
        for key in spec:
            if key not in PARAM_KEYS:
                problems.append(Problem(file, f"未知键 {key}", f"unknown key {key}", field=where))
        if not spec.get("desc"):
            problems.append(Problem(file, "缺少参数说明 desc", "missing desc", field=where))
        values = _series(spec.get("values"), f"{where}.values", problems, file)
        overrides: dict[str, dict[dt.date, Any]] = {}
        raw_over = spec.get("overrides") or {}
        if not isinstance(raw_over, dict):
            problems.append(
                Problem(
                    file,
                    "overrides 须为 {医保区划: {日期: 值}}",
                    "overrides must be {admdvs: {date: value}}",
                    field=where,
                )
            )
        else:
            for region, series in raw_over.items():
                region = str(region)
                if not re.match(r"^\d{6}$", region):
                    problems.append(
                        Problem(
                            file,
                            "区划代码须为6位数字",
                            "admdvs must be 6 digits",
                            field=f"{where}.overrides",
                            value=region,
                        )
                    )
                    continue
                overrides[region] = _series(series, f"{where}.overrides.{region}", problems, file)
        out[str(name)] = Param(str(name), str(spec.get("desc", "")), values, overrides, str(spec.get("unit", "") or ""))
    return out


def _check_enum(data: dict, key: str, allowed: tuple, file: str, problems: list[Problem]) -> None:
    value = data.get(key)
    if value is not None and value not in allowed:
        problems.append(
            Problem(
                file,
                f"取值须为 {' | '.join(allowed)}",
                f"must be one of {', '.join(allowed)}",
                field=key,
                value=str(value),
            )
        )


def _requires_visit(raw: Any, file: str, problems: list[Problem]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or any(f not in VISIT_FACTS for f in raw):
        problems.append(
            Problem(
                file,
                f"requires_visit 须为 {' | '.join(VISIT_FACTS)} 的非空列表",
                f"requires_visit must be a non-empty list of {', '.join(VISIT_FACTS)}",
                field="realtime.requires_visit",
                value=str(raw),
            )
        )
        return ()
    return tuple(str(f) for f in raw)


def _kinds(raw: Any, key: str, knowledge: list, file: str, problems: list[Problem]) -> tuple[str, ...]:
    """A non-empty list of kp_types, each declared in `knowledge`."""
    where = f"realtime.{key}"
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(file, f"{key} 须为非空 kp_type 列表", f"{key} must be a non-empty list", field=where))
        return ()
    for kp in raw:
        if kp not in KP_TYPES:
            problems.append(
                Problem(
                    file,
                    "未知的知识类型（见 fundguard/kb/types.py KP_TYPES）",
                    "unknown kp_type (see KP_TYPES)",
                    field=where,
                    value=str(kp),
                )
            )
        elif kp not in knowledge:
            problems.append(
                Problem(
                    file,
                    f"{key} 的知识类型须在 knowledge 中声明",
                    f"a {key} kp_type must be listed in knowledge",
                    field=where,
                    value=str(kp),
                )
            )
    return tuple(str(k) for k in raw)


def _realtime(raw: Any, knowledge: list, file: str, problems: list[Problem]) -> dict[str, Any]:
    """The `realtime:` declaration: requires_kb (kp_types of `knowledge`, with optional kb_keys and
    optional_kb) or always_run (why), not both; optionally requires_visit (VISIT_FACTS)."""
    if raw is None:
        return {}
    where = "realtime"
    if not isinstance(raw, dict) or not raw or ("requires_kb" in raw and "always_run" in raw):
        problems.append(
            Problem(
                file,
                "realtime 须为 {requires_kb: [知识类型…]} 或 {always_run: 原因} 之一（可另加 requires_visit）",
                "realtime must be either {requires_kb: [kp_type, …]} or {always_run: reason} (plus requires_visit)",
                field=where,
            )
        )
        return {}
    for key in raw:
        if key not in REALTIME_KEYS:
            problems.append(Problem(file, f"未知键 {key}", f"unknown key {key}", field=where))
    out: dict[str, Any] = {"requires_visit": _requires_visit(raw.get("requires_visit"), file, problems)}
    if "requires_med_type" in raw:
        types = raw["requires_med_type"]
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
            problems.append(
                Problem(
                    file,
                    "requires_med_type 须为非空的医疗类别代码（字符串）列表",
                    "requires_med_type must be a non-empty list of med_type codes (strings)",
                    field="realtime.requires_med_type",
                    value=str(types),
                )
            )
        else:
            out["requires_med_type"] = tuple(types)
    if ("kb_keys" in raw or "optional_kb" in raw) and "requires_kb" not in raw:
        problems.append(
            Problem(
                file, "kb_keys/optional_kb 须与 requires_kb 同用", "kb_keys/optional_kb need requires_kb", field=where
            )
        )
    if "always_run" in raw:
        reason = str(raw["always_run"] or "").strip()
        if not reason:
            problems.append(Problem(file, "always_run 须写明原因", "always_run needs a reason", field=where))
        out["always_run"] = reason
        return out
    if "requires_kb" not in raw:
        return out
    out["requires_kb"] = _kinds(raw["requires_kb"], "requires_kb", knowledge, file, problems)
    if "optional_kb" in raw:
        out["optional_kb"] = _kinds(raw["optional_kb"], "optional_kb", knowledge, file, problems)
    if "kb_keys" in raw:
        keys = raw["kb_keys"]
        if not isinstance(keys, list) or not keys or any(k not in KB_KEYS for k in keys):
            problems.append(
                Problem(
                    file,
                    f"kb_keys 须为 {' | '.join(KB_KEYS)} 的非空列表",
                    f"kb_keys must be a non-empty list of {', '.join(KB_KEYS)}",
                    field="realtime.kb_keys",
                    value=str(keys),
                )
            )
        else:
            out["kb_keys"] = tuple(str(k) for k in keys)
    return out


def sample_binding(params: dict[str, Param]) -> dict[str, Any]:
    """Some value of each parameter (its earliest), to parse or describe a query before binding."""
    out: dict[str, Any] = {}
    for name, p in params.items():
        values = [v for _, v in sorted(p.values.items()) if v is not None]
        out[name] = values[0] if values else 0
    return out


def check_query(sql: str, file: str, params: dict[str, Param] | None = None, read: str = "duckdb") -> list[Problem]:
    """Syntax: exactly one SELECT statement (placeholders bound to sample values first)."""
    return parse_query(sql, file, params, read)[0]


def parse_query(
    sql: str, file: str, params: dict[str, Param] | None = None, read: str = "duckdb"
) -> tuple[list[Problem], frozenset[str]]:
    """check_query's problems, and the relations the query reads (engine.shared.tables_read) when it has none."""
    from fundguard.engine.params import PLACEHOLDER, sql_literal
    from fundguard.engine.shared import tables_read

    sample = sample_binding(params or {})
    bound = PLACEHOLDER.sub(lambda m: sql_literal(sample[m.group(1)]) if m.group(1) in sample else "NULL", sql)
    try:
        statements = [s for s in sqlglot.parse(bound, read=read) if s is not None]
    except sqlglot.errors.ParseError as e:
        first = e.errors[0] if e.errors else {}
        where = f"（第{first.get('line')}行第{first.get('col')}列）" if first else ""
        desc = first.get("description", str(e))
        problem = Problem(file, f"SQL 语法错误{where}：{desc}", f"SQL syntax error at line {first.get('line')}: {desc}")
        return [problem], frozenset()
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        return [Problem(file, "须为一条 SELECT 语句", "must be exactly one SELECT statement")], frozenset()
    return [], frozenset(tables_read(statements[0]))


def load_rule(folder: Path) -> Rule:
    """Load and validate one rule folder; raise FundguardError listing every problem."""
    folder = Path(folder)
    yaml_path = folder / "rule.yaml"
    file = str(yaml_path)
    problems: list[Problem] = []
    if not yaml_path.exists():
        raise FundguardError(f"规则目录缺少 rule.yaml：{folder}", f"rule folder lacks rule.yaml: {folder}")
    try:
        data = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise FundguardError(
            f"rule.yaml 不是合法的 YAML：{folder}",
            f"rule.yaml is not valid YAML: {folder}",
            [Problem(file, str(e), str(e))],
        ) from e
    if not isinstance(data, dict):
        raise FundguardError(f"rule.yaml 须为映射：{folder}", f"rule.yaml must be a mapping: {folder}")

    for key in REQUIRED_KEYS:
        if (
            data.get(key) in (None, "", [])
            and not (key in ("knowledge",) and data.get(key) == [])
            and not (key == "needs_history" and data.get(key) is False)
        ):
            problems.append(Problem(file, "缺少必填项", "required key missing", field=key))
    for key in data:
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            problems.append(Problem(file, "未知键", "unknown key", field=str(key)))

    code = str(data.get("code", ""))
    if code and not CODE_RE.match(code):
        problems.append(
            Problem(
                file,
                "规则编码格式错误（GZ1000…/ZB1000…/GZ2025Nsss/FGXnnn）",
                "bad rule code format",
                field="code",
                value=code,
            )
        )
    prefix, _, slug = folder.name.partition("_")
    if code and prefix != code:
        problems.append(
            Problem(
                file,
                f"目录名须以规则编码开头：{code}_<slug>",
                f"folder name must start with the code: {code}_<slug>",
                field="code",
                value=folder.name,
            )
        )
    if not SLUG_RE.match(slug or ""):
        problems.append(
            Problem(
                file,
                "目录名的 slug 须为小写 ASCII",
                "folder slug must be lower-case ASCII",
                field="code",
                value=folder.name,
            )
        )
    _check_enum(data, "tier1", TIER1, file, problems)
    _check_enum(data, "result_type", RESULT_TYPES, file, problems)
    _check_enum(data, "object_type", OBJECT_TYPES, file, problems)
    _check_enum(data, "severity", SEVERITIES, file, problems)
    stages = data.get("stages") or []
    if not isinstance(stages, list) or any(s not in STAGES for s in stages):
        problems.append(
            Problem(
                file,
                "stages 须为 事前/事中/事后 的列表",
                "stages must be a list of 事前/事中/事后",
                field="stages",
                value=str(stages),
            )
        )
        stages = []
    if "needs_history" in data and not isinstance(data["needs_history"], bool):
        problems.append(Problem(file, "须为 true 或 false", "must be true or false", field="needs_history"))
    knowledge = data.get("knowledge") or []
    if not isinstance(knowledge, list):
        problems.append(
            Problem(file, "knowledge 须为 kp_type 列表", "knowledge must be a list of kp_types", field="knowledge")
        )
        knowledge = []
    for kp in knowledge:
        if kp not in KP_TYPES:
            problems.append(
                Problem(
                    file,
                    "未知的知识类型（见 fundguard/kb/types.py KP_TYPES）",
                    "unknown kp_type (see KP_TYPES)",
                    field="knowledge",
                    value=str(kp),
                )
            )
    legal = data.get("legal_basis") or []
    if isinstance(legal, str):
        legal = [legal]
    params = _params(data.get("params"), file, problems)
    realtime = _realtime(data.get("realtime"), knowledge, file, problems)

    query_path = folder / "query.sql"
    query = ""
    reads: frozenset[str] = frozenset()
    if not query_path.exists():
        problems.append(Problem(str(query_path), "缺少 query.sql", "query.sql missing"))
    else:
        query = query_path.read_text(encoding="utf-8")
        bad, query_reads = parse_query(query, str(query_path), params)
        problems += bad
        reads |= query_reads
        for name in sorted(placeholders(query) - set(params)):
            problems.append(
                Problem(str(query_path), "引用了未声明的参数", "uses an undeclared parameter", field=f"${{{name}}}")
            )
    spark_path = folder / "spark.sql"
    spark_query = spark_path.read_text(encoding="utf-8") if spark_path.exists() else None
    if spark_query is not None:
        bad, spark_reads = parse_query(spark_query, str(spark_path), params, read="spark")
        problems += bad
        reads |= spark_reads
        for name in sorted(placeholders(spark_query) - set(params)):
            problems.append(
                Problem(str(spark_path), "引用了未声明的参数", "uses an undeclared parameter", field=f"${{{name}}}")
            )
    if not (folder / "cases.yaml").exists():
        problems.append(Problem(str(folder / "cases.yaml"), "缺少黄金用例 cases.yaml", "cases.yaml missing"))

    if problems:
        raise FundguardError(f"规则声明有误：{folder.name}", f"invalid rule folder: {folder.name}", problems)
    return Rule(
        code=code,
        slug=slug,
        folder=folder,
        name=str(data["name"]),
        tier1=data["tier1"],
        tier2=str(data["tier2"]),
        result_type=data["result_type"],
        stages=tuple(stages),
        object_type=data["object_type"],
        severity=data["severity"],
        needs_history=bool(data["needs_history"]),
        knowledge=tuple(knowledge),
        logic=str(data["logic"]).strip(),
        amount=str(data["amount"]).strip(),
        legal_basis=tuple(str(x) for x in legal),
        query=query,
        params=params,
        seq_2025=data.get("seq_2025"),
        code_1_0=data.get("code_1_0"),
        knowledge_completeness=str(data.get("knowledge_completeness") or ""),
        policy=str(data.get("policy") or ""),
        spark_query=spark_query,
        reads=reads,
        requires_kb=realtime.get("requires_kb", ()),
        kb_keys=realtime.get("kb_keys", KB_KEYS),
        optional_kb=realtime.get("optional_kb", ()),
        always_run=realtime.get("always_run", ""),
        requires_visit=realtime.get("requires_visit", ()),
        requires_med_type=realtime.get("requires_med_type", ()),
    )


def rule_folders(root: Path | None = None) -> list[Path]:
    root = Path(root or RULES_DIR)
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


@dataclass
class Library:
    rules: dict[str, Rule]
    root: Path

    @cached_property
    def version(self) -> str:
        return library_version(self.root)

    def select(self, codes: list[str] | None) -> list[Rule]:
        if not codes:
            return list(self.rules.values())
        unknown = [c for c in codes if c not in self.rules]
        if unknown:
            raise FundguardError(f"未知的规则编码：{', '.join(unknown)}", f"unknown rule codes: {', '.join(unknown)}")
        return [self.rules[c] for c in codes]


def load_library(root: Path | None = None) -> Library:
    """Every rule folder; one error listing all invalid folders."""
    root = Path(root or RULES_DIR)
    rules: dict[str, Rule] = {}
    problems: list[Problem] = []
    for folder in rule_folders(root):
        try:
            rule = load_rule(folder)
        except FundguardError as e:
            problems += e.problems or [Problem(str(folder), e.zh, e.en)]
            continue
        if rule.code in rules:
            problems.append(Problem(str(folder), "规则编码重复", "duplicate rule code", field="code", value=rule.code))
        rules[rule.code] = rule
    if root == RULES_DIR:  # shared relations (engine.shared) belong to the packaged library
        from fundguard.engine.shared import load_shared

        try:
            load_shared()
        except FundguardError as e:
            problems += e.problems
    if problems:
        raise FundguardError("规则库校验失败", "rule library validation failed", problems)
    return Library(rules=rules, root=root)


def library_version(root: Path | None = None) -> str:
    """Package version + hash of every rule file (and shared relation), so a finding names exactly the
    logic that made it."""
    root = Path(root or RULES_DIR)
    h = hashlib.sha256()
    for f in sorted((root / "_shared").glob("*.sql")):
        h.update(f"_shared/{f.name}\0".encode())
        h.update(f.read_bytes())
        h.update(b"\0")
    for folder in rule_folders(root):
        for f in sorted(folder.iterdir()):
            if f.is_file() and f.suffix in (".yaml", ".sql"):
                h.update(f"{folder.name}/{f.name}\0".encode())
                h.update(f.read_bytes())
                h.update(b"\0")
    return f"{fundguard.__version__}+{h.hexdigest()[:12]}"
