"""The national claims tables (国家医疗保障信息平台 field names) as one declarative schema.

Everything that needs the shape of the data — the loader's validation, the DuckDB DDL, the
synthetic generator, the data dictionary in docs/ — reads it from here, so it is written once.
Field names follow the national interface (2201–2304, 4101, 5203/5204) and the backend tables
seen in regional platforms (see ../shared/design/domain-notes.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass

# Logical types → DuckDB SQL types. Amounts are exact decimals so that sums agree on every engine.
SQL_TYPES = {
    "str": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "amount": "DECIMAL(16,2)",
    "qty": "DECIMAL(16,4)",
    "price": "DECIMAL(16,6)",
    "ratio": "DECIMAL(8,4)",
    "json": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: str = "str"
    required: bool = False
    codes: str | None = None  # name of a code table in fundguard.data.codes
    pattern: str | None = None  # regex the value must match (validated when present)
    ref: str | None = None  # "table.column" this column references
    desc: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    grain: str  # what one row is
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    source: str = ""
    kind: str = "claims"  # claims | reference | output
    # Column holding the event time, used for incremental (monthly) loads and date filters.
    time_column: str | None = None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def ddl(self, table_name: str | None = None) -> str:
        cols = ",\n  ".join(f"{c.name} {c.sql_type}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {table_name or self.name} (\n  {cols}\n)"


C = Column
FIXMEDINS_CODE_RE = r"[HP]\d{11}"

PSN_INFO = Table(
    "psn_info",
    "参保人员信息",
    "one insured person",
    (
        C("psn_no", "人员编号", required=True),
        C("psn_name", "人员姓名", desc="personal information: masked in lists and exports"),
        C("psn_cert_type", "人员证件类型"),
        C("certno", "证件号码", desc="personal information: masked in lists and exports"),
        C("gend", "性别", required=True, codes="gend"),
        C("brdy", "出生日期", "date", required=True),
        C("naty", "民族"),
        C("tel", "联系电话", desc="personal information: masked in lists and exports"),
        C("insutype", "险种类型", required=True, codes="insutype"),
        C("psn_type", "人员类别", required=True, codes="psn_type"),
        C("psn_insu_stas", "人员参保状态", codes="psn_insu_stas"),
        C("psn_insu_date", "参保日期", "date"),
        C("insu_admdvs", "参保地医保区划", required=True, pattern=r"\d{6}"),
        C("emp_no", "单位编号", ref="emp_info.emp_no"),
        C("die_date", "死亡日期", "date"),
    ),
    ("psn_no",),
    source="1101 人员信息获取 baseinfo/insuinfo",
    kind="reference",
)

EMP_INFO = Table(
    "emp_info",
    "参保单位信息",
    "one employer (参保单位)",
    (
        C("emp_no", "单位编号", required=True),
        C("emp_name", "单位名称", required=True),
        C("uscc", "统一社会信用代码"),
        C("emp_type", "单位类型"),
        C("insu_admdvs", "参保地医保区划", required=True, pattern=r"\d{6}"),
        C("reg_date", "登记日期", "date"),
    ),
    ("emp_no",),
    source="参保单位登记 (征缴系统)",
    kind="reference",
)

EMP_CLCT_D = Table(
    "emp_clct_d",
    "单位月度缴费记录",
    "one employer × month × insurance type",
    (
        C("emp_no", "单位编号", required=True, ref="emp_info.emp_no"),
        C("clct_ym", "费款所属期", required=True, pattern=r"\d{4}-\d{2}", desc="YYYY-MM"),
        C("insutype", "险种类型", required=True, codes="insutype"),
        C("psn_cnt", "缴费人数", "int", required=True),
        C("wage_base_sumamt", "缴费基数总额", "amount", required=True),
        C("emp_clct_amt", "单位缴费金额", "amount", required=True),
        C("psn_clct_amt", "个人缴费金额", "amount", required=True),
        C("clct_date", "到账日期", "date"),
    ),
    ("emp_no", "clct_ym", "insutype"),
    source="参保缴费稽核 (征缴明细)",
    time_column="clct_ym",
)

FIXMEDINS = Table(
    "fixmedins",
    "定点医药机构",
    "one designated institution (hospital, clinic or retail pharmacy)",
    (
        C("fixmedins_code", "定点医药机构编号", required=True, pattern=FIXMEDINS_CODE_RE),
        C("fixmedins_name", "定点医药机构名称", required=True),
        C("fixmedins_type", "定点医药机构类型", required=True, codes="fixmedins_type"),
        C("medins_type", "医疗机构类别", codes="medins_type"),
        C("hosp_lv", "医院等级", required=True, codes="hosp_lv", desc="01–11 or the simplified 1/2/3/9/11 scheme"),
        C("admdvs", "所属医保区划", required=True, pattern=r"\d{6}"),
        C("open_date", "定点开始日期", "date"),
        C("bed_cnt", "核定床位数", "int"),
        C("staff_cnt", "在岗人员数", "int"),
        C("doctor_cnt", "医师数", "int"),
        C("nurse_cnt", "护士数", "int"),
        C("pharmacist_cnt", "药师数", "int"),
        C("open_hours", "营业时间", desc="HH:MM-HH:MM, for pharmacies"),
    ),
    ("fixmedins_code",),
    source="定点医药机构信息 (BasicFix; 4101 fixmedins fields)",
    kind="reference",
)

MEDINS_EQUIP_D = Table(
    "medins_equip_d",
    "机构设备台账",
    "one institution × equipment type",
    (
        C("fixmedins_code", "定点医药机构编号", required=True, ref="fixmedins.fixmedins_code"),
        C("equip_type", "设备类型", required=True, codes="equip_type"),
        C("equip_name", "设备名称"),
        C("equip_cnt", "设备台数", "int", required=True),
        C("daily_capacity", "单台日最大检测量", "int", required=True, desc="tests per device per day"),
    ),
    ("fixmedins_code", "equip_type"),
    source="设备台账 (医疗机构执业登记/大型设备配置)",
    kind="reference",
)

PRACTITIONER = Table(
    "practitioner",
    "医保医师/药师",
    "one medical-insurance practitioner (医师, 药师, 护士, 医技)",
    (
        C("prac_code", "医保医师代码", required=True, desc="国家医保医师/药师代码 (D/Y/N + 13 digits)"),
        C("prac_name", "姓名", required=True, desc="personal information"),
        C("prac_type", "人员类别", required=True, codes="prac_type"),
        C("fixmedins_code", "执业机构编号", required=True, ref="fixmedins.fixmedins_code"),
        C("dept_code", "科室编码"),
        C("dept_name", "科室名称"),
        C("pro_tech_duty", "专业技术职务"),
        C("certno", "证件号码", desc="personal information"),
        C("vali_flag", "有效标志", codes="vali_flag"),
    ),
    ("prac_code",),
    source="医保医师/药师 代码库",
    kind="reference",
)

MDTRT_D = Table(
    "mdtrt_d",
    "就诊信息",
    "one visit (门诊就诊 or 住院 admission, or a pharmacy purchase)",
    (
        C("mdtrt_id", "就诊ID", required=True),
        C("psn_no", "人员编号", required=True, ref="psn_info.psn_no"),
        C("fixmedins_code", "定点医药机构编号", required=True, ref="fixmedins.fixmedins_code"),
        C("med_type", "医疗类别", required=True, codes="med_type"),
        C("insutype", "险种类型", codes="insutype"),
        C("begntime", "开始时间（入院/就诊时间）", "datetime", required=True),
        C("endtime", "结束时间（出院时间）", "datetime"),
        C("ipt_otp_no", "住院/门诊号"),
        C("mdtrt_cert_type", "就诊凭证类型", codes="mdtrt_cert_type"),
        C("dept_code", "科室编码"),
        C("dept_name", "科室名称"),
        C("dscg_maindiag_code", "主诊断代码", desc="ICD-10 医保版"),
        C("dscg_maindiag_name", "主诊断名称"),
        C("chfpdr_code", "主诊医师代码", ref="practitioner.prac_code"),
        C("dscg_way", "离院方式", codes="dscg_way"),
        C("inhosp_stas", "在院状态", codes="inhosp_stas"),
        C("vali_flag", "有效标志", codes="vali_flag"),
    ),
    ("mdtrt_id",),
    source="2201/2203/2401/2402; 5201 就诊信息查询",
    time_column="begntime",
)

DIAG_D = Table(
    "diag_d",
    "诊断信息",
    "one diagnosis of a visit",
    (
        C("mdtrt_id", "就诊ID", required=True, ref="mdtrt_d.mdtrt_id"),
        C("diag_srt_no", "诊断排序号", "int", required=True),
        C("diag_type", "诊断类别", codes="diag_type"),
        C("diag_code", "诊断代码", required=True, desc="ICD-10 医保版 2.0"),
        C("diag_name", "诊断名称", required=True),
        C("maindiag_flag", "主诊断标志", required=True, codes="maindiag_flag"),
        C("diag_time", "诊断时间", "datetime"),
    ),
    ("mdtrt_id", "diag_srt_no"),
    source="2203 diseinfo; 2401 diseinfo",
)

SETL_D = Table(
    "setl_d",
    "结算信息",
    "one settlement (or refund settlement, with negative amounts)",
    (
        C("setl_id", "结算ID", required=True),
        C("mdtrt_id", "就诊ID", required=True, ref="mdtrt_d.mdtrt_id"),
        C("psn_no", "人员编号", required=True, ref="psn_info.psn_no"),
        C("fixmedins_code", "定点医药机构编号", required=True, ref="fixmedins.fixmedins_code"),
        C("setl_time", "结算时间", "datetime", required=True),
        C("med_type", "医疗类别", required=True, codes="med_type"),
        C("insutype", "险种类型", required=True, codes="insutype"),
        C("begndate", "开始日期", "date"),
        C("enddate", "结束日期", "date"),
        C("medfee_sumamt", "医疗费总额", "amount", required=True),
        C("fulamt_ownpay_amt", "全自费金额", "amount"),
        C("overlmt_selfpay", "超限价自费费用", "amount"),
        C("preselfpay_amt", "先行自付金额", "amount"),
        C("inscp_scp_amt", "符合政策范围金额", "amount", required=True),
        C("act_pay_dedc", "实际支付起付线", "amount"),
        C("hifp_pay", "基本医疗保险统筹基金支出", "amount", required=True),
        C("cvlserv_pay", "公务员医疗补助资金支出", "amount"),
        C("hifes_pay", "企业补充医疗保险基金支出", "amount"),
        C("hifmi_pay", "居民大病保险资金支出", "amount"),
        C("hifob_pay", "职工大额医疗费用补助基金支出", "amount"),
        C("maf_pay", "医疗救助基金支出", "amount"),
        C("oth_pay", "其他支出", "amount"),
        C("fund_pay_sumamt", "基金支付总额", "amount", required=True),
        C("psn_part_amt", "个人负担总金额", "amount"),
        C("acct_pay", "个人账户支出", "amount", required=True),
        C("psn_cash_pay", "个人现金支出", "amount", required=True),
        C("hosp_part_amt", "医院负担金额", "amount"),
        C("setl_type", "结算类别", codes="setl_type"),
        C("clr_type", "清算类别", codes="clr_type"),
        C("drg_code", "DRG分组编码", desc="CHS-DRG group the settlement was paid under"),
        C("refd_setl_flag", "退费结算标志", required=True, codes="refd_setl_flag"),
        C("init_setl_id", "原结算ID", desc="on a refund settlement, the settlement it reverses"),
        C("vali_flag", "有效标志", required=True, codes="vali_flag"),
    ),
    ("setl_id",),
    source="2207/2304 setlinfo; 5203 结算信息查询",
    time_column="setl_time",
)

FEE_LIST_D = Table(
    "fee_list_d",
    "费用明细",
    "one fee-detail line (drug, service item or consumable); refund lines carry negative cnt and amounts",
    (
        C("feedetl_sn", "费用明细流水号", required=True, desc="unique across the data set"),
        C("init_feedetl_sn", "原费用流水号", desc="on a refund line, the line it reverses"),
        C("mdtrt_id", "就诊ID", required=True, ref="mdtrt_d.mdtrt_id"),
        C("setl_id", "结算ID", required=True, ref="setl_d.setl_id"),
        C("psn_no", "人员编号", required=True, ref="psn_info.psn_no"),
        C("fixmedins_code", "定点医药机构编号", required=True, ref="fixmedins.fixmedins_code"),
        C("med_type", "医疗类别", codes="med_type"),
        C("fee_ocur_time", "费用发生时间", "datetime", required=True),
        C("drord_no", "医嘱号"),
        C("med_list_codg", "医疗目录编码", required=True, desc="national code: drug 20/23, service 15, consumable 20"),
        C("medins_list_codg", "医药机构目录编码"),
        C("hilist_name", "医保目录名称"),
        C("list_type", "目录类别", required=True, codes="list_type"),
        C("med_chrgitm_type", "医疗收费项目类别", required=True, codes="med_chrgitm_type"),
        C("chrgitm_lv", "收费项目等级", required=True, codes="chrgitm_lv"),
        C("cnt", "数量", "qty", required=True),
        C("pric", "单价", "price", required=True),
        C("det_item_fee_sumamt", "明细项目费用总额", "amount", required=True),
        C("pric_uplmt_amt", "定价上限金额", "price"),
        C("selfpay_prop", "自付比例", "ratio"),
        C("fulamt_ownpay_amt", "全自费金额", "amount"),
        C("overlmt_amt", "超限价金额", "amount"),
        C("preselfpay_amt", "先行自付金额", "amount"),
        C("inscp_scp_amt", "符合政策范围金额", "amount"),
        C("bilg_dept_codg", "开单科室编码", required=True),
        C("bilg_dept_name", "开单科室名称"),
        C("bilg_dr_codg", "开单医生编码", required=True, ref="practitioner.prac_code"),
        C("bilg_dr_name", "开单医生姓名"),
        C("hosp_appr_flag", "医院审批标志", codes="flag01"),
        C("tcmdrug_used_way", "中药使用方式", codes="tcmdrug_used_way"),
        C("dscg_tkdrug_flag", "出院带药标志", codes="flag01"),
        C("prd_days", "周期天数/开药天数", "qty"),
        C("sin_dos_dscr", "单次剂量描述"),
        C("used_frqu_dscr", "使用频次描述"),
        C("drug_trac_codg", "药品追溯码", desc="20-digit tracing code of the pack"),
        C("vali_flag", "有效标志", required=True, codes="vali_flag"),
    ),
    ("feedetl_sn",),
    source="2204/2301 feedetail; 2301 output; backend fee_list_d",
    time_column="fee_ocur_time",
)

OPRN_D = Table(
    "oprn_d",
    "手术操作信息",
    "one operation or procedure of a visit",
    (
        C("mdtrt_id", "就诊ID", required=True, ref="mdtrt_d.mdtrt_id"),
        C("oprn_srt_no", "手术操作排序号", "int", required=True),
        C("oprn_oprt_type", "手术操作类别", codes="oprn_oprt_type"),
        C("oprn_oprt_code", "手术操作代码", required=True, desc="ICD-9-CM-3 医保版 2.0"),
        C("oprn_oprt_name", "手术操作名称"),
        C("oprn_oprt_date", "手术操作日期", "datetime", required=True),
        C("anst_way", "麻醉方式"),
        C("oper_dr_code", "术者医师代码", ref="practitioner.prac_code"),
    ),
    ("mdtrt_id", "oprn_srt_no"),
    source="4101 oprninfo",
)

INVENTORY_D = Table(
    "inventory_d",
    "进销存明细",
    "one stock movement of a drug or consumable at an institution",
    (
        C("inv_sn", "进销存流水号", required=True),
        C("fixmedins_code", "定点医药机构编号", required=True, ref="fixmedins.fixmedins_code"),
        C("med_list_codg", "医疗目录编码", required=True),
        C("occur_date", "发生日期", "date", required=True),
        C("inv_type", "进销存类型", required=True, codes="inv_type"),
        C("cnt", "数量", "qty", required=True, desc="positive in, negative out"),
        C("pric", "单价", "price"),
        C("drug_trac_codg", "药品追溯码"),
    ),
    ("inv_sn",),
    source="3501–3507 商品盘存/库存变更/采购/销售",
    time_column="occur_date",
)

# Output of every detector (rules, indicators, models). Keys use the national field names.
FINDINGS = Table(
    "findings",
    "疑点结果",
    "one finding of one detector on one object (line, settlement, visit, person, institution or doctor)",
    (
        C("finding_id", "疑点ID", required=True, desc="stable hash of rule_code and the object keys"),
        C("run_id", "筛查批次", required=True),
        C("rule_code", "规则编码", required=True),
        C("rule_name", "规则名称", required=True),
        C("result_type", "结果类型", required=True, desc="明确违规 | 可疑"),
        C("severity", "严重程度", desc="高 | 中 | 低"),
        C("level", "预警等级", desc="红 | 橙 | 黄 (indicator findings)"),
        C("object_type", "对象类型", required=True, desc="line | settlement | visit | person | institution | doctor"),
        C("setl_id", "结算ID"),
        C("mdtrt_id", "就诊ID"),
        C("feedetl_sn", "费用明细流水号"),
        C("psn_no", "人员编号"),
        C("fixmedins_code", "定点医药机构编号"),
        C("bilg_dr_codg", "医生编码"),
        C("admdvs", "医保区划", desc="统筹区 of the institution, for data scope"),
        C("med_list_codg", "医疗目录编码"),
        C("occur_time", "发生时间", "datetime"),
        C("violation_amount", "违规金额", "amount", required=True),
        C("message", "疑点描述", desc="Chinese sentence shown to 稽核 staff"),
        C("evidence", "证据", "json", desc="knowledge point, parameter values and legal basis used"),
        C("legal_basis", "法律依据"),
        C("stage", "审核阶段", desc="事前 | 事中 | 事后"),
        C("library_version", "规则库版本", required=True),
        C("detected_at", "检出时间", "datetime", required=True),
    ),
    ("finding_id",),
    source="fundguard",
    kind="output",
    time_column="occur_time",
)

CLAIMS_TABLES: tuple[Table, ...] = (
    EMP_INFO,
    PSN_INFO,
    FIXMEDINS,
    MEDINS_EQUIP_D,
    PRACTITIONER,
    EMP_CLCT_D,
    MDTRT_D,
    DIAG_D,
    SETL_D,
    FEE_LIST_D,
    OPRN_D,
    INVENTORY_D,
)
ALL_TABLES: dict[str, Table] = {t.name: t for t in (*CLAIMS_TABLES, FINDINGS)}

# Load order respects references: masters first, then visits, then their children.
LOAD_ORDER: tuple[str, ...] = tuple(t.name for t in CLAIMS_TABLES)


def table(name: str) -> Table:
    try:
        return ALL_TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(ALL_TABLES)}") from None
