"""Helpers that drive work orders through the real API (no shortcuts into services)."""
from __future__ import annotations


def item_id(client, name: str = "更换水龙头") -> int:
    items = client.get("/api/v1/catalog?community=demo").get_json()["items"]
    return next(i["id"] for i in items if i["name"] == name)


def material_id(client, staff_headers, name: str = "水龙头") -> int:
    return next(m["id"] for m in client.get("/api/v1/staff/catalog/materials", headers=staff_headers).get_json()
                if m["name"] == name)


def first_house(client, headers) -> int:
    return client.get("/api/v1/me/houses", headers=headers).get_json()[0]["house"]["id"]


def book(client, headers, item: str = "更换水龙头", quantity: int = 1, **extra) -> dict:
    res = client.post("/api/v1/work-orders", headers=headers, json={
        "kind": "service", "house_id": first_house(client, headers), "service_item_id": item_id(client, item),
        "quantity": quantity, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def report(client, headers, category: str = "water", description: str = "厨房水管漏水", **extra) -> dict:
    res = client.post("/api/v1/work-orders", headers=headers, json={
        "kind": "repair", "house_id": first_house(client, headers), "category": category,
        "description": description, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def task_action(client, staff_headers, order_id: int, action: str, body: dict | None = None, status: int = 200):
    res = client.post(f"/api/v1/staff/tasks/{order_id}/{action}", headers=staff_headers, json=body or {})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def work_through(client, staff_headers, order_id: int, complete: dict | None = None) -> dict:
    """accept -> arrive -> complete, as the assigned worker."""
    task_action(client, staff_headers, order_id, "accept")
    task_action(client, staff_headers, order_id, "arrive")
    return task_action(client, staff_headers, order_id, "complete", complete or {"notes": "已处理"})
