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


# Loading through the engine parses every query (≈ 4 s for 100 rules), so declarations are cached per folder
# and reloaded only when a file of that folder changes.
_CACHE: dict[Path, tuple[tuple, dict[str, Any] | None]] = {}


def _signature(folder: Path) -> tuple:
    return tuple(sorted((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in folder.iterdir() if f.is_file()))


def _cached(folder: Path) -> dict[str, Any] | None:
    sig = _signature(folder)
    hit = _CACHE.get(folder)
    if hit and hit[0] == sig:
        return hit[1]
    decl = _declaration(folder)
    if decl is not None:
        decl["folder"] = folder.name
    _CACHE[folder] = (sig, decl)
    return decl


def _folders(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_rules(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every rule type's declaration, keyed by code."""
    out: dict[str, dict[str, Any]] = {}
    for folder in _folders(Path(root or RULES_DIR)):
        decl = _cached(folder)
        if decl and decl.get("code"):
            out[str(decl["code"])] = decl
    return out


def load_rule(code: str, root: Path | None = None) -> dict[str, Any] | None:
    """One rule type's declaration (folders are named <code>_<slug>)."""
    for folder in _folders(Path(root or RULES_DIR)):
        if folder.name == code or folder.name.startswith(code + "_"):
            decl = _cached(folder)
            if decl and decl.get("code") == code:
                return decl
    return load_rules(root).get(code)
