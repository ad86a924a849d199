"""A worker binds their official-account openid by scanning the one-time QR code (sandbox -> callback)."""
import hashlib
import threading
import time

import pytest
from werkzeug.serving import make_server

from server.accounts.models import OaBindingToken, Staff
from server.extensions import db
from tests.conftest import free_port


@pytest.fixture
def live_app(app):
    """The app served over real HTTP, so the sandbox can call its official-account callback."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def staff_id(app, openid):
    with app.app_context():
        return db.session.query(Staff).filter_by(mp_openid=openid).one().id


def test_scan_binds_once(app, client, login, sandbox, demo, live_app):
    worker_id = staff_id(app, "demo-eng-2")
    res = client.post(f"/api/v1/staff/members/{worker_id}/oa-binding", headers=login("demo-eng-lead"))
    assert res.status_code == 201
    body = res.get_json()
    assert body["scene"] == "bind:" + body["token"] and body["qr_url"].startswith(sandbox.base)
    ticket = body["qr_url"].split("ticket=")[1]

    scan = sandbox.post("/sandbox/oa/scan", json={"openid": "oa-new-phone", "ticket": ticket,
                                                   "callback_url": live_app + "/wechat/official/events"}).json()
    assert scan["delivered"] and scan["status"] == 200
    assert "绑定成功：吴师傅（工程部）" in scan["reply"]
    with app.app_context():
        assert db.session.get(Staff, worker_id).oa_openid == "oa-new-phone"
        row = db.session.query(OaBindingToken).one()
        assert row.used_openid == "oa-new-phone"
        assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()  # never stored in clear

    again = sandbox.post("/sandbox/oa/scan", json={"openid": "oa-someone-else", "ticket": ticket,
                                                    "callback_url": live_app + "/wechat/official/events"}).json()
    assert "绑定码无效或已过期" in again["reply"]
    with app.app_context():
        assert db.session.get(Staff, worker_id).oa_openid == "oa-new-phone"


def test_callback_rejects_bad_signatures(client, demo):
    res = client.post("/wechat/official/events?signature=bad&timestamp=1&nonce=2", data="<xml></xml>")
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "bad_signature"


def test_server_verification_echo(app, client):
    import hashlib as h

    ts, nonce = str(int(time.time())), "n1"
    signature = h.sha1("".join(sorted([app.config["OA_TOKEN"], ts, nonce])).encode()).hexdigest()
    res = client.get(f"/wechat/official/events?signature={signature}&timestamp={ts}&nonce={nonce}&echostr=hello")
    assert res.status_code == 200 and res.get_data(as_text=True) == "hello"


def test_only_managers_and_own_supervisors_make_binding_codes(app, client, login, demo):
    cleaner = staff_id(app, "demo-clean-1")
    assert client.post(f"/api/v1/staff/members/{cleaner}/oa-binding", headers=login("demo-eng-lead")).status_code == 403
    assert client.post(f"/api/v1/staff/members/{cleaner}/oa-binding", headers=login("demo-eng-1")).status_code == 403
    assert client.post(f"/api/v1/staff/members/{cleaner}/oa-binding", headers=login("other-manager")).status_code == 404
    assert client.post(f"/api/v1/staff/members/{cleaner}/oa-binding", headers=login("demo-manager")).status_code == 201
    assert client.delete(f"/api/v1/staff/members/{cleaner}/oa-binding",
                         headers=login("demo-clean-lead")).status_code == 204
    with app.app_context():
        assert db.session.get(Staff, cleaner).oa_openid is None


AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat's console gives


def _signed(app, timestamp=None, nonce="n-1"):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = hashlib.sha1("".join(sorted([app.config["OA_TOKEN"], ts, nonce])).encode()).hexdigest()
    return f"signature={signature}&timestamp={ts}&nonce={nonce}"


EVENT = ("<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[oa-x]]></FromUserName>"
         "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>")


def test_a_callback_signed_long_ago_or_replayed_is_refused(app, client, demo):
    stale = client.post("/wechat/official/events?" + _signed(app, timestamp=int(time.time()) - 3600), data=EVENT)
    assert stale.status_code == 403 and stale.get_json()["error"]["code"] == "stale_timestamp"
    query = _signed(app, nonce="once")
    assert client.post("/wechat/official/events?" + query, data=EVENT).status_code == 200
    replay = client.post("/wechat/official/events?" + query, data=EVENT)
    assert replay.status_code == 403 and replay.get_json()["error"]["code"] == "replayed"


def test_malformed_xml_is_a_400(app, client, demo):
    res = client.post("/wechat/official/events?" + _signed(app, nonce="x1"), data="<xml><unclosed>")
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_message"


def test_safe_mode_binds_with_encrypted_events_and_refuses_plain_ones(app, client, login, sandbox, demo, live_app,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "OA_ENCODING_AES_KEY", AES_KEY)
    plain = client.post("/wechat/official/events?" + _signed(app, nonce="p1"), data=EVENT)
    assert plain.status_code == 403 and plain.get_json()["error"]["code"] == "encryption_required", plain.get_json()
    worker_id = staff_id(app, "demo-eng-2")
    body = client.post(f"/api/v1/staff/members/{worker_id}/oa-binding", headers=login("demo-eng-lead")).get_json()
    ticket = body["qr_url"].split("ticket=")[1]
    scan = sandbox.post("/sandbox/oa/scan", json={"openid": "oa-safe", "ticket": ticket, "safe": True,
                                                   "encoding_aes_key": AES_KEY,
                                                   "callback_url": live_app + "/wechat/official/events"}).json()
    assert scan["delivered"] and scan["status"] == 200 and "绑定成功" in scan["reply"], scan
    with app.app_context():
        assert db.session.get(Staff, worker_id).oa_openid == "oa-safe"
