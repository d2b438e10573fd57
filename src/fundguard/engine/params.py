"""Effective-dated, region-overridable rule parameters (OpenFisca style) and their SQL literals.

A parameter declares ``values: {date: value}``; the value in force on a date is the one with the
latest start date not after it (``null`` ends the previous value). ``overrides: {admdvs: {date: value}}``
replace the national series for a region; a region matches an override key equal to it or to its
province/city prefix (``230000`` covers ``230100``), the most specific key winning.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Param:
    name: str
    desc: str
    values: dict[dt.date, Any]
    overrides: dict[str, dict[dt.date, Any]] = field(default_factory=dict)
    unit: str = ""

    def series_for(self, admdvs: str | None) -> tuple[dict[dt.date, Any], str | None]:
        """The date series in force for a region, and the override key used (None = national)."""
        if admdvs:
            best: str | None = None
            for key in self.overrides:
                if _region_covers(key, admdvs) and (best is None or _specificity(key) > _specificity(best)):
                    best = key
            if best is not None:
                return self.overrides[best], best
        return self.values, None

    def value_on(self, on: dt.date, admdvs: str | None = None) -> Any:
        series, _ = self.series_for(admdvs)
        value = _value_in_series(series, on)
        if value is _MISSING and series is not self.values:
            value = _value_in_series(self.values, on)  # override starts later: national value until then
        if value is _MISSING:
            raise LookupError(f"parameter {self.name} has no value in force on {on.isoformat()}")
        return value


_MISSING = object()


def _value_in_series(series: dict[dt.date, Any], on: dt.date) -> Any:
    starts = sorted(d for d in series if d <= on)
    if not starts:
        return _MISSING
    value = series[starts[-1]]
    return _MISSING if value is None else value


def _specificity(key: str) -> int:
    return len(key.rstrip("0"))


def _region_covers(key: str, admdvs: str) -> bool:
    prefix = key.rstrip("0")
    return admdvs == key or (len(prefix) >= 2 and admdvs.startswith(prefix))


def bind(params: dict[str, Param], on: dt.date, admdvs: str | None, overrides: dict[str, Any] | None = None) -> dict:
    """Values in force for every parameter (explicit overrides, e.g. from a golden case, win)."""
    bound = {name: p.value_on(on, admdvs) for name, p in params.items()}
    for name, value in (overrides or {}).items():
        if name not in params:
            raise KeyError(name)
        bound[name] = value
    return bound


def sql_literal(value: Any) -> str:
    """A typed SQL literal valid in DuckDB and Spark."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return format(Decimal(str(value)), "f")
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError("empty list parameter")
        return "(" + ", ".join(sql_literal(v) for v in value) + ")"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"unsupported parameter type {type(value).__name__}")


def substitute(sql: str, bound: dict[str, Any]) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name not in bound:
            raise KeyError(name)
        return sql_literal(bound[name])

    return PLACEHOLDER.sub(repl, sql)


def placeholders(sql: str) -> set[str]:
    return set(PLACEHOLDER.findall(sql))


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
