from fundguard.kb.chsdrg import latest_weights
from fundguard.kb.importers import default_weight_files, read_points

from .conftest import REF

DRG = REF / "chs-drg-1.1"


def _lines(path):
    return len([ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()])


def test_icd_tables():
    icd10 = read_points(DRG / "ICD/ZD_INFO.dat")
    assert set(icd10.kp_type) == {"icd10"} and len(icd10) == _lines(DRG / "ICD/ZD_INFO.dat")
    assert icd10.set_index("med_list_codg").loc["A00.900", "item_name"] == "霍乱"
    ops = read_points(DRG / "ICD/SS_INFO.dat")
    assert set(ops.kp_type) == {"icd9cm3"} and len(ops) == _lines(DRG / "ICD/SS_INFO.dat")


def test_drg_groups_carry_latest_weight():
    groups = read_points(DRG / "DATA/DRG.dat").set_index("med_list_codg")
    assert len(groups) == _lines(DRG / "DATA/DRG.dat")
    weights, src = latest_weights(default_weight_files())
    assert src.endswith("2024")
    assert groups.loc["AA19", "limit_num"] == weights["AA19"] == 18.2858
    assert groups.loc["AA19", "item_name"] == "心脏移植"


def test_cc_mcc_and_exclusions():
    cc, mcc = read_points(DRG / "DATA/CC.dat"), read_points(DRG / "DATA/MCC.dat")
    assert set(cc.limit_value) == {"CC"} and set(mcc.limit_value) == {"MCC"}
    assert len(cc) == _lines(DRG / "DATA/CC.dat") and len(mcc) == _lines(DRG / "DATA/MCC.dat")
    cce = read_points(DRG / "DATA/CCE.dat")
    assert set(cce.kp_type) == {"drg_cc_exclusion"} and cce.group_name.notna().all()
