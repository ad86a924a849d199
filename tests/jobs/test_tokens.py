"""Access tokens: any number of processes cause one stable_token fetch; a rejected token is replaced."""
import multiprocessing as mp

from server.wechat.client import miniprogram, official_account
from tests.conftest import test_config

PROCESSES = 8


def _fetch_in_new_process(base, barrier, results):
    from server.app import create_app

    app = create_app(test_config(base))
    with app.app_context():
        barrier.wait(timeout=60)
        results.put(miniprogram().access_token())


def test_many_processes_cause_one_fetch(app, sandbox, redis_conn):
    ctx = mp.get_context("spawn")  # independent interpreters, as gunicorn and RQ workers would be
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_fetch_in_new_process, args=(sandbox.base, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    tokens = {results.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert len(tokens) == 1
    fetches = sandbox.calls("/cgi-bin/stable_token")
    assert len(fetches) == 1 and fetches[0]["appid"] == "wx-demo-mp"
    assert sandbox.calls("/cgi-bin/token") == []  # never the plain endpoint that breaks other processes


def test_token_is_cached_with_margin_and_per_app(app, sandbox, redis_conn):
    with app.app_context():
        mp_token = miniprogram().access_token()
        oa_token = official_account().access_token()
        assert mp_token != oa_token
        assert miniprogram().access_token() == mp_token
    ttl = redis_conn.ttl("wuye:wx:token:wx-demo-mp")
    assert 7200 - 300 - 5 <= ttl <= 7200 - 300
    assert len(sandbox.calls("/cgi-bin/stable_token")) == 2


def test_token_revoked_by_wechat_is_refreshed_once(app, sandbox, login, client, demo):
    with app.app_context():
        old = miniprogram().access_token()
    sandbox.post("/sandbox/tokens/invalidate", json={"appid": "wx-demo-mp"})
    headers = login("phone-owner")
    res = client.post("/api/v1/me/phone", json={"code": "dev:13800000001"}, headers=headers)
    assert res.status_code == 200
    with app.app_context():
        assert miniprogram().access_token() != old
    phone_calls = sandbox.calls("/wxa/business/getuserphonenumber")
    assert [c["errcode"] for c in phone_calls] == [40001, 0]


def test_redis_down_still_gets_a_token(sandbox_server, sandbox):
    from server.app import create_app

    down = create_app(test_config(sandbox_server.base, REDIS_URL="redis://127.0.0.1:1/0"))
    with down.app_context():
        assert miniprogram().access_token()
