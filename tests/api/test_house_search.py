"""Finding a house at the desk (by house number, room, phone or resident's name) and the community's buildings."""
import pytest


def find(client, headers, q):
    res = client.get("/api/v1/staff/houses", headers=headers, query_string={"q": q})
    assert res.status_code == 200, res.get_json()
    return res.get_json()


@pytest.fixture
def reception(login, demo):
    return login("demo-reception")


def test_find_by_number_room_phone_or_name(client, reception):
    found = find(client, reception, "1-1-101")
    assert [h["label"] for h in found] == ["1栋1单元101"]
    assert found[0]["building"] == "1" and found[0]["unit"] == "1" and found[0]["room"] == "101"
    assert found[0]["residents"] == [{"name": "张三", "phone": "13800000001", "role": "owner", "role_label": "业主"}]
    assert [h["label"] for h in find(client, reception, "2栋1单元201室")] == ["2栋1单元201"]
    assert [h["label"] for h in find(client, reception, "1-1-1")] == ["1栋1单元101", "1栋1单元102"]  # as typed
    assert [h["label"] for h in find(client, reception, "3-602")] == ["3栋1单元602", "3栋2单元602"]
    assert [h["label"] for h in find(client, reception, "101")] == [
        "1栋1单元101", "1栋2单元101", "2栋1单元101", "2栋2单元101", "3栋1单元101", "3栋2单元101"]
    assert len(find(client, reception, "1栋")) == 10  # at most 10
    assert [h["label"] for h in find(client, reception, "00000003")] == ["2栋1单元201"]
    assert [h["label"] for h in find(client, reception, "李四")] == ["1栋1单元102"]
    assert find(client, reception, "赵")[0]["residents"][0]["role_label"] == "租户"
    assert find(client, reception, "9-1-101") == []  # another community's building
    assert find(client, reception, "%") == []


def test_who_may_search(client, login, reception, zhangsan):
    assert find(client, login("demo-manager"), "1-1-101")
    assert find(client, login("other-manager"), "1-1-101") == []  # their own community only
    for openid in ("demo-eng-1", "demo-cashier"):
        assert client.get("/api/v1/staff/houses?q=101", headers=login(openid)).status_code == 403
    assert client.get("/api/v1/staff/houses?q=101", headers=zhangsan.headers).status_code == 403
    res = client.get("/api/v1/staff/houses?q=", headers=reception)
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"q": ["必填"]}


def test_buildings_of_the_community(client, login, reception):
    res = client.get("/api/v1/staff/buildings", headers=login("demo-eng-1"))
    assert res.status_code == 200
    assert [(b["code"], b["name"]) for b in res.get_json()] == [("1", "1栋"), ("2", "2栋"), ("3", "3栋")]
    assert [b["code"] for b in client.get("/api/v1/staff/buildings", headers=login("other-manager")).get_json()] == ["9"]
