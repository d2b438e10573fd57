"""Which rules can fire on a pass: the (kp_type, key) pairs whose knowledge in force meets a code or name
of the claims.

A rule that declares ``realtime.requires_kb`` in its rule.yaml finds something about a claim only
when one of the claim's codes (or names) meets a point of one of those kp_types, by one of the keys
``realtime.kb_keys`` lists (all four by default), so a pass that meets none skips it. The index
answers each way the library's queries compare knowledge with data, as a superset (upper-cased):

- ``code``: ``med_list_codg`` = code (also ``upper(...) = upper(...)`` for diagnoses);
- ``prefix``: code starts with ``code_prefix``;
- ``name``: name contains ``item_name`` of a point without a code (``LIKE '%' || item_name || '%'``,
  which includes equality);
- ``related``: code starts with ``related_codg`` (pairs, interactions, indications: the claim may
  hold the related side, its partner in the history; a prefix match includes equality), or name
  contains ``related_name`` of a point without a related code.

A prefix or name holding a LIKE wildcard (``%``, ``_``) is matched as the LIKE pattern it is; a point
with no code, prefix or name, or an empty-string prefix, meets every pass by every key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

ALL = "*"  # key of a point that meets every pass


def _text(v: object) -> str:
    return "" if v is None else str(v)


def _like(pattern: str, anchored_start: bool) -> re.Pattern[str]:
    """A LIKE pattern (% any run, _ one character) as a regex: a prefix pattern is anchored at the start."""
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(("^" if anchored_start else "") + body, re.S)


@dataclass
class KbIndex:
    exact: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # CODE -> (kp_type, key)
    prefixes: dict[int, dict[str, set[tuple[str, str]]]] = field(default_factory=dict)  # len -> PREFIX -> pairs
    names: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kp_type, key) -> contained names
    patterns: dict[tuple[str, str], list[tuple[re.Pattern[str], bool]]] = field(default_factory=dict)  # (re, on code)
    always: set[str] = field(default_factory=set)  # kp_types that meet every pass

    @classmethod
    def build(cls, points: Iterable[tuple]) -> KbIndex:
        """From (kp_type, med_list_codg, code_prefix, item_name, related_codg, related_name) rows."""
        idx = cls()
        for kp_type, code, prefix, name, rel, rel_name in points:
            if prefix == "" or rel == "":  # an empty (not NULL) prefix: every code starts with it
                idx.always.add(kp_type)
            code, prefix, name, rel, rel_name = map(_text, (code, prefix, name, rel, rel_name))
            if not (code or prefix or name or rel or rel_name):
                idx.always.add(kp_type)
                continue
            if code:
                idx.exact.setdefault(code.upper(), set()).add((kp_type, "code"))
            for p, key in ((prefix, "prefix"), (rel, "related")):
                if p:
                    idx._add_prefix(p, (kp_type, key))
            for n, keyed, key in ((name, code, "name"), (rel_name, rel, "related")):
                if n and not keyed:
                    if "%" in n or "_" in n:
                        idx.patterns.setdefault((kp_type, key), []).append((_like(n.upper(), False), False))
                    else:
                        idx.names.setdefault((kp_type, key), []).append(n.upper())
        for k, names in idx.names.items():
            idx.names[k] = sorted(set(names))
        return idx

    def _add_prefix(self, p: str, pair: tuple[str, str]) -> None:
        if "%" in p or "_" in p:
            self.patterns.setdefault(pair, []).append((_like(p.upper(), True), True))
        else:
            self.prefixes.setdefault(len(p), {}).setdefault(p.upper(), set()).add(pair)

    def matched(
        self, codes: Iterable[str | None], names: Iterable[str | None], wanted: set[str]
    ) -> set[tuple[str, str]]:
        """The (kp_type, key) pairs of kp_types in `wanted` that some code or name of the pass meets;
        (kp_type, ALL) for a kp_type that meets every pass."""
        out = {(kp, ALL) for kp in self.always & wanted}
        code_set = {_text(c).upper() for c in codes if c}
        for raw in code_set:
            out |= {p for p in self.exact.get(raw, ()) if p[0] in wanted}
            for n, table in self.prefixes.items():
                if n <= len(raw):
                    hit = table.get(raw[:n])
                    if hit:
                        out |= {p for p in hit if p[0] in wanted}
        # one containment search per point name over all names of the pass (\0 never occurs in a name)
        name_set = {_text(n).upper() for n in names if n}
        joined = "\0".join(name_set)
        for pair, contained in self.names.items():
            if pair[0] in wanted and pair not in out and any(n in joined for n in contained):
                out.add(pair)
        for pair, pats in self.patterns.items():
            if (
                pair[0] in wanted
                and pair not in out
                and any(pat.search(t) for pat, on_code in pats for t in (code_set if on_code else name_set))
            ):
                out.add(pair)
        return out
