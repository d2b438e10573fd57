"""Data scope (数据权限): which 统筹区 and institution a user may see, as SQL the data-access layer always adds."""

from __future__ import annotations

from dataclasses import dataclass

from fundguard.store.models import User


@dataclass(frozen=True)
class Scope:
    # None = every region; () = none at all.
    admdvs: tuple[str, ...] | None
    # Set for 定点机构用户: only this institution.
    fixmedins_code: str | None = None

    @classmethod
    def for_user(cls, user: User) -> Scope:
        codes = tuple(s for s in (user.admdvs_scope or "").split(",") if s)
        if user.role == "institution":
            # An institution user is bound to its institution whatever its region list says.
            return cls(None if "*" in codes or not codes else codes, user.fixmedins_code or "\x00none")
        return cls(None if "*" in codes else codes)

    def allows_region(self, admdvs: str) -> bool:
        return self.admdvs is None or admdvs in self.admdvs

    def sql(self, fixmedins_col: str, admdvs_col: str | None = None) -> tuple[str, list]:
        """A boolean SQL condition (with ? parameters) restricting rows to this scope.

        fixmedins_col: the row's institution column; admdvs_col: the row's region column if it has one,
        else the region is looked up through the institution (fixmedins.admdvs).
        """
        parts: list[str] = []
        params: list = []
        if self.fixmedins_code is not None:
            parts.append(f"{fixmedins_col} = ?")
            params.append(self.fixmedins_code)
        if self.admdvs is not None:
            if not self.admdvs:
                return "FALSE", []
            marks = ", ".join("?" for _ in self.admdvs)
            if admdvs_col:
                parts.append(f"{admdvs_col} IN ({marks})")
            else:
                parts.append(f"{fixmedins_col} IN (SELECT fixmedins_code FROM fixmedins WHERE admdvs IN ({marks}))")
            params.extend(self.admdvs)
        return (" AND ".join(f"({p})" for p in parts) or "TRUE"), params
