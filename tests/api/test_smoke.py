def test_login_me(client, zhangsan):
    res = client.get("/api/v1/me", headers=zhangsan.headers)
    assert res.status_code == 200, res.get_json()
    print(res.get_json())
