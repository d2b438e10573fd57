"""The real-time auditor: a message in, verdicts per fee line and claim-level findings out.

Rules are the library's, selected by stage (事中 for settlements, 事前 for prescriptions); the
claim is judged with the person's history from the history store. Only findings about the incoming
claim are returned: its lines, its settlement and its visit.
"""

from __future__ import annotations

import bisect
import datetime as dt
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fundguard.config import load_settings
from fundguard.engine.library import Library, Rule, load_library
from fundguard.errors import FundguardError, Problem
from fundguard.realtime.batcher import Batcher
from fundguard.realtime.context import ClaimRows, EvalContext, RuleContext
from fundguard.realtime.history import open_store
from fundguard.realtime.messages import MessageError, PrescriptionMessage, SettlementMessage
from fundguard.realtime.sqlite_context import SqliteContext

EXECUTORS = ("sqlite", "duckdb")
DEFAULT_EXECUTOR = "sqlite"
STAGE_OF = {"settlement": "事中", "prescription": "事前"}
VIOLATION, SUSPECT, PASS = "违规项", "涉及项", "通过"
# Finding identity as in engine/findings.py: rule + object keys + time; duplicates keep the larger amount.
_KEY_COLS = ("feedetl_sn", "setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "bilg_dr_codg", "med_list_codg", "kp_id")


def store_region(store: Path | str, explicit: str | None = None) -> str | None:
    """Region for parameter overrides and regional knowledge, chosen as the batch screen does:
    explicit, else the configured admdvs, else the one region of the store's institutions."""
    if explicit:
        return explicit
    if load_settings().admdvs:
        return load_settings().admdvs
    con = open_store(store)
    try:
        rows = con.execute("SELECT DISTINCT admdvs FROM h.fixmedins WHERE admdvs IS NOT NULL LIMIT 2").fetchall()
    finally:
        con.close()
    return rows[0][0] if len(rows) == 1 else None


@dataclass
class AuditResult:
    stage: str
    lines: list[dict[str, Any]]
    result: list[dict[str, Any]]  # claim-level findings (settlement / visit / person)
    summary: dict[str, Any] = field(default_factory=dict)
    rules_ran: list[str] = field(default_factory=list)  # codes of the rules the pass ran (call log)

    def counts(self) -> dict[str, int]:
        c = {VIOLATION: 0, SUSPECT: 0, PASS: 0}
        for line in self.lines:
            c[line["verdict"]] += 1
        return c


def _unknown_person(psn_no: str) -> MessageError:
    return MessageError(
        f"参保人 {psn_no} 不在参保库中，且报文未提供 psninfo",
        f"person {psn_no} is unknown and the message has no psninfo",
        [
            Problem(
                "请求报文",
                "参保库中无此人员，请在 input.psninfo 中提供性别、出生日期等",
                "unknown person: send input.psninfo (gend, brdy, …)",
                field="input.mdtrtinfo.psn_no",
                value=psn_no,
            )
        ],
    )


def _money(v: Any) -> float:
    return float(Decimal(str(v or 0)).quantize(Decimal("0.01")))


class Auditor:
    """Thread-safe: requests take an evaluation context from a pool (one per concurrent request)."""

    def __init__(
        self,
        store: Path | str,
        library: Library | None = None,
        region: str | None = None,
        pool_size: int = 1,
        rule_codes: list[str] | None = None,
        max_batch: int = 32,
        parallel: int = 1,
        prune: bool = True,
        max_wait: float | None = None,
        executor: str = DEFAULT_EXECUTOR,
    ):
        """`max_wait`: seconds a claim may wait for its pass before it is answered with AuditBusy (None: no limit).
        `executor`: 'sqlite' (default: rules compiled once, decision 0015) or 'duckdb' (each rule planned per pass)."""
        if executor not in EXECUTORS:
            raise FundguardError(
                f"未知的事中审核执行器 {executor!r}，可选：{'、'.join(EXECUTORS)}",
                f"unknown audit executor {executor!r}; choose one of {', '.join(EXECUTORS)}",
            )
        self.executor = executor
        self.store = Path(store)
        self.library = library or load_library()
        chosen = self.library.select(rule_codes)
        self.rules: dict[str, list[Rule]] = {s: [r for r in chosen if s in r.stages] for s in ("事中", "事前")}
        self.by_code = {r.code: r for r in chosen}
        self.region = store_region(self.store, region)
        self._pool: queue.Queue[RuleContext] = queue.Queue()
        self._all: list[RuleContext] = []
        self._lock = threading.Lock()
        for _ in range(max(1, pool_size)):
            ctx = (
                SqliteContext(self.store, self.rules, self.region, prune=prune)
                if executor == "sqlite"
                else EvalContext(self.store, self.rules, self.region, parallel=parallel, prune=prune)
            )
            self._all.append(ctx)
            self._pool.put(ctx)
        probe = self._all[0].con
        self.institutions = {r[0] for r in probe.execute("SELECT fixmedins_code FROM fixmedins").fetchall()}
        self._boundaries = self._in_force_boundaries(probe, chosen)
        self._batcher = Batcher(self, workers=len(self._all), max_batch=max_batch, max_wait=max_wait)

    @staticmethod
    def _in_force_boundaries(con, rules: list[Rule]) -> list[dt.date]:
        """Every date on which the knowledge or a parameter in force can change: knowledge begndate and the
        day after enddate, and each parameter's effective dates (national and regional)."""
        days = {
            r[0]
            for r in con.execute(
                "SELECT begndate FROM kb_point WHERE begndate IS NOT NULL "
                "UNION SELECT CAST(enddate + INTERVAL 1 DAY AS DATE) FROM kb_point WHERE enddate IS NOT NULL"
            ).fetchall()
        }
        for rule in rules:
            for param in rule.params.values():
                days.update(param.values)
                for series in param.overrides.values():
                    days.update(series)
        return sorted(days)

    def in_force_date(self, day: dt.date) -> dt.date:
        """The first day of the period between two boundaries that holds `day`: the knowledge and parameters
        in force on it are exactly those of `day`, so claims of different dates in one period share a pass
        (and the knowledge table is not reloaded for each new date)."""
        i = bisect.bisect_right(self._boundaries, day)
        return self._boundaries[i - 1] if i else day

    def close(self) -> None:
        self._batcher.stop()
        for ctx in self._all:
            ctx.close()

    def warm_up(self, day: dt.date | None = None) -> None:
        """Prepare the statements for a date (the first call otherwise pays for planning)."""
        day = day or dt.date.today()
        for ctx in self._all:
            for stage in self.rules:
                ctx.prepare(stage, day)
            ctx.knowledge_on(day)

    @contextmanager
    def _context(self) -> Iterator[RuleContext]:
        ctx = self._pool.get()
        try:
            yield ctx
        finally:
            self._pool.put(ctx)

    # -- message -> rows ---------------------------------------------------------------------------
    def claim_rows(
        self, msg: SettlementMessage | PrescriptionMessage, history_until: dt.datetime | None = None
    ) -> ClaimRows:
        inp = msg.input
        m = inp.mdtrtinfo
        if msg.fixmedins_code not in self.institutions:
            raise MessageError(
                f"定点医药机构 {msg.fixmedins_code} 不在机构库中",
                f"unknown institution {msg.fixmedins_code}",
                [
                    Problem(
                        "请求报文",
                        "机构库中无此定点医药机构",
                        "institution unknown",
                        field="fixmedins_code",
                        value=msg.fixmedins_code,
                    )
                ],
            )
        s = inp.setlinfo
        setl_id = (s.setl_id if s is not None and s.setl_id else None) or f"PRE-{msg.msgid}"
        setl_time = (s.setl_time if s is not None and s.setl_time else None) or msg.inf_time
        keys = {"mdtrt_id": m.mdtrt_id, "psn_no": m.psn_no, "fixmedins_code": msg.fixmedins_code}
        fees = []
        for line in inp.feedetail:
            row = line.model_dump()
            row.update(keys, setl_id=setl_id, med_type=m.med_type)
            row["vali_flag"] = row.get("vali_flag") or "1"
            if row.get("fee_ocur_time") is None:  # an order not yet placed: judged at the message time
                row["fee_ocur_time"] = msg.inf_time
            if row.get("pric") is None:
                row["pric"] = Decimal(0)
            if row.get("det_item_fee_sumamt") is None:
                row["det_item_fee_sumamt"] = (Decimal(str(row["cnt"])) * Decimal(str(row["pric"]))).quantize(
                    Decimal("0.01")
                )
            fees.append(row)
        visit = m.model_dump()
        visit.update(fixmedins_code=msg.fixmedins_code, vali_flag=visit.get("vali_flag") or "1")
        setl = s.model_dump() if s is not None else {}
        total = sum((Decimal(str(r["det_item_fee_sumamt"])) for r in fees), Decimal(0))
        inscp = sum(
            (
                Decimal(str(r["inscp_scp_amt"] if r.get("inscp_scp_amt") is not None else r["det_item_fee_sumamt"]))
                for r in fees
            ),
            Decimal(0),
        )
        setl.update(keys, setl_id=setl_id, setl_time=setl_time, med_type=setl.get("med_type") or m.med_type)
        setl.setdefault("insutype", None)
        setl["insutype"] = setl["insutype"] or m.insutype
        setl["begndate"] = setl.get("begndate") or m.begntime.date()
        setl["enddate"] = setl.get("enddate") or (m.endtime.date() if m.endtime else None)
        setl["medfee_sumamt"] = setl.get("medfee_sumamt") if setl.get("medfee_sumamt") is not None else total
        setl["inscp_scp_amt"] = setl.get("inscp_scp_amt") if setl.get("inscp_scp_amt") is not None else inscp
        setl["refd_setl_flag"] = setl.get("refd_setl_flag") or "0"
        setl["vali_flag"] = setl.get("vali_flag") or "1"
        diags = [{**d.model_dump(), "mdtrt_id": m.mdtrt_id} for d in inp.diseinfo]
        oprns = [{**o.model_dump(), "mdtrt_id": m.mdtrt_id} for o in inp.oprninfo]
        tables: dict[str, list[dict]] = {
            "mdtrt_d": [visit],
            "setl_d": [setl],
            "fee_list_d": fees,
            "diag_d": diags,
            "oprn_d": oprns,
        }
        if inp.psninfo is not None:
            tables["psn_info"] = [{**inp.psninfo.model_dump(), "psn_no": m.psn_no}]
        return ClaimRows(
            psn_no=m.psn_no,
            fixmedins_code=msg.fixmedins_code,
            setl_id=setl_id,
            mdtrt_id=m.mdtrt_id,
            as_of=self.in_force_date(setl_time.date()),
            tables=tables,
            history_until=history_until,
        )

    # -- audit -------------------------------------------------------------------------------------
    def audit(
        self,
        kind: str,
        msg: SettlementMessage | PrescriptionMessage,
        history_until: dt.datetime | None = None,
    ) -> AuditResult:
        """Judge one message; concurrent calls are evaluated together in micro-batches."""
        return self._batcher.submit(STAGE_OF[kind], self.claim_rows(msg, history_until))

    async def audit_async(
        self,
        kind: str,
        msg: SettlementMessage | PrescriptionMessage,
        history_until: dt.datetime | None = None,
    ) -> AuditResult:
        """`audit` for an event loop: the request waits for its pass without holding a thread."""
        return await self._batcher.submit_async(STAGE_OF[kind], self.claim_rows(msg, history_until))

    def evaluate(self, stage: str, claims: list[ClaimRows]) -> list[AuditResult | MessageError]:
        """One pass of the stage's rules over claims of distinct persons and one date."""
        with self._context() as ctx:
            known = ctx.load(claims)
            chosen = [r.code for r in ctx.relevant(stage)]
            rows = ctx.run(stage, claims[0].as_of, chosen)
        out: list[AuditResult | MessageError] = []
        by_claim: dict[int, list[dict]] = {i: [] for i in range(len(claims))}
        owner_sn = {r["feedetl_sn"]: i for i, c in enumerate(claims) for r in c.tables["fee_list_d"]}
        owner_setl = {c.setl_id: i for i, c in enumerate(claims)}
        owner_visit = {c.mdtrt_id: i for i, c in enumerate(claims)}
        for r in rows:
            sn = r["feedetl_sn"]
            i = owner_sn.get(sn) if sn is not None else owner_setl.get(r["setl_id"], owner_visit.get(r["mdtrt_id"]))
            if i is not None:
                by_claim[i].append(r)
        for i, claim in enumerate(claims):
            if claim.psn_no not in known:
                out.append(_unknown_person(claim.psn_no))
            else:
                out.append(self._result(stage, claim, by_claim[i], chosen))
        return out

    def _result(self, stage: str, claim: ClaimRows, rows: list[dict[str, Any]], ran: list[str]) -> AuditResult:
        lines_in = claim.tables["fee_list_d"]
        incoming = {r["feedetl_sn"] for r in lines_in}
        best: dict[tuple, dict] = {}
        for r in rows:
            sn = r["feedetl_sn"]
            if sn is not None:
                if sn not in incoming:
                    continue
            elif r["setl_id"] != claim.setl_id and r["mdtrt_id"] != claim.mdtrt_id:
                continue
            key = (r["rule_code"], *(r[c] for c in _KEY_COLS), r["occur_time"])
            amount = r["violation_amount"] or Decimal(0)
            prev = best.get(key)
            if prev is None or amount > (prev["violation_amount"] or Decimal(0)):
                best[key] = r
        per_line: dict[str, list[dict]] = {}
        claim_level: list[dict] = []
        for r in sorted(best.values(), key=lambda x: (x["rule_code"], x["feedetl_sn"] or "", x["kp_id"] or "")):
            f = self._finding(r)
            if r["feedetl_sn"] is not None:
                per_line.setdefault(r["feedetl_sn"], []).append(f)
            else:
                claim_level.append(f)
        lines = [self._line(line, per_line.get(line["feedetl_sn"], [])) for line in lines_in]
        result = AuditResult(stage, lines, claim_level, rules_ran=ran)
        counts = result.counts()
        amount = sum(line["violation_amount"] for line in lines) + sum(
            f["violation_amount"] for f in claim_level if f["result_type"] == "明确违规"
        )
        result.summary = {
            "stage": stage,
            "verdict": VIOLATION
            if counts[VIOLATION] or any(f["result_type"] == "明确违规" for f in claim_level)
            else SUSPECT
            if counts[SUSPECT] or claim_level
            else PASS,
            "lines": len(lines),
            "violation_lines": counts[VIOLATION],
            "suspect_lines": counts[SUSPECT],
            "pass_lines": counts[PASS],
            "claim_findings": len(claim_level),
            "violation_amount": round(amount, 2),
            "setl_id": claim.setl_id,
            "rules_run": len(ran),  # rules of the pass that could fire (the others were skipped)
            "rules_total": len(self.rules[stage]),
            "library_version": self.library.version,
            "region": self.region,
        }
        return result

    def _finding(self, r: dict[str, Any]) -> dict[str, Any]:
        rule = self.by_code[r["rule_code"]]
        return {
            "rule_code": rule.code,
            "rule_name": rule.name,
            "result_type": rule.result_type,
            "severity": rule.severity,
            "object_type": rule.object_type,
            "feedetl_sn": r["feedetl_sn"],
            "setl_id": r["setl_id"],
            "mdtrt_id": r["mdtrt_id"],
            "med_list_codg": r["med_list_codg"],
            "occur_time": r["occur_time"].strftime("%Y-%m-%d %H:%M:%S") if r["occur_time"] else None,
            "violation_amount": _money(r["violation_amount"]),
            "message": r["message"],
            "detail": r["detail"],
            "kp_id": r["kp_id"],
            "legal_basis": list(rule.legal_basis),
        }

    @staticmethod
    def _line(line: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
        firm = [f for f in findings if f["result_type"] == "明确违规"]
        verdict = VIOLATION if firm else SUSPECT if findings else PASS
        # Several rules on one line overlap: the amount at stake is the largest, never above the line.
        line_amt = _money(line["det_item_fee_sumamt"])
        at_stake = max((f["violation_amount"] for f in (firm or findings)), default=0.0)
        at_stake = min(at_stake, line_amt) if line_amt > 0 else at_stake
        basis: list[str] = []
        for f in findings:
            basis += [b for b in f["legal_basis"] if b not in basis]
        return {
            "feedetl_sn": line["feedetl_sn"],
            "med_list_codg": line["med_list_codg"],
            "det_item_fee_sumamt": line_amt,
            "verdict": verdict,
            "rule_codes": sorted({f["rule_code"] for f in findings}),
            "message": "；".join(f["message"] for f in findings if f["message"]) if findings else "未发现违规",
            "violation_amount": at_stake if verdict == VIOLATION else 0.0,
            "suspect_amount": at_stake if verdict == SUSPECT else 0.0,
            "legal_basis": basis,
            "findings": findings,
        }
