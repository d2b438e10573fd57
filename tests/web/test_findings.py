"""疑点 lists, drill-down, data scope, masking, unmasking, review workflow and export."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from fundguard.store.models import OpLog, Review

from .conftest import RULE


def _ids(html: str) -> list[str]:
    return re.findall(r'href="/findings/(F\d+)"', html)


def _log(store, action):
    with store.session() as s:
        return s.execute(select(OpLog).where(OpLog.action == action)).scalars().all()


def test_auditor_sees_only_own_region(client, as_user):
    as_user("auditor1")  # scope 230100
    r = client.get("/findings")
    assert r.status_code == 200
    assert sorted(_ids(r.text)) == ["F001", "F002", "F003", "F005"]
    assert "共 <b>4</b> 条" in r.text


def test_chief_with_two_regions_sees_all(client, as_user):
    as_user("chief1")
    assert sorted(_ids(client.get("/findings").text)) == ["F001", "F002", "F003", "F004", "F005"]


def test_institution_user_sees_only_its_institution(client, as_user):
    as_user("inst1")  # H23010000001
    assert sorted(_ids(client.get("/findings").text)) == ["F001", "F002", "F005"]


@pytest.mark.parametrize("fid", ["F003", "F004"])
def test_institution_user_cannot_open_other_institution_by_url(client, as_user, fid):
    as_user("inst1")
    r = client.get(f"/findings/{fid}")
    assert r.status_code == 404 and "不在您的数据权限范围内" in r.text


def test_filters_cannot_widen_scope(client, as_user):
    as_user("inst1")
    r = client.get("/findings", params={"fixmedins_code": "H23010000002"})
    assert _ids(r.text) == []
    r = client.get("/findings", params={"admdvs": "230200"})
    assert _ids(r.text) == []
    as_user("auditor1")
    assert _ids(client.get("/findings/table", params={"admdvs": "230200"}).text) == []
    assert client.get("/findings/F004").status_code == 404


def test_region_user_cannot_see_other_region_finding(client, as_user):
    as_user("auditor1")
    assert client.get("/findings/F004").status_code == 404


def test_export_respects_scope_and_body_cannot_widen_it(client, as_user):
    csrf = as_user("inst1")
    r = client.post("/findings/export?fixmedins_code=H23020000001", data={"csrf_token": csrf})
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 1  # header only


def test_filters_and_paging(client, as_user):
    as_user("chief1")
    r = client.get("/findings/table", params={"result_type": "明确违规", "sort": "violation_amount", "order": "desc"})
    assert _ids(r.text) == ["F004", "F003", "F001"]
    r = client.get("/findings/table", params={"amount_min": "100", "amount_max": "500"})
    assert sorted(_ids(r.text)) == ["F001", "F003"]
    r = client.get("/findings/table", params={"period_from": "2025-02", "period_to": "2025-02"})
    assert sorted(_ids(r.text)) == ["F002", "F003"]
    r = client.get("/findings/table", params={"rule_code": RULE, "fixmedins_code": "H23010000001"})
    assert sorted(_ids(r.text)) == ["F001", "F002", "F005"]
    p1 = _ids(client.get("/findings/table", params={"size": 2, "page": 1, "sort": "violation_amount"}).text)
    p2 = _ids(client.get("/findings/table", params={"size": 2, "page": 2, "sort": "violation_amount"}).text)
    p3 = _ids(client.get("/findings/table", params={"size": 2, "page": 3, "sort": "violation_amount"}).text)
    assert p1 == ["F004", "F003"] and p2 == ["F001", "F002"] and p3 == ["F005"]


def test_bad_filter_values_get_chinese_422(client, as_user):
    as_user("auditor1")
    r = client.get("/findings", params={"amount_min": "abc"})
    assert r.status_code == 422 and "最小金额须为数字" in r.text
    r = client.get("/findings", params={"page": "x"})
    assert r.status_code == 422 and "页码" in r.text and "须为整数" in r.text
    r = client.get("/findings", params={"period_from": "2025/01"})
    assert r.status_code == 422 and "格式不正确" in r.text


def test_detail_drilldown_highlights_line(client, as_user):
    as_user("auditor1")
    r = client.get("/findings/F001")
    assert r.status_code == 200
    assert re.search(r'<tr class="hit" id="violating-line"[^>]*>\s*<td>L002</td>', r.text)
    assert "L001" in r.text and "L003" in r.text  # the other lines of the settlement
    assert "S003" in r.text  # the person's history includes the other visit
    assert "小儿氨酚黄那敏颗粒" in r.text  # knowledge point from the evidence
    assert "第三十八条" in r.text  # legal basis
    assert "药品限儿童使用" in r.text
    assert "判定事实</b>：限定对象=儿童；年龄=45" in r.text
    assert "参数取值</b>：child_max_age：18" in r.text


def test_institution_user_history_is_scoped(client, as_user):
    as_user("inst1")
    r = client.get("/findings/F001")
    assert r.status_code == 200
    assert "S001" in r.text and "S003" not in r.text  # P001's visit to another institution stays hidden


def test_personal_information_masked_in_list_and_detail(client, as_user):
    as_user("auditor1")
    lst = client.get("/findings").text
    assert "张三丰" not in lst and "张**" in lst
    det = client.get("/findings/F001").text
    assert "张三丰" not in det and "230102198001011234" not in det and "13812345678" not in det
    assert "230102********1234" in det and "138****5678" in det


def test_unmask_is_logged(client, as_user, store):
    csrf = as_user("auditor1")
    r = client.post("/findings/F001/unmask", data={"csrf_token": csrf})
    assert r.status_code == 200
    assert "张三丰" in r.text and "230102198001011234" in r.text
    rows = _log(store, "unmask")
    assert len(rows) == 1 and rows[0].username == "auditor1" and rows[0].target == "psn:P001"
    assert "F001" in rows[0].detail


@pytest.mark.parametrize("user", ["analyst1", "inst1"])
def test_unmask_refused_for_roles_without_need(client, as_user, store, user):
    csrf = as_user(user)
    assert client.post("/findings/F001/unmask", data={"csrf_token": csrf}).status_code == 403
    assert "显示</button>" not in client.get("/findings/F001").text
    assert _log(store, "unmask") == []


def test_unmask_out_of_scope_is_404(client, as_user, store):
    csrf = as_user("auditor1")
    assert client.post("/findings/F004/unmask", data={"csrf_token": csrf}).status_code == 404
    assert _log(store, "unmask") == []


def test_export_is_chinese_masked_and_logged(client, as_user, store):
    csrf = as_user("auditor1")
    r = client.post("/findings/export?sort=violation_amount&order=desc", data={"csrf_token": csrf})
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["疑点清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("疑点ID", "规则编码", "规则名称")
    assert [r[0] for r in rows[1:]] == ["F003", "F001", "F002", "F005"]
    flat = str(rows)
    assert "张三丰" not in flat and "张**" in flat
    log = _log(store, "export")
    assert len(log) == 1 and '"rows": 4' in log[0].detail


def test_review_workflow_three_levels(client, as_user, store):
    # 复审 before 初审 is refused
    csrf = as_user("reviewer1")
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规", "note": "x"})
    assert r.status_code == 303 and "error=" in r.headers["location"]
    csrf = as_user("auditor1")
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规", "note": "超龄用药"})
    assert r.status_code == 303 and "error" not in r.headers["location"]
    # the same 初审 cannot be done twice
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规"})
    assert "error=" in r.headers["location"]
    csrf = as_user("reviewer1")
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规", "note": "同意"})
    assert "error" not in r.headers["location"]
    csrf = as_user("chief2")
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规", "note": "终审"})
    assert "error" not in r.headers["location"]
    with store.session() as s:
        assert s.get(Review, "F001").status == "已终审"
    steps = [r.detail for r in _log(store, "review")]
    assert len(steps) == 3 and "初审" in steps[0] and "终审" in steps[2]
    page = client.get("/findings/F001").text
    assert "已终审" in page and "超龄用药" in page
    # status filter goes through the store
    assert _ids(client.get("/findings/table", params={"status": "已终审"}).text) == ["F001"]
    assert "F001" not in _ids(client.get("/findings/table", params={"status": "待初审"}).text)


@pytest.mark.parametrize("user", ["analyst1", "inst1"])
def test_review_refused_for_other_roles(client, as_user, user):
    csrf = as_user(user)
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规"})
    assert r.status_code == 403


def test_review_out_of_scope_is_404(client, as_user):
    csrf = as_user("auditor1")
    r = client.post("/findings/F004/review", data={"csrf_token": csrf, "conclusion": "确认违规"})
    assert r.status_code == 404


def test_admin_has_no_business_data(client, as_user):
    as_user("admin2")
    for path in ("/dashboard", "/findings", "/findings/F001"):
        r = client.get(path)
        assert r.status_code == 403 and "禁止访问" in r.text


def test_unknown_page_is_chinese_404(client, as_user):
    as_user("auditor1")
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text and 'lang="zh-CN"' in r.text


def test_batch_review_within_scope_only(client, as_user, store):
    csrf = as_user("auditor1")
    r = client.post(
        "/findings/review-batch",
        data={
            "csrf_token": csrf,
            "conclusion": "排除疑点",
            "note": "批量",
            "back": "/findings?page=1",
            "finding_id": ["F001", "F002", "F004", "F999"],
        },
    )
    assert r.status_code == 303
    notice = client.get(r.headers["location"]).text
    assert "已审核 2 条" in notice and "F004：不存在或不在您的数据权限范围内" in notice
    with store.session() as s:
        assert {x.finding_id for x in s.execute(select(Review)).scalars()} == {"F001", "F002"}
    assert len(_log(store, "review")) == 2
    # the next level sees them as 已初审; the same auditor cannot review them again
    r = client.post(
        "/findings/review-batch", data={"csrf_token": csrf, "conclusion": "确认违规", "finding_id": ["F001"]}
    )
    assert "已审核 0 条" in client.get(r.headers["location"]).text


def test_batch_review_needs_role_and_csrf(client, as_user):
    csrf = as_user("analyst1")
    assert "batch-form" not in client.get("/findings").text
    r = client.post("/findings/review-batch", data={"csrf_token": csrf, "conclusion": "确认违规", "finding_id": "F001"})
    assert r.status_code == 403
    as_user("auditor1")
    assert client.post("/findings/review-batch", data={"finding_id": "F001"}).status_code == 403
