"""A bad message is a 400 with a bilingual error naming the field; a good one parses."""

from __future__ import annotations

import copy

import pytest

from fundguard.realtime.messages import MessageError, parse


def _errors(client, body, path="/api/v1/audit/settlement"):
    r = client.post(path, json=body)
    assert r.status_code == 400
    data = r.json()
    assert data["infcode"] == -1 and " / " in data["err_msg"]
    return data


def test_missing_line_field_is_named_in_both_languages(client, message):
    del message["input"]["feedetail"][2]["cnt"]
    data = _errors(client, message)
    (err,) = data["errors"]
    assert err["field"] == "input.feedetail[2].cnt"
    assert err["reason_zh"] == "缺少必填字段" and err["reason_en"] == "required field missing"
    assert "input.feedetail[2].cnt" in data["err_msg"] and "缺少必填字段" in data["err_msg"]


def test_every_bad_field_is_listed(client, message):
    message["input"]["feedetail"][0]["fee_ocur_time"] = "2025-13-45 99:00"
    message["input"]["feedetail"][1]["pric"] = "十元"
    message["fixmedins_code"] = "X1"
    fields = {e["field"]: e for e in _errors(client, message)["errors"]}
    assert set(fields) == {"input.feedetail[0].fee_ocur_time", "input.feedetail[1].pric", "fixmedins_code"}
    assert fields["input.feedetail[1].pric"]["reason_zh"] == "应为数值"
    assert fields["input.feedetail[1].pric"]["value"] == "十元"
    assert fields["fixmedins_code"]["reason_en"] == "does not match the required format"


def test_wrong_transaction_code_and_unknown_codes(client, message):
    bad = copy.deepcopy(message)
    bad["infno"] = "3101"
    (err,) = _errors(client, bad)["errors"]
    assert err["field"] == "infno" and err["reason_zh"] == "交易编号不适用于本接口"
    message["input"]["feedetail"][3]["list_type"] = "999"
    (err,) = _errors(client, message)["errors"]
    assert err["field"] == "input.feedetail[3].list_type" and "目录类别" in err["reason_zh"]


def test_not_json_empty_lines_and_duplicate_serials(client, message):
    r = client.post("/api/v1/audit/settlement", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["err_msg"]
    empty = copy.deepcopy(message)
    empty["input"]["feedetail"] = []
    (err,) = _errors(client, empty)["errors"]
    assert err["field"] == "input.feedetail" and err["reason_zh"] == "至少需要一项"
    message["input"]["feedetail"][1]["feedetl_sn"] = "L1"
    (err,) = _errors(client, message)["errors"]
    assert err["field"] == "input.feedetail[1].feedetl_sn" and err["reason_en"] == "duplicate feedetl_sn"


def test_unknown_institution_and_person(client, message):
    unknown = copy.deepcopy(message)
    unknown["fixmedins_code"] = "H99999999999"
    (err,) = _errors(client, unknown)["errors"]
    assert err["field"] == "fixmedins_code" and err["value"] == "H99999999999"
    message["input"]["mdtrtinfo"]["psn_no"] = "NOBODY"
    (err,) = _errors(client, message)["errors"]
    assert err["field"] == "input.mdtrtinfo.psn_no"
    message["input"]["psninfo"] = {"gend": "2", "brdy": "1990-01-01"}  # a new insured: master data in the message
    assert client.post("/api/v1/audit/settlement", json=message).status_code == 200


def test_prescription_orders_need_no_price_or_time(message):
    message["infno"] = "3101"
    for line in message["input"]["feedetail"]:
        for k in ("pric", "det_item_fee_sumamt", "fee_ocur_time"):
            line.pop(k, None)
    msg = parse("prescription", message)
    assert msg.input.feedetail[0].pric is None
    with pytest.raises(MessageError) as e:
        parse("settlement", message)
    assert {p.field for p in e.value.problems} >= {"infno", "input.feedetail[0].pric"}
