"""xlsx export of the current 疑点 selection: Chinese headers, personal data masked."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import xlsxwriter

from fundguard.web.masking import mask_name

EXPORT_LIMIT = 100_000  # rows per file; the sheet says when the selection was larger

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("finding_id", "疑点ID", 20),
    ("rule_code", "规则编码", 20),
    ("rule_name", "规则名称", 28),
    ("result_type", "结果类型", 10),
    ("severity", "严重程度", 8),
    ("status", "审核状态", 10),
    ("admdvs", "医保区划", 10),
    ("fixmedins_code", "定点医药机构编号", 16),
    ("fixmedins_name", "定点医药机构名称", 28),
    ("bilg_dr_codg", "医生编码", 18),
    ("psn_no", "人员编号", 16),
    ("psn_name", "姓名（脱敏）", 10),
    ("setl_id", "结算ID", 18),
    ("feedetl_sn", "费用明细流水号", 18),
    ("med_list_codg", "医疗目录编码", 24),
    ("occur_time", "发生时间", 18),
    ("violation_amount", "违规金额（元）", 14),
    ("message", "疑点描述", 50),
    ("legal_basis", "法律依据", 40),
    ("detected_at", "检出时间", 18),
)


def findings_xlsx(rows: list[dict], statuses: dict[str, str], total: int) -> tuple[bytes, str]:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("疑点清单")
    head = wb.add_format({"bold": True, "bg_color": "#DDE6F3", "border": 1, "font_name": "宋体"})
    money = wb.add_format({"num_format": "#,##0.00"})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for c, (_, title, width) in enumerate(COLUMNS):
        ws.write(0, c, title, head)
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    for r, row in enumerate(rows, start=1):
        for c, (key, _, _) in enumerate(COLUMNS):
            if key == "status":
                value = statuses.get(row["finding_id"], "待初审")
            elif key == "psn_name":
                value = mask_name(row.get("psn_name"))
            else:
                value = row.get(key)
            if isinstance(value, Decimal):
                ws.write_number(r, c, float(value), money)
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, value, when)
            elif value is None:
                ws.write_blank(r, c, None)
            else:
                ws.write_string(r, c, str(value))
    if total > len(rows):
        ws.write(len(rows) + 2, 0, f"注：共 {total} 条，本文件导出前 {len(rows)} 条，请缩小筛选范围分批导出。")
    info = wb.add_worksheet("说明")
    info.write(0, 0, "导出时间")
    info.write(0, 1, datetime.now().strftime("%Y-%m-%d %H:%M:%S"))
    info.write(1, 0, "说明")
    info.write(1, 1, "个人信息已脱敏。本文件含医保基金监管数据，仅限内部使用，严禁外传。")
    wb.close()
    name = f"疑点清单_{datetime.now().strftime('%Y%m%d%H%M%S')}.xlsx"
    return buf.getvalue(), name
