"""The request messages of the real-time audit, validated with pydantic from the national schema.

事中: the 2206/2207 (门诊预结算/结算) and 2303/2304 (住院预结算/结算) envelopes with
``input: {mdtrtinfo, diseinfo[], feedetail[], setlinfo?, oprninfo[]?}``; fee lines carry the
2204/2301 fields. 事前: a 3101-like prescription check with the same shape, whose ``feedetail`` are
the intended orders (price and time optional). Field names and types come from
``fundguard.data.schema`` so the messages and the warehouse cannot drift apart.

A bad message becomes a ``MessageError`` listing every bad field (path like
``input.feedetail[2].cnt``) in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from fundguard.data import schema
from fundguard.data.codes import valid_codes_for
from fundguard.errors import FundguardError, Problem

SETTLEMENT_INFNOS = {"2206": "门诊预结算", "2207": "门诊结算", "2303": "住院预结算", "2304": "住院结算"}
PRESCRIPTION_INFNOS = {"3101": "明细审核事前分析", "3102": "明细审核事中分析"}

_PY_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "bigint": int,
    "date": dt.date,
    "datetime": dt.datetime,
    "amount": Decimal,
    "qty": Decimal,
    "price": Decimal,
    "ratio": Decimal,
    "json": str,
}
# Keys the envelope or the visit supplies; a line need not repeat them.
_FROM_ENVELOPE = {"mdtrt_id", "setl_id", "psn_no", "fixmedins_code", "vali_flag", "med_type"}
_CODED_FIELDS = ("med_type", "insutype", "list_type", "med_chrgitm_type", "chrgitm_lv", "maindiag_flag", "gend")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)


def _model(name: str, table: schema.Table, required: set[str], optional_required: set[str] = frozenset()) -> type:
    """A pydantic model of a schema table: `required` fields must be present, others optional."""
    fields: dict[str, Any] = {}
    for c in table.columns:
        py = _PY_TYPES[c.type]
        if c.name in required and c.name not in optional_required:
            fields[c.name] = (py, Field(..., min_length=1) if py is str else ...)
        else:
            fields[c.name] = (py | None, None)
    return create_model(name, __base__=_Strict, **fields)


def _required(table: schema.Table, drop: set[str] = frozenset(), add: set[str] = frozenset()) -> set[str]:
    return (set(table.required_columns) - drop) | set(add)


MdtrtInfo = _model(
    "MdtrtInfo",
    schema.MDTRT_D,
    _required(schema.MDTRT_D, drop={"fixmedins_code"}),
)
DiseInfo = _model("DiseInfo", schema.DIAG_D, _required(schema.DIAG_D, drop={"mdtrt_id"}))
OprnInfo = _model("OprnInfo", schema.OPRN_D, _required(schema.OPRN_D, drop={"mdtrt_id"}))
FeeDetail = _model("FeeDetail", schema.FEE_LIST_D, _required(schema.FEE_LIST_D, drop=_FROM_ENVELOPE))
# An order before it is placed: no price, amount or time yet is acceptable.
OrderDetail = _model(
    "OrderDetail",
    schema.FEE_LIST_D,
    _required(schema.FEE_LIST_D, drop=_FROM_ENVELOPE | {"pric", "det_item_fee_sumamt", "fee_ocur_time"}),
)
SetlInfo = _model("SetlInfo", schema.SETL_D, set())
PsnInfo = _model("PsnInfo", schema.PSN_INFO, set())


class _Input(_Strict):
    mdtrtinfo: MdtrtInfo  # type: ignore[valid-type]
    diseinfo: list[DiseInfo] = Field(default_factory=list)  # type: ignore[valid-type]
    oprninfo: list[OprnInfo] = Field(default_factory=list)  # type: ignore[valid-type]
    setlinfo: SetlInfo | None = None  # type: ignore[valid-type]
    # Optional: the person's master data when the warehouse does not know them yet (e.g. a new insured).
    psninfo: PsnInfo | None = None  # type: ignore[valid-type]


class SettlementInput(_Input):
    feedetail: list[FeeDetail] = Field(..., min_length=1, max_length=5000)  # type: ignore[valid-type]


class PrescriptionInput(_Input):
    feedetail: list[OrderDetail] = Field(..., min_length=1, max_length=5000)  # type: ignore[valid-type]


class _Envelope(_Strict):
    infno: str
    msgid: str = Field(..., min_length=1, max_length=64)
    fixmedins_code: str = Field(..., pattern=rf"^{schema.FIXMEDINS_CODE_RE}$")
    inf_time: dt.datetime
    mdtrtarea_admvs: str | None = None


class SettlementMessage(_Envelope):
    input: SettlementInput

    @field_validator("infno")
    @classmethod
    def _infno(cls, v: str) -> str:
        if v not in SETTLEMENT_INFNOS:
            raise ValueError(f"infno must be one of {', '.join(SETTLEMENT_INFNOS)}")
        return v


class PrescriptionMessage(_Envelope):
    input: PrescriptionInput

    @field_validator("infno")
    @classmethod
    def _infno(cls, v: str) -> str:
        if v not in PRESCRIPTION_INFNOS:
            raise ValueError(f"infno must be one of {', '.join(PRESCRIPTION_INFNOS)}")
        return v


class MessageError(FundguardError):
    """A message that cannot be audited: every bad field named (HTTP 400)."""


_REASONS: dict[str, tuple[str, str]] = {
    "missing": ("缺少必填字段", "required field missing"),
    "string_too_short": ("不能为空", "must not be empty"),
    "too_short": ("至少需要一项", "needs at least one item"),
    "too_long": ("项数过多", "too many items"),
    "string_too_long": ("长度超出上限", "too long"),
    "string_pattern_mismatch": ("格式不符合要求", "does not match the required format"),
    "decimal_parsing": ("应为数值", "must be a number"),
    "decimal_type": ("应为数值", "must be a number"),
    "int_parsing": ("应为整数", "must be an integer"),
    "datetime_from_date_parsing": ("应为时间 yyyy-MM-dd HH:mm:ss", "must be a datetime yyyy-MM-dd HH:mm:ss"),
    "datetime_parsing": ("应为时间 yyyy-MM-dd HH:mm:ss", "must be a datetime yyyy-MM-dd HH:mm:ss"),
    "datetime_type": ("应为时间 yyyy-MM-dd HH:mm:ss", "must be a datetime yyyy-MM-dd HH:mm:ss"),
    "date_from_datetime_parsing": ("应为日期 yyyy-MM-dd", "must be a date yyyy-MM-dd"),
    "date_parsing": ("应为日期 yyyy-MM-dd", "must be a date yyyy-MM-dd"),
    "string_type": ("应为文本", "must be a string"),
    "model_type": ("应为对象", "must be an object"),
    "model_attributes_type": ("应为对象", "must be an object"),
    "list_type": ("应为数组", "must be an array"),
    "json_invalid": ("不是合法的 JSON", "invalid JSON"),
}


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(报文)"


def problems_from(e: ValidationError, source: str) -> list[Problem]:
    out = []
    for err in e.errors():
        zh, en = _REASONS.get(err["type"], ("取值无效", err.get("msg", "invalid value")))
        if err["type"] == "value_error":
            zh, en = "取值无效", str(err.get("msg", "")).removeprefix("Value error, ")
            if "infno" in err["loc"]:
                zh = "交易编号不适用于本接口"
        value = err.get("input")
        shown = None if err["type"] == "missing" or isinstance(value, dict | list) else str(value)[:80]
        out.append(Problem(source, zh, en, field=_path(err["loc"]), value=shown))
    return out


@cache
def _coded_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The coded fields a message part declares (getattr of an undeclared name is pydantic's slow path)."""
    return tuple(name for name in _CODED_FIELDS if name in model.model_fields)


def _check_codes(msg: _Envelope, source: str) -> list[Problem]:
    """Coded fields must hold a code of the national table (unknown codes would silently pass rules)."""
    problems: list[Problem] = []

    def check(obj: BaseModel | None, where: str) -> None:
        if obj is None:
            return
        for name in _coded_fields(type(obj)):
            value = getattr(obj, name)
            if value is None:
                continue
            table = valid_codes_for(name)
            if not table.is_valid(value):
                problems.append(
                    Problem(
                        source,
                        f"不是有效的{table.zh_name}代码",
                        f"not a valid {name} code",
                        field=f"{where}.{name}",
                        value=str(value),
                    )
                )

    inp = msg.input  # type: ignore[attr-defined]
    check(inp.mdtrtinfo, "input.mdtrtinfo")
    check(inp.psninfo, "input.psninfo")
    for i, d in enumerate(inp.diseinfo):
        check(d, f"input.diseinfo[{i}]")
    seen: set[str] = set()
    for i, f in enumerate(inp.feedetail):
        check(f, f"input.feedetail[{i}]")
        if f.feedetl_sn in seen:
            problems.append(
                Problem(source, "费用明细流水号重复", "duplicate feedetl_sn", field=f"input.feedetail[{i}].feedetl_sn")
            )
        seen.add(f.feedetl_sn)
    return problems


def parse(kind: str, payload: Any, source: str = "请求报文") -> SettlementMessage | PrescriptionMessage:
    """Validate a decoded JSON payload; raise MessageError naming every bad field."""
    model = SettlementMessage if kind == "settlement" else PrescriptionMessage
    if not isinstance(payload, dict):
        raise MessageError(
            "报文须为 JSON 对象",
            "the message must be a JSON object",
            [Problem(source, "须为对象", "must be an object")],
        )
    try:
        msg = model.model_validate(payload)
    except ValidationError as e:
        problems = problems_from(e, source)
        raise MessageError(
            f"报文校验失败：{problems[0].zh()}" + (f" 等 {len(problems)} 处" if len(problems) > 1 else ""),
            f"invalid message: {problems[0].en()}" + (f" and {len(problems) - 1} more" if len(problems) > 1 else ""),
            problems,
        ) from None
    problems = _check_codes(msg, source)
    if problems:
        raise MessageError(f"报文校验失败：{problems[0].zh()}", f"invalid message: {problems[0].en()}", problems)
    return msg
