"""Knowledge points: the one normalised shape every importer produces and every rule reads.

The warehouse table `kb_point` holds all knowledge, whatever its source (NHSA 两库 batches, the
NRDL 备注, ICD-10 医保版, CHS-DRG, curated tables, a region's own price list). A rule selects its
knowledge by `kp_type`; nothing about a particular drug, item or code lives in rule logic.

Column meanings (types in KB_POINT_COLUMNS):
- kp_id          stable id: hash of (kp_type, med_list_codg, related_codg, limit_value, source_batch)
- kp_type        one of KP_TYPES below
- med_list_codg  the national code the point is about (drug 20/23, service item 15, consumable 20,
                 ICD-10 / ICD-9-CM-3 code for diagnosis/operation points). Drug points from the 两库
                 are expanded to one row per 国标代码 (Sheet2 of the batch files).
- code_prefix    when set, the point applies to every code starting with it (e.g. ICD-10 chapters)
- item_name      the official name (药品通用名 / 项目名称)
- limit_value    the restriction as text, normalised: 男/女 for gender; 儿童/新生儿/成人 or an age range
                 "a-b" for age; 住院/门诊 for care setting; 工伤/生育 for insurance type; 二级/三级 for
                 hospital level; the window word (单日/单次住院/…) for pairs and frequency
- limit_num      the number in the restriction (days, count, price, age, tier 1/2/3)
- limit_unit     日 | 次 | 天 | 元 | 岁 | 级 …
- window_days    for cycle / course / frequency points: the window in days (1 = same day)
- related_codg   the second code of a pair (重复收费 从项, interacting drug, incompatible herb …)
- group_name     the group a code belongs to (主次手术组, 抗菌药物级别, 药理类别 …)
- description    the official explanatory text (药品说明 / 备注 / 项目说明)
- begndate, enddate   validity (enddate NULL = open)
- admdvs         region the point applies to (NULL = national)
- source, source_file, source_row, batch   provenance, shown as evidence
- kb_version     import version (one per `kb import` run)
"""

from __future__ import annotations

KB_POINT_COLUMNS: dict[str, str] = {
    "kp_id": "VARCHAR",
    "kp_type": "VARCHAR",
    "med_list_codg": "VARCHAR",
    "code_prefix": "VARCHAR",
    "item_name": "VARCHAR",
    "limit_value": "VARCHAR",
    "limit_num": "DOUBLE",
    "limit_unit": "VARCHAR",
    "window_days": "INTEGER",
    "related_codg": "VARCHAR",
    "related_name": "VARCHAR",
    "group_name": "VARCHAR",
    "description": "VARCHAR",
    "begndate": "DATE",
    "enddate": "DATE",
    "admdvs": "VARCHAR",
    "source": "VARCHAR",
    "source_file": "VARCHAR",
    "source_row": "INTEGER",
    "batch": "VARCHAR",
    "kb_version": "VARCHAR",
}

# kp_type → (Chinese name, meaning of limit_value / limit_num). Importers must only emit these.
KP_TYPES: dict[str, tuple[str, str]] = {
    # 两库 batch 1: gender / age
    "drug_gender": ("药品限定性别", "limit_value 男|女 = the only gender that may use it"),
    "item_gender": ("医疗服务项目限定性别", "limit_value 男|女"),
    "consumable_gender": ("医用耗材限定性别", "limit_value 男|女"),
    "drug_age": ("药品限定年龄对象", "limit_value 儿童|新生儿|成人|a-b (years); limit_num = upper age where relevant"),
    "drug_child_forbidden": ("药品儿童禁用", "limit_value 儿童 = must not be used under the child age"),
    "item_age": ("医疗服务项目限定年龄", "limit_value 儿童|新生儿|a-b"),
    "consumable_age": ("医用耗材限定年龄", "limit_value 儿童|新生儿"),
    # batch 2: 主次手术 groups
    "surgery_group": (
        "手术项目主次操作组",
        "group_name = 手术组; second and later operations of a group must be discounted",
    ),
    # batch 3: insurance type
    "drug_insutype": ("药品限定保险类型", "limit_value 工伤|生育"),
    "item_insutype": ("医疗服务项目限定保险类型", "limit_value 工伤|生育"),
    # batch 4: care setting
    "drug_med_type": ("药品限定就医方式", "limit_value 住院|门诊"),
    "item_med_type": ("医疗服务项目限定就医方式", "limit_value 住院|门诊"),
    # batch 5: hospital level
    "drug_hosp_lv": ("药品限定医疗机构级别", "limit_num = minimum tier (3/2/1); limit_value 二级|三级"),
    "item_hosp_lv": ("医疗服务项目限定医疗机构级别", "limit_num = minimum tier"),
    # batch 6 / 8-3: payment course
    "drug_course": ("药品限定支付疗程", "limit_num = max days of payment; limit_unit 天"),
    "item_course": ("医疗服务项目限定支付疗程", "limit_num = max days; window_days = min interval if given"),
    # batch 7: duplicate charging pairs
    "item_dup_pair": ("医疗服务项目重复收费", "med_list_codg 主项, related_codg 从项; limit_value 单日|单次住院|同时"),
    "item_consumable_dup_pair": ("医疗服务项目与医用耗材重复收费", "med_list_codg item, related_codg consumable"),
    "item_split_pair": ("医疗服务项目分解收费", "med_list_codg 合并项目, related_codg 拆分项目"),
    # batch 8: frequency / cycle
    "item_frequency": ("医疗服务项目限定频次", "limit_num = max count per limit_unit (日|次住院)"),
    "item_cycle": ("医疗服务项目周期超频次", "limit_num = max count per window_days"),
    # NRDL 备注 and others
    "drug_indication": ("药品限适应症", "description = 限定支付范围 text; related_codg = ICD-10 prefix when mapped"),
    "drug_label_indication": (
        "药品说明书适应症",
        "code_prefix/med_list_codg drug; related_codg = ICD-10 prefix of one labelled indication (超说明书适应症用药)",
    ),
    "drug_second_line": ("药品限二线使用", "description"),
    "chronic_disease_drug": (
        "门诊慢特病病种用药范围",
        "related_codg = ICD-10 prefix of the 病种; group_name = 病种; med_list_codg or code_prefix = drug (class) in range",
    ),
    "drug_max_days": (
        "药品限最大开药天数/开药量",
        "limit_num = max days per prescription; limit_value 门诊|慢特病|all",
    ),
    "drug_class": ("药品甲乙类", "limit_value 甲|乙; group_name = NRDL class"),
    "tcm_not_paid_any": ("中药饮片单复方均不予支付", ""),
    "tcm_not_paid_single": ("中药饮片单方使用不予支付", ""),
    "tcm_max_herbs": ("中药饮片超大处方", "limit_num = max number of herbs per prescription"),
    "tcm_max_dose": ("中药饮片超量", "limit_num = max grams per dose"),
    "internet_forbidden": ("互联网诊疗不得开具药品", "limit_value 麻精"),
    # catalogues and curated tables
    "item_price_cap": (
        "医疗服务项目限定单价",
        "limit_num = max price; group_name = hospital tier 3|2|1|0 (empty = all)",
    ),
    "item_reimb_cap": ("医疗服务项目/耗材限定报销总额", "limit_num = max amount per window"),
    "item_dept": ("医疗服务项目限科室", "limit_value = allowed dept codes, '|' separated"),
    "consumable_dept": ("医用耗材限科室", "limit_value = allowed dept codes"),
    "consumable_item": ("医用耗材与医疗服务项目关联", "related_codg = item the consumable must accompany"),
    "consumable_max_qty": ("医用耗材数量上限", "limit_num = max per visit"),
    "consumable_indication": ("医用耗材限疾病使用", "related_codg = ICD-10 prefix"),
    "drug_item": ("药品须与项目同时使用", "related_codg = required item"),
    "drug_interaction": ("药品相互作用", "med_list_codg/code_prefix and related_codg (ATC prefixes)"),
    "drug_contraindication": ("药品禁忌症", "related_codg = ICD-10 prefix of the contraindicated diagnosis"),
    "drug_elderly_caution": ("老年人慎用药品", "limit_num = age"),
    "drug_pregnancy": ("妊娠期及哺乳期禁用药品", ""),
    "drug_dup_class": ("重复开药（同类药理作用）", "group_name = pharmacological class"),
    "drug_max_dose": ("药品说明书最大用量", "limit_num = max daily quantity"),
    "tcm_incompatible": ("中药饮片配伍禁忌（十八反十九畏）", "med_list_codg/related_codg or names"),
    "antibiotic_level": ("抗菌药物分级", "limit_value 非限制|限制|特殊"),
    "item_indication": ("医疗服务项目限适应症", "related_codg = ICD-10 prefix"),
    "item_contraindication": ("医疗服务项目禁忌症", "related_codg = ICD-10 prefix"),
    "item_equip": ("检验检查项目所用设备", "limit_value = equip_type"),
    "diag_gender": ("诊断限定性别", "code_prefix ICD-10; limit_value 男|女"),
    "diag_age": ("诊断限定年龄", "code_prefix ICD-10; limit_value a-b"),
    "oprn_gender": ("手术操作限定性别", "code_prefix ICD-9-CM-3; limit_value 男|女"),
    "diag_oprn": ("诊断与手术操作关联", "code_prefix diagnosis, related_codg operation prefix"),
    "icd10": ("ICD-10 医保版 2.0 诊断编码", "item_name"),
    "icd9cm3": ("ICD-9-CM-3 医保版 2.0 手术操作编码", "item_name"),
    "drg_group": ("CHS-DRG 分组", "med_list_codg = DRG code; limit_num = weight (RW) when known"),
    "drg_cc": ("CHS-DRG CC/MCC 表", "limit_value CC|MCC; group_name = exclusion table number"),
    "drg_cc_exclusion": (
        "CHS-DRG CC/MCC 排除表",
        "med_list_codg = principal diagnosis; group_name = exclusion table number",
    ),
}
