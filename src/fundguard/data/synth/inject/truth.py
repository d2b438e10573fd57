"""Labels → ground truth rows: each label's key (line, visit/settlement, person, institution, doctor)
resolved to the assembled national ids, and its amount at stake in yuan."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fundguard.data.scenarios import SCENARIOS_BY_ID
from fundguard.data.synth.assemble import Assembled
from fundguard.data.synth.frames import Lines, Visits

if TYPE_CHECKING:
    from fundguard.data.synth.inject.injector import Injector


def ground_truth(inj: Injector, a: Assembled, lines: Lines, visits: Visits) -> pd.DataFrame:
    """One row per label (GROUND_TRUTH_SCHEMA), keys resolved to the assembled ids."""
    ctx = inj.ctx
    L = lines.df
    V = visits.df
    tag_row = {int(t): r for r, t in enumerate(L["tag"].to_numpy()) if t >= 0}
    inst_code = ctx.region.institutions["fixmedins_code"].to_numpy()
    prac_code = ctx.region.practitioners["prac_code"].to_numpy()
    psn_no = ctx.region.persons["psn_no"].to_numpy()
    st = a.tables["setl_d"]
    setl = pd.DataFrame({k: st[k] for k in ("setl_id", "fund_pay_sumamt", "inscp_scp_amt")}).set_index("setl_id")
    rows = []
    for n, lab in enumerate(inj.labels):
        sc = SCENARIOS_BY_ID[lab.scenario]
        row = {
            "scenario": sc.id,
            "scenario_zh": sc.zh,
            "unit": sc.unit,
            "rule_codes": ",".join(sc.rule_codes),
            "setl_id": None,
            "mdtrt_id": None,
            "feedetl_sn": None,
            "psn_no": lab.psn_no,
            "fixmedins_code": lab.fixmedins_code,
            "bilg_dr_codg": lab.bilg_dr_codg,
            "amount_at_stake": lab.amount,
            "note": lab.note,
        }
        if lab.line >= 0:
            r = tag_row[lab.line]
            vi = int(L["v"].iat[r])
            row.update(
                feedetl_sn=a.line_sn[r],
                setl_id=a.visit_setl[vi],
                mdtrt_id=a.visit_mdtrt[vi],
                psn_no=psn_no[int(V["psn"].iat[vi])],
                fixmedins_code=inst_code[int(V["inst"].iat[vi])],
                bilg_dr_codg=prac_code[int(V["doc"].iat[vi])],
                amount_at_stake=round(a.line_inscp[r] * lab.amount_part / 100, 2),
            )
        elif lab.visit >= 0:
            vi = lab.visit
            sid = a.visit_dup_setl[vi] if lab.setl == "dup" else a.visit_setl[vi]
            row.update(
                setl_id=sid,
                mdtrt_id=a.visit_mdtrt[vi],
                psn_no=psn_no[int(V["psn"].iat[vi])],
                fixmedins_code=inst_code[int(V["inst"].iat[vi])],
                bilg_dr_codg=prac_code[int(V["doc"].iat[vi])],
            )
            if lab.amount is None:
                field_ = "fund_pay_sumamt" if sc.unit == "settlement" else "inscp_scp_amt"
                row["amount_at_stake"] = float(setl.loc[sid, field_])
        else:
            vs = inj.person_visits.get((lab.scenario, n), [])
            if lab.amount is None:
                share = inj.device_excess.get(n, 1.0)
                row["amount_at_stake"] = round(float(sum(a.visit_inscp[x] for x in vs)) * share / 100, 2)
            if lab.scenario == "card_cashing_ring":
                mine = V.index[
                    (V["psn"].to_numpy() == np.flatnonzero(psn_no == lab.psn_no)[0]) & ~V["refund"].to_numpy()
                ]
                row["amount_at_stake"] = round(float(sum(a.visit_inscp[x] for x in mine)) / 100, 2)
        rows.append(row)
    return pd.DataFrame(rows)
