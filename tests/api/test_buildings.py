"""The community's buildings (chosen as a notice's scope); finding houses is the desk's search
(tests/api/test_desk.py)."""


def test_buildings_of_the_community(client, login, demo):
    res = client.get("/api/v1/staff/buildings", headers=login("demo-eng-1"))
    assert res.status_code == 200
    assert [(b["code"], b["name"]) for b in res.get_json()] == [("1", "1栋"), ("2", "2栋"), ("3", "3栋")]
    assert [b["code"] for b in client.get("/api/v1/staff/buildings", headers=login("other-manager")).get_json()] == ["9"]
