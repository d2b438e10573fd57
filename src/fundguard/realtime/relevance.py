"""Which rules can fire on a pass: the kp_types whose knowledge in force matches a code or name of the claims.

A rule that declares ``realtime.requires_kb`` in its rule.yaml finds something about a claim only
when one of the claim's codes (or names) meets a point of one of those kp_types, so a pass whose
claims match none of them skips it. Every query of the library compares knowledge with data in one
of these ways, and the index answers each of them as a superset (everything upper-cased):

- ``med_list_codg`` = code (also ``upper(...) = upper(...)`` for diagnoses);
- code starts with ``code_prefix`` or with ``related_codg`` (pairs, interactions, indications: the
  claim may hold the related side, its partner in the history) — a prefix match includes equality;
- name contains ``item_name`` (points without a code) or ``related_name`` (points without a
  related code), the ``LIKE '%' || name || '%'`` of the queries.

A point that cannot be matched this way (no code, prefix or name; an empty-string prefix; a LIKE
wildcard ``%``/``_`` in a prefix or name) makes its kp_type match every pass: pruning must never skip a rule that could fire.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

_WILD = ("%", "_")


def _text(v: object) -> str:
    return "" if v is None else str(v)


@dataclass
class KbIndex:
    exact: dict[str, set[str]] = field(default_factory=dict)  # CODE -> kp_types
    prefixes: dict[int, dict[str, set[str]]] = field(default_factory=dict)  # length -> PREFIX -> kp_types
    names: dict[str, list[str]] = field(default_factory=dict)  # kp_type -> names matched by containment
    always: set[str] = field(default_factory=set)  # kp_types that match every pass

    @classmethod
    def build(cls, points: Iterable[tuple]) -> KbIndex:
        """From (kp_type, med_list_codg, code_prefix, item_name, related_codg, related_name) rows."""
        idx = cls()
        for kp_type, code, prefix, name, rel, rel_name in points:
            if prefix == "" or rel == "":  # an empty (not NULL) prefix: starts_with(x, '') holds for every code
                idx.always.add(kp_type)
            code, prefix, name, rel, rel_name = map(_text, (code, prefix, name, rel, rel_name))
            if not (code or prefix or name or rel or rel_name):
                idx.always.add(kp_type)
                continue
            if code:
                idx.exact.setdefault(code.upper(), set()).add(kp_type)
            for p in (prefix, rel):
                if p:
                    if any(w in p for w in _WILD):
                        idx.always.add(kp_type)
                    idx.prefixes.setdefault(len(p), {}).setdefault(p.upper(), set()).add(kp_type)
            for n, keyed in ((name, code), (rel_name, rel)):
                if n and not keyed:
                    if any(w in n for w in _WILD):
                        idx.always.add(kp_type)
                    idx.names.setdefault(kp_type, []).append(n.upper())
        for kp_type, names in idx.names.items():
            idx.names[kp_type] = sorted(set(names))
        return idx

    def matched(self, codes: Iterable[str | None], names: Iterable[str | None], wanted: set[str]) -> set[str]:
        """The kp_types of `wanted` that some code or name of the pass meets."""
        out = self.always & wanted
        for raw in {_text(c).upper() for c in codes if c}:
            out |= self.exact.get(raw, set()) & wanted
            for n, table in self.prefixes.items():
                if n <= len(raw):
                    hit = table.get(raw[:n])
                    if hit:
                        out |= hit & wanted
        # one containment search per point name over all names of the pass (\0 never occurs in a name)
        joined = "\0".join({_text(n).upper() for n in names if n})
        if joined:
            for kp_type in wanted - out:
                if any(n in joined for n in self.names.get(kp_type, ())):
                    out.add(kp_type)
        return out
