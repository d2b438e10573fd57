import shutil

import pytest
import yaml

from fundguard.engine.library import RULES_DIR, library_version, load_library, load_rule
from fundguard.errors import FundguardError

SRC = RULES_DIR / "GZ10000204001000_split_admission"


@pytest.fixture
def rule_dir(tmp_path):
    dst = tmp_path / "rules" / SRC.name
    shutil.copytree(SRC, dst)
    return dst


def _edit(folder, **changes):
    path = folder / "rule.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(folder) -> list[tuple[str | None, str]]:
    with pytest.raises(FundguardError) as e:
        load_rule(folder)
    return [(p.field, p.reason_zh) for p in e.value.problems]


def test_exemplar_loads(rule_dir):
    rule = load_rule(rule_dir)
    assert rule.code == "GZ10000204001000" and rule.needs_history
    assert set(rule.params) == {
        "max_interval_days",
        "diag_prefix_len",
    }


def test_every_problem_is_reported_with_its_field(rule_dir):
    _edit(rule_dir, result_type="违规", stages=["事后", "随时"], name=None, knowledge=["no_such_kp"], extra=1)
    fields = {f for f, _ in _problems(rule_dir)}
    assert {"result_type", "stages", "name", "knowledge", "extra"} <= fields


def test_folder_must_match_code(rule_dir, tmp_path):
    moved = rule_dir.parent / "GZ10000204002000_split_admission"
    rule_dir.rename(moved)
    assert any("目录名须以规则编码开头" in reason for _, reason in _problems(moved))


def test_undeclared_parameter_and_bad_sql(rule_dir):
    q = rule_dir / "query.sql"
    q.write_text(q.read_text(encoding="utf-8").replace("${max_interval_days}", "${max_gap}"), encoding="utf-8")
    assert ("${max_gap}", "引用了未声明的参数") in _problems(rule_dir)
    q.write_text("SELECT FROM WHERE", encoding="utf-8")
    assert any("SQL" in reason for _, reason in _problems(rule_dir))


def test_bad_parameter_dates_and_regions(rule_dir):
    _edit(rule_dir, params={"a": {"desc": "d", "values": {"2020-13-01": 1}, "overrides": {"23": {"2020-01-01": 2}}}})
    reasons = " ".join(r for _, r in _problems(rule_dir))
    assert "生效日期格式错误" in reasons and "区划代码须为6位数字" in reasons


def test_missing_cases_file(rule_dir):
    (rule_dir / "cases.yaml").unlink()
    assert any("cases.yaml" in reason for _, reason in _problems(rule_dir))


def test_library_version_changes_with_any_rule_file(rule_dir):
    root = rule_dir.parent
    v1 = library_version(root)
    assert v1 == load_library(root).version
    (rule_dir / "query.sql").write_text(
        (rule_dir / "query.sql").read_text(encoding="utf-8") + "\n-- x\n", encoding="utf-8"
    )
    assert library_version(root) != v1
