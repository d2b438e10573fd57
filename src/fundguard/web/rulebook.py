"""Rule types for the library browser: through fundguard.engine when it loads, else rule.yaml read directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import fundguard

RULES_DIR = Path(fundguard.__file__).resolve().parent / "rules"


def _raw(folder: Path) -> dict[str, Any] | None:
    path = folder / "rule.yaml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    params = {}
    for name, spec in (data.get("params") or {}).items():
        spec = spec or {}
        params[str(name)] = {
            "desc": spec.get("desc", ""),
            "unit": spec.get("unit", ""),
            "values": {str(k): v for k, v in (spec.get("values") or {}).items()},
            "overrides": {
                str(r): {str(k): v for k, v in (s or {}).items()} for r, s in (spec.get("overrides") or {}).items()
            },
        }
    data["params"] = params
    data["legal_basis"] = list(data.get("legal_basis") or [])
    data["knowledge"] = list(data.get("knowledge") or [])
    data["stages"] = list(data.get("stages") or [])
    return data


def _declaration(folder: Path) -> dict[str, Any] | None:
    try:
        from fundguard.engine.library import load_rule

        return load_rule(folder).declaration()
    except Exception:  # engine absent, changing, or the folder invalid: still show what rule.yaml says
        return _raw(folder)


def load_rules(root: Path | None = None) -> dict[str, dict[str, Any]]:
    root = Path(root or RULES_DIR)
    out: dict[str, dict[str, Any]] = {}
    if not root.exists():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        decl = _declaration(folder)
        if decl and decl.get("code"):
            decl["folder"] = folder.name
            out[str(decl["code"])] = decl
    return out
