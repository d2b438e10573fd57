import pytest

from fundguard.kb import values


@pytest.mark.parametrize(
    ("text", "days"),
    [("14天", 14), ("20天", 20), ("两周", 14), ("12个月", 365), ("一年", 365), ("3个月", 90), ("十四天", 14)],
)
def test_days(text, days):
    assert values.days(text) == days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("支付不超过30天。", (30, None)),
        ("总时间不超过90天，评定间隔时间不短于14天。", (90, 14)),
        ("支付不超过一年，每周最多支付一次。", (365, 7)),
        ("支付不超过6个月，间隔不少于1个月", (180, 30)),
    ],
)
def test_course_note(text, expected):
    assert values.course_note(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("儿童", "儿童"),
        ("新生儿", "新生儿"),
        ("婴幼儿", "婴幼儿"),
        ("3-12岁", "3-12"),
        ("2岁至<18岁", "2-18"),
        ("13岁和13岁以上", "13-150"),
        ("14岁以下", "0-14"),
        ("成人和6岁及以上儿童", "6-150"),
    ],
)
def test_age(text, expected):
    assert values.age(text)[0] == expected


def test_words():
    assert values.gender("男性") == "男" and values.gender("女") == "女"
    assert values.hosp_level("二级及以上医疗机构") == ("二级", 2)
    assert values.hosp_level("三级甲等") == ("三级", 3)
    assert values.insutype("生育保险") == "生育"
    assert values.med_type("住院") == "住院" and values.med_type("门诊") == "门诊"


def test_window():
    assert values.window("单日")["window_days"] == 1
    assert values.window("6小时") == {
        "limit_value": "6小时",
        "limit_num": 6.0,
        "limit_unit": "小时",
        "window_days": None,
    }
    assert values.window("单次就诊")["limit_unit"] == "次"
    assert values.window("7天")["window_days"] == 7


@pytest.mark.parametrize(
    "fn",
    [values.days, values.gender, values.hosp_level, values.insutype, values.age, values.window, values.course_note],
)
def test_unparseable_is_reported(fn):
    with pytest.raises(values.Unparseable) as e:
        fn("若干")
    assert e.value.zh and e.value.en
