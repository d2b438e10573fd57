from pathlib import Path

from fundguard.engine.catalogue import catalogue_markdown
from fundguard.engine.library import load_library

DOC = Path(__file__).resolve().parents[2] / "docs" / "rule-catalogue.md"


def test_rule_catalogue_is_up_to_date():
    expected = catalogue_markdown(load_library())
    assert DOC.exists(), "docs/rule-catalogue.md missing: run `fundguard rules docs`"
    assert DOC.read_text(encoding="utf-8") == expected, "docs/rule-catalogue.md is stale: run `fundguard rules docs`"


def test_catalogue_names_every_rule_with_its_parameters():
    library = load_library()
    text = catalogue_markdown(library)
    for code, rule in library.rules.items():
        assert f"### {code} {rule.name}" in text
        for name in rule.params:
            assert f"`{name}`" in text
    assert "2020-01-01 起 15" in text  # split admission interval with its effective date
