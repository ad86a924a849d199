"""Input nothing can store or mean is a clear 4xx in the one envelope, naming the field (it was a 500):
ids beyond PostgreSQL's integer, NUL bytes and lone surrogates, JSON nested 50,000 deep, dates in year 1."""
from __future__ import annotations

import json

import pytest

from tests.workflow import report

BIG = 8589934591  # 2**33 - 1


def fields(res) -> dict:
    return res.get_json()["error"].get("fields", {})


def test_ids_out_of_range_are_404_in_the_path_and_422_in_the_body(client, zhangsan, login):
    assert client.post(f"/api/v1/work-orders/{BIG}/urge", headers=zhangsan.headers).status_code == 404
    assert client.get(f"/api/v1/staff/work-orders/{BIG}", headers=login("demo-manager")).status_code == 404
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "repair", "house_id": BIG, "category": "water", "description": "漏水"})
    assert res.status_code == 422 and "house_id" in fields(res)
    res = client.post("/api/v1/payments", headers=zhangsan.headers, json={"bill_ids": [BIG]})
    assert res.status_code == 422 and "bill_ids.0" in fields(res)
    res = client.post("/api/v1/work-orders", headers=zhangsan.headers, json={
        "kind": "repair", "house_id": 1, "category": "water", "description": "漏水", "photos": [BIG]})
    assert res.status_code == 422 and "photos.0" in fields(res)


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800", "x\udfffy"])
def test_nul_bytes_and_lone_surrogates_in_a_body_are_refused(client, zhangsan, text):
    body = json.dumps({"kind": "repair", "house_id": 1, "category": "water", "description": text})
    res = client.post("/api/v1/work-orders", headers={**zhangsan.headers, "Content-Type": "application/json"},
                      data=body)
    assert res.status_code == 422 and fields(res) == {"description": ["不能包含空字符或无效的 Unicode 字符"]}


def test_nul_bytes_in_a_query_are_refused(client, login, demo):
    res = client.get("/api/v1/catalog?community=a%00b")
    assert res.status_code == 422 and "query.community" in fields(res)
    res = client.get("/api/v1/staff/work-orders?status=a%00", headers=login("demo-manager"))
    assert res.status_code == 422


def test_a_multipart_part_whose_name_cannot_be_read_is_no_server_error(client, login, demo):
    body = (b'--b\r\nContent-Disposition: form-data; name="O\\"\r\n\r\nnull\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n'
            + "楼栋,单元,房号\n8,1,101\n".encode() + b'\r\n--b--\r\n')
    res = client.post("/api/v1/staff/roster/import?dry_run=true", data=body, headers=login("demo-manager"),
                      content_type="multipart/form-data; boundary=b")
    assert res.status_code == 200 and res.get_json()["houses_created"] == 1  # (werkzeug names that part None)


def test_json_nested_fifty_thousand_deep_is_a_400(client, zhangsan):
    deep = "[" * 50000 + "]" * 50000
    res = client.post("/api/v1/work-orders", headers={**zhangsan.headers, "Content-Type": "application/json"},
                      data=deep)
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "json_too_deep"


def test_dates_nobody_means_are_refused(client, login, demo):
    manager = login("demo-manager")
    res = client.get("/api/v1/staff/reports/collection?period=2026-11&as_of=0001-01-01", headers=manager)
    assert res.status_code == 422 and "as_of" in fields(res)
    res = client.post("/api/v1/staff/surveys", headers=login("demo-reception"), json={
        "house_id": 1, "method": "phone", "answer": "satisfied", "surveyed_at": "0368-05-01T10:00:00+08:00"})
    assert res.status_code == 422 and "surveyed_at" in fields(res)


def test_an_order_is_still_accepted(client, zhangsan):
    assert report(client, zhangsan.headers)["status"] == "submitted"  # the guard lets ordinary input through


def test_a_file_the_csv_reader_cannot_read_is_a_422(client, login, demo):
    import io

    broken = io.BytesIO(b'meter\rnumber,reading\n1,2\n')  # a bare CR inside a header: csv.Error
    res = client.post("/api/v1/staff/meter-readings", headers=login("demo-manager"),
                      data={"file": (broken, "readings.csv")}, content_type="multipart/form-data")
    assert res.status_code == 422 and res.get_json()["error"]["code"] == "bad_file", res.get_json()


def test_a_notice_preview_matches_its_schema(client, login, demo):
    res = client.post("/api/v1/staff/notices/preview", headers=login("demo-manager"),
                      json={"title": "停水", "content": "明天停水", "kind": "water_cut", "scope": None})
    assert res.status_code == 200 and res.get_json()["id"] is None
