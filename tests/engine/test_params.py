import datetime as dt
from decimal import Decimal

import pytest

from fundguard.engine.params import Param, bind, sql_literal, substitute

D = dt.date


def _p(**kw) -> Param:
    return Param(name="x", desc="d", values=kw.pop("values"), overrides=kw.pop("overrides", {}))


def test_value_in_force_follows_effective_dates():
    p = _p(values={D(2020, 1, 1): 18, D(2024, 7, 1): 16})
    assert p.value_on(D(2024, 6, 30)) == 18
    assert p.value_on(D(2024, 7, 1)) == 16
    with pytest.raises(LookupError):
        p.value_on(D(2019, 12, 31))


def test_null_ends_a_value():
    p = _p(values={D(2020, 1, 1): 5, D(2023, 1, 1): None})
    assert p.value_on(D(2022, 12, 31)) == 5
    with pytest.raises(LookupError):
        p.value_on(D(2023, 6, 1))


def test_region_override_most_specific_prefix_wins_and_national_fills_before_it_starts():
    p = _p(
        values={D(2020, 1, 1): 18},
        overrides={"230000": {D(2021, 1, 1): 15}, "230100": {D(2024, 1, 1): 14}},
    )
    assert p.value_on(D(2025, 1, 1), "230100") == 14  # city beats province
    assert p.value_on(D(2023, 1, 1), "230100") == 18  # city override not yet in force → national
    assert p.value_on(D(2025, 1, 1), "230200") == 15  # other city in the province
    assert p.value_on(D(2025, 1, 1), "110000") == 18
    assert p.value_on(D(2025, 1, 1), None) == 18


def test_bind_with_case_overrides_and_unknown_name():
    params = {"x": _p(values={D(2020, 1, 1): 1})}
    assert bind(params, D(2025, 1, 1), None) == {"x": 1}
    assert bind(params, D(2025, 1, 1), None, {"x": 7}) == {"x": 7}
    with pytest.raises(KeyError):
        bind(params, D(2025, 1, 1), None, {"y": 7})


def test_typed_literals():
    assert sql_literal(15) == "15"
    assert sql_literal(0.4) == "0.4"
    assert sql_literal(Decimal("12.50")) == "12.50"
    assert sql_literal(True) == "TRUE"
    assert sql_literal("O'Neil") == "'O''Neil'"
    assert sql_literal(D(2025, 3, 1)) == "DATE '2025-03-01'"
    assert sql_literal(["21", "22"]) == "('21', '22')"
    assert substitute("WHERE a <= ${x} AND b IN ${y}", {"x": 3, "y": ["1"]}) == "WHERE a <= 3 AND b IN ('1')"
    with pytest.raises(KeyError):
        substitute("${missing}", {})
