"""National code tables (国家医疗保障信息平台 字典表) used by the data model.

Each table maps a code to its Chinese name. Sources are named per table; see
docs/data-dictionary.md (generated) for the published form. Provinces extend some
tables with local codes (e.g. med_type 2101); `LOCAL_PATTERNS` says which local
extensions validation accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CodeTable:
    name: str
    zh_name: str
    codes: dict[str, str]
    source: str
    # Regex of local extension codes accepted besides `codes` (province-specific).
    local_pattern: str | None = None
    notes: str = ""
    aliases: dict[str, str] = field(default_factory=dict)

    def is_valid(self, code: str) -> bool:
        if code in self.codes or code in self.aliases:
            return True
        return bool(self.local_pattern and re.fullmatch(self.local_pattern, code))

    def label(self, code: str) -> str:
        code = self.aliases.get(code, code)
        return self.codes.get(code, code)


def _t(name: str, zh: str, codes: dict[str, str], source: str, **kw) -> CodeTable:
    return CodeTable(name=name, zh_name=zh, codes=codes, source=source, **kw)


GEND = _t("gend", "性别", {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}, "GB/T 2261.1")

INSUTYPE = _t(
    "insutype",
    "险种类型",
    {
        "310": "职工基本医疗保险",
        "320": "公务员医疗补助",
        "330": "大额医疗费用补助",
        "340": "离休人员医疗保障",
        "350": "一至六级残废军人医疗补助",
        "360": "老红军医疗保障",
        "370": "企业补充医疗保险",
        "380": "新型农村合作医疗",
        "390": "城乡居民基本医疗保险",
        "391": "城镇居民基本医疗保险",
        "392": "城乡居民大病医疗保险",
        "399": "其他特殊人员医疗保障",
        "410": "长期照护保险",
        "510": "生育保险",
        "610": "工伤保险",
    },
    "国家医保信息平台 字典 insutype (openhis EnumDB.cs); 610 工伤保险 per local practice",
)

PSN_TYPE = _t(
    "psn_type",
    "人员类别",
    {
        "11": "在职",
        "1101": "职工在职",
        "1102": "公务员在职",
        "1103": "灵活就业人员在职",
        "12": "退休",
        "1201": "职工退休",
        "1202": "公务员退休",
        "1203": "灵活就业退休",
        "13": "离休",
        "1300": "离休",
        "14": "居民（未成年）",
        "1401": "新生儿",
        "1402": "学龄前儿童",
        "1403": "中小学生",
        "1404": "大学生",
        "1405": "未成年未入学",
        "15": "居民（成年）",
        "1501": "普通居民",
        "16": "居民（老年）",
        "1601": "老年居民",
    },
    "国家医保信息平台 字典 psn_type (openhis EnumDB.cs EnumRylb)",
    local_pattern=r"1[1-6]\d{2}",
)

MED_TYPE = _t(
    "med_type",
    "医疗类别",
    {
        "11": "普通门诊",
        "12": "门诊挂号",
        "13": "急诊",
        "14": "门诊慢特病",
        "15": "特药",
        "16": "中医特色门诊",
        "19": "意外伤害门诊",
        "21": "普通住院",
        "22": "外伤住院",
        "23": "转外诊治住院",
        "24": "急诊转住院",
        "25": "异地住院",
        "26": "单病种住院",
        "28": "日间手术",
        "41": "定点药店购药",
        "51": "生育门诊",
        "52": "生育住院",
        "53": "计划生育手术费",
    },
    "国家医保信息平台 字典 med_type 7.28",
    local_pattern=r"(1|2|4|5|9)\d{3,5}",
    notes="Inpatient = 21,22,23,24,25,26,28,52 and local 2xxx.",
)

INPATIENT_MED_TYPES = ("21", "22", "23", "24", "25", "26", "28", "52")
PHARMACY_MED_TYPES = ("41",)

HOSP_LV = _t(
    "hosp_lv",
    "医院等级",
    {
        "01": "三级特等",
        "02": "三级甲等",
        "03": "三级乙等",
        "04": "三级丙等",
        "05": "二级甲等",
        "06": "二级乙等",
        "07": "二级丙等",
        "08": "一级甲等",
        "09": "一级乙等",
        "10": "一级丙等",
        "11": "无等级",
    },
    "国家医保信息平台 字典 hosp_lv (01–11)",
    notes="The simplified scheme (1 三级 / 2 二级 / 3 一级 / 9,11 无等级) is also accepted and normalised via "
    "HOSP_LV_SIMPLE; hosp_lv_tier() gives 3/2/1/0 for either.",
)

HOSP_LV_SIMPLE = _t(
    "hosp_lv_simple",
    "医院等级（简化）",
    {"1": "三级", "2": "二级", "3": "一级", "9": "未定级", "11": "无等级（药店等）"},
    "regional backends (SQL-skill table-reference; dedc_hosp_lv)",
)


def hosp_lv_tier(code: str | None) -> int:
    """3 for 三级, 2 for 二级, 1 for 一级, 0 for 无等级 — accepts both hosp_lv schemes."""
    if code is None:
        return 0
    code = str(code).strip()
    if code in {"01", "02", "03", "04"}:
        return 3
    if code in {"05", "06", "07"}:
        return 2
    if code in {"08", "09", "10"}:
        return 1
    return {"1": 3, "2": 2, "3": 1}.get(code, 0)


# SQL twin of hosp_lv_tier, portable across DuckDB and Spark.
HOSP_LV_TIER_SQL = (
    "CASE WHEN {c} IN ('01','02','03','04','1') THEN 3 "
    "WHEN {c} IN ('05','06','07','2') THEN 2 "
    "WHEN {c} IN ('08','09','10','3') THEN 1 ELSE 0 END"
)

FIXMEDINS_TYPE = _t(
    "fixmedins_type", "定点医药机构类型", {"1": "定点医疗机构", "2": "定点零售药店"}, "国家医保信息平台 字典"
)

MEDINS_TYPE = _t(
    "medins_type",
    "医疗机构类别",
    {
        "A1": "综合医院",
        "A2": "中医医院",
        "A3": "专科医院",
        "B1": "社区卫生服务中心",
        "B2": "乡镇卫生院",
        "C1": "村卫生室",
        "C2": "诊所/门诊部",
        "D1": "零售药店",
    },
    "project code table (卫生机构分类 simplified); local codes accepted",
    local_pattern=r"[A-Z]\d{1,3}",
)

LIST_TYPE = _t(
    "list_type",
    "目录类别",
    {
        "101": "西药中成药",
        "102": "中药饮片",
        "103": "医疗机构制剂",
        "104": "民族药",
        "201": "医疗服务项目",
        "301": "医用耗材",
    },
    "国家医保信息平台 字典 list_type",
)

MED_CHRGITM_TYPE = _t(
    "med_chrgitm_type",
    "医疗收费项目类别",
    {
        "01": "床位费",
        "02": "诊察费",
        "03": "检查费",
        "04": "化验费",
        "05": "治疗费",
        "06": "手术费",
        "07": "护理费",
        "08": "卫生材料费",
        "09": "西药费",
        "10": "中药饮片费",
        "11": "中成药费",
        "12": "一般诊疗费",
        "13": "挂号费",
        "14": "其他费",
    },
    "国家医保信息平台 字典 med_chrgitm_type",
)

CHRGITM_LV = _t(
    "chrgitm_lv",
    "收费项目等级",
    {"01": "甲类", "02": "乙类", "03": "丙类（自费）"},
    "国家医保信息平台 字典 chrgitm_lv",
    aliases={"1": "01", "2": "02", "3": "03"},
)

REFD_SETL_FLAG = _t("refd_setl_flag", "退费结算标志", {"0": "正常", "1": "退费"}, "国家医保信息平台")
VALI_FLAG = _t("vali_flag", "有效标志", {"0": "无效", "1": "有效"}, "国家医保信息平台")
INHOSP_STAS = _t("inhosp_stas", "在院状态", {"0": "出院", "1": "在院"}, "国家医保信息平台")
DSCG_WAY = _t(
    "dscg_way",
    "离院方式",
    {
        "1": "医嘱离院",
        "2": "医嘱转院",
        "3": "医嘱转社区卫生服务机构/乡镇卫生院",
        "4": "非医嘱离院",
        "5": "死亡",
        "9": "其他",
    },
    "病案首页标准",
)
MDTRT_CERT_TYPE = _t(
    "mdtrt_cert_type",
    "就诊凭证类型",
    {"01": "医保电子凭证", "02": "居民身份证", "03": "社会保障卡"},
    "国家医保信息平台",
)
DIAG_TYPE = _t("diag_type", "诊断类别", {"1": "西医诊断", "2": "中医主病诊断", "3": "中医主证诊断"}, "国家医保信息平台")
MAINDIAG_FLAG = _t("maindiag_flag", "主诊断标志", {"0": "否", "1": "是"}, "国家医保信息平台")
SETL_TYPE = _t("setl_type", "结算类别", {"1": "中心报销", "2": "联网结算", "3": "医疗救助"}, "regional backend")
CLR_TYPE = _t(
    "clr_type", "清算类别", {"11": "门诊", "21": "住院", "41": "药店"}, "regional backend", local_pattern=r"\d{2,6}"
)
PSN_INSU_STAS = _t(
    "psn_insu_stas",
    "人员参保状态",
    {"0": "未参保", "1": "正常参保", "2": "暂停参保", "3": "终止参保"},
    "国家医保信息平台",
)
TCMDRUG_USED_WAY = _t("tcmdrug_used_way", "中药使用方式", {"1": "复方", "2": "单方"}, "国家医保信息平台")
FLAG01 = _t("flag01", "是否标志", {"0": "否", "1": "是"}, "国家医保信息平台")
OPRN_TYPE = _t("oprn_oprt_type", "手术操作类别", {"1": "主手术", "2": "次要手术"}, "医保结算清单 oprninfo")
PRAC_TYPE = _t(
    "prac_type",
    "医保人员类别",
    {"1": "医师", "2": "药师", "3": "护士", "4": "医技人员", "9": "其他"},
    "医保医师/药师/护士 代码规则",
)
INV_TYPE = _t(
    "inv_type",
    "进销存类型",
    {"1": "采购入库", "2": "销售出库", "3": "退货出库", "4": "盘点调整", "5": "报损出库", "6": "调拨"},
    "国家医保信息平台 3501–3507 进销存 (simplified)",
)
EQUIP_TYPE = _t(
    "equip_type",
    "设备类型",
    {
        "BIOCHEM": "全自动生化分析仪",
        "IMMUNO": "化学发光免疫分析仪",
        "HEMA": "血细胞分析仪",
        "CT": "CT",
        "MRI": "磁共振",
        "US": "彩色超声",
        "DIALYSIS": "血液透析机",
        "DR": "数字X线摄影",
    },
    "project code table (设备台账)",
    local_pattern=r"[A-Z_]{2,20}",
)

ALL_CODE_TABLES: dict[str, CodeTable] = {
    t.name: t
    for t in (
        GEND,
        INSUTYPE,
        PSN_TYPE,
        MED_TYPE,
        HOSP_LV,
        HOSP_LV_SIMPLE,
        FIXMEDINS_TYPE,
        MEDINS_TYPE,
        LIST_TYPE,
        MED_CHRGITM_TYPE,
        CHRGITM_LV,
        REFD_SETL_FLAG,
        VALI_FLAG,
        INHOSP_STAS,
        DSCG_WAY,
        MDTRT_CERT_TYPE,
        DIAG_TYPE,
        MAINDIAG_FLAG,
        SETL_TYPE,
        CLR_TYPE,
        PSN_INSU_STAS,
        TCMDRUG_USED_WAY,
        FLAG01,
        OPRN_TYPE,
        PRAC_TYPE,
        INV_TYPE,
        EQUIP_TYPE,
    )
}


def code_table(name: str) -> CodeTable:
    return ALL_CODE_TABLES[name]


def valid_codes_for(name: str) -> CodeTable:
    """hosp_lv accepts both the 01–11 and the simplified scheme."""
    if name == "hosp_lv":
        merged = {**HOSP_LV.codes, **HOSP_LV_SIMPLE.codes}
        return CodeTable("hosp_lv", HOSP_LV.zh_name, merged, HOSP_LV.source)
    return ALL_CODE_TABLES[name]
