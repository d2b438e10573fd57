"""The data dictionary (数据字典), generated from fundguard.data.schema and fundguard.data.codes.

docs/data-dictionary.md is this module's output (`fundguard schema docs`); a test fails when it is stale,
so the published dictionary never drifts from the tables the loader validates.
"""

from __future__ import annotations

from fundguard.data import codes, schema
from fundguard.data.load.discover import REQUIRED_TABLES
from fundguard.data.load.tables import LOAD_RUNS, LOAD_RUNS_DDL

TYPE_ZH = {
    "str": "文本",
    "int": "整数",
    "bigint": "整数",
    "date": "日期",
    "datetime": "日期时间",
    "amount": "金额",
    "qty": "数量",
    "price": "单价",
    "ratio": "比例",
    "json": "JSON",
}
AMOUNT_RULES = {
    "setl_d": "`medfee_sumamt = fund_pay_sumamt + psn_part_amt (+ hosp_part_amt)`；"
    "`psn_part_amt = acct_pay + psn_cash_pay`；`fund_pay_sumamt = Σ 各项基金支出`；"
    "有效结算的 `medfee_sumamt = Σ 其有效费用明细 det_item_fee_sumamt`",
    "fee_list_d": "`det_item_fee_sumamt ≈ cnt × pric`（另有相对容差 1e-4）",
}
KIND_ZH = {"claims": "结算明细数据", "reference": "参考/主数据", "output": "平台输出"}


def column_info(c: schema.Column) -> dict:
    info = {
        "name": c.name,
        "zh": c.zh,
        "type": c.type,
        "type_zh": TYPE_ZH[c.type],
        "sql_type": c.sql_type,
        "required": c.required,
        "codes": c.codes,
        "pattern": c.pattern,
        "ref": c.ref,
        "desc": c.desc,
    }
    if c.codes:
        ct = codes.valid_codes_for(c.codes)
        info["code_values"] = dict(ct.codes)
        info["code_local_pattern"] = ct.local_pattern
        info["code_aliases"] = dict(ct.aliases)
    return info


def table_info(name: str) -> dict:
    t = schema.table(name)
    return {
        "name": t.name,
        "zh": t.zh,
        "grain": t.grain,
        "kind": t.kind,
        "kind_zh": KIND_ZH.get(t.kind, t.kind),
        "source": t.source,
        "primary_key": list(t.primary_key),
        "time_column": t.time_column,
        "required_file": t.name in REQUIRED_TABLES,
        "columns": [column_info(c) for c in t.columns],
    }


def tables_summary() -> list[dict]:
    return [
        {
            "name": t.name,
            "zh": t.zh,
            "kind": t.kind,
            "grain": t.grain,
            "columns": len(t.columns),
            "required_columns": len(t.required_columns),
            "primary_key": list(t.primary_key),
            "required_file": t.name in REQUIRED_TABLES,
        }
        for t in schema.ALL_TABLES.values()
    ]


def code_table_info(name: str) -> dict:
    ct = codes.ALL_CODE_TABLES[name]
    return {
        "name": ct.name,
        "zh": ct.zh_name,
        "source": ct.source,
        "codes": dict(ct.codes),
        "local_pattern": ct.local_pattern,
        "aliases": dict(ct.aliases),
        "notes": ct.notes,
    }


def _cell(text: str | None) -> str:
    """A markdown table cell: pipes escaped, newlines flattened."""
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    return f"`{_cell(text)}`" if text else ""


def _table_md(t: schema.Table) -> list[str]:
    lines = [
        f'<a id="table-{t.name}"></a>',
        "",
        f"### {t.name} {t.zh}",
        "",
        f"- 每行 / grain：{t.grain}",
        f"- 类别：{KIND_ZH.get(t.kind, t.kind)}（{t.kind}）",
        f"- 来源 / source：{t.source or '—'}",
        f"- 主键：{', '.join(f'`{k}`' for k in t.primary_key)}",
    ]
    if t.time_column:
        lines.append(f"- 时间列（事件时间，用于按期间筛选）：`{t.time_column}`")
    if t.kind != "output":
        need = "必需（仓库中尚无此表时）" if t.name in REQUIRED_TABLES else "可选"
        lines.append(f"- 加载文件：`{t.name}.csv` / `.parquet`{' / `.xlsx`' if t.kind == 'reference' else ''}，{need}")
    if t.name in AMOUNT_RULES:
        lines.append(f"- 加载时校验的金额关系（容差 0.01 元，详见 [loading.md](loading.md)）：{AMOUNT_RULES[t.name]}")
    lines += [
        "",
        "| 字段 | 中文名 | 类型 | 必填 | 代码表 | 格式 | 引用 | 说明 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in t.columns:
        code = f"[{c.codes}](#code-{c.codes})" if c.codes else ""
        ref = f"[`{c.ref}`](#table-{c.ref.split('.')[0]})" if c.ref else ""
        if c.codes == "hosp_lv":
            code += " 或 [hosp_lv_simple](#code-hosp_lv_simple)"
        lines.append(
            f"| `{c.name}` | {_cell(c.zh)} | {TYPE_ZH[c.type]} `{c.sql_type}` | {'是' if c.required else ''} "
            f"| {code} | {_code(c.pattern)} | {ref} | {_cell(c.desc)} |"
        )
    return [*lines, ""]


def _code_table_md(ct: codes.CodeTable) -> list[str]:
    lines = [f'<a id="code-{ct.name}"></a>', "", f"### {ct.name} {ct.zh_name}", "", f"- 来源 / source：{ct.source}"]
    if ct.local_pattern:
        lines.append(f"- 另接受地方扩展代码，格式：{_code(ct.local_pattern)}")
    if ct.aliases:
        alias = "、".join(f"`{a}`→`{c}`" for a, c in sorted(ct.aliases.items()))
        lines.append(f"- 同义代码（加载时统一为标准代码）：{alias}")
    if ct.notes:
        lines.append(f"- 说明：{_cell(ct.notes)}")
    used = [f"`{t.name}.{c.name}`" for t in schema.ALL_TABLES.values() for c in t.columns if c.codes == ct.name]
    if ct.name == "hosp_lv_simple":
        used = [f"`{t.name}.{c.name}`" for t in schema.ALL_TABLES.values() for c in t.columns if c.codes == "hosp_lv"]
    if used:
        lines.append(f"- 使用字段：{', '.join(used)}")
    lines += ["", "| 代码 | 名称 |", "|---|---|"]
    lines += [f"| `{_cell(k)}` | {_cell(v)} |" for k, v in ct.codes.items()]
    return [*lines, ""]


def _load_runs_md() -> list[str]:
    cols = [ln.strip().rstrip(",") for ln in LOAD_RUNS_DDL.splitlines()[1:-1]]
    lines = [
        f"### {LOAD_RUNS} 加载记录",
        "",
        "- 每行 / grain：one successful `fundguard load` run",
        "- 类别：平台输出；由加载程序写入，与数据写入同一事务（失败的加载不留记录）",
        "",
        "| 字段 | 类型 |",
        "|---|---|",
    ]
    lines += [f"| `{c.split()[0]}` | `{c.split()[1]}` |" for c in cols]
    return [*lines, ""]


def render_markdown() -> str:
    out = [
        "# 数据字典 / Data dictionary",
        "",
        "<!-- 由 `fundguard schema docs` 根据 src/fundguard/data/schema.py 与 codes.py 生成，请勿手工编辑。"
        " Generated; do not edit by hand. -->",
        "",
        "本文件列出平台接收的国家医疗保障信息平台数据表（字段名采用国家接口标准）、字段含义、类型、"
        "必填、代码表、格式和表间引用，以及全部代码表取值。加载与校验规则见 [loading.md](loading.md)。",
        "",
        "## 表一览",
        "",
        "| 表 | 中文名 | 类别 | 每行 | 主键 | 字段数 |",
        "|---|---|---|---|---|---|",
    ]
    for t in schema.ALL_TABLES.values():
        out.append(
            f"| [`{t.name}`](#table-{t.name}) | {t.zh} | {KIND_ZH.get(t.kind, t.kind)} | {_cell(t.grain)} "
            f"| {', '.join(t.primary_key)} | {len(t.columns)} |"
        )
    out += [
        "",
        "类型说明：金额 `DECIMAL(16,2)`（元，退费为负数），日期 `YYYY-MM-DD`，日期时间 `YYYY-MM-DD HH:MM:SS`。",
        "",
    ]
    out += ["## 数据表", ""]
    for t in schema.ALL_TABLES.values():
        out += _table_md(t)
    out += _load_runs_md()
    out += ["## 代码表", ""]
    for ct in codes.ALL_CODE_TABLES.values():
        out += _code_table_md(ct)
    return "\n".join(out).rstrip() + "\n"
