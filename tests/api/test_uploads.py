"""Photo uploads: images only (sniffed), size limit, who may read, attach hook, nothing half-written."""
import io
import struct
import zlib

import pytest
from sqlalchemy import func, select

from server.accounts.models import Community
from server.errors import ValidationFailed
from server.extensions import db
from server.uploads import services
from server.uploads.models import Upload, UploadAttachment
from server.uploads.services import IMAGE_ONLY
from tests.conftest import test_config


def tiny_png(seed: int = 0) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"\x00" + bytes([seed % 256, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def tiny_jpeg() -> bytes:
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 2, 4, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" \
        + sof0 + b"\xff\xd9"


def post(client, headers, data: bytes | None, filename="photo.jpg", content_type="image/jpeg", **extra):
    form = dict(extra)
    if data is not None:
        form["file"] = (io.BytesIO(data), filename, content_type)
    return client.post("/api/v1/uploads", data=form, headers=headers, content_type="multipart/form-data")


def stored_files(upload_dir) -> list:
    return [p for p in upload_dir.rglob("*") if p.is_file()] if upload_dir.exists() else []


def row_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Upload))


def community_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Community.id).where(Community.code == code))


def test_owner_uploads_and_reads_back_the_same_bytes(app, client, login, upload_dir):
    owner = login("owner-upload-1")
    data = tiny_png()
    res = post(client, owner, data, filename="IMG_0001.HEIC", content_type="application/octet-stream")
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body == {"id": body["id"], "content_type": "image/png", "size": len(data),
                    "url": f"/api/v1/uploads/{body['id']}"}

    got = client.get(body["url"], headers=owner)
    assert got.status_code == 200
    assert got.data == data and got.mimetype == "image/png"
    assert got.headers["Cache-Control"] == "private, max-age=86400"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert int(got.headers["Content-Length"]) == len(data)
    # Revalidation by ETag (the sha256) costs no body.
    again = client.get(body["url"], headers={**owner, "If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304

    with app.app_context():
        row = db.session.get(Upload, body["id"])
        assert row.owner_id is not None and row.staff_id is None and row.community_id is None
        assert (row.width, row.height) == (1, 1) and len(row.sha256) == 64
        assert row.key.endswith(".png") and "IMG_0001" not in row.key
    assert [p.read_bytes() for p in stored_files(upload_dir)] == [data]


def test_jpeg_is_recognised_whatever_the_name(client, login):
    res = post(client, login("owner-upload-2"), tiny_jpeg(), filename="photo.png", content_type="image/png")
    assert res.status_code == 201 and res.get_json()["content_type"] == "image/jpeg"


def test_the_same_photo_twice_is_one_upload(app, client, login, upload_dir):
    owner = login("owner-upload-3")
    first = post(client, owner, tiny_png()).get_json()
    second = post(client, owner, tiny_png()).get_json()
    assert first["id"] == second["id"]
    assert row_count(app) == 1 and len(stored_files(upload_dir)) == 1
    # Another person's identical photo is their own upload.
    other = post(client, login("owner-upload-4"), tiny_png()).get_json()
    assert other["id"] != first["id"]


def test_no_token_is_401(client, login):
    assert post(client, {}, tiny_png()).status_code == 401
    uid = post(client, login("owner-upload-5"), tiny_png()).get_json()["id"]
    res = client.get(f"/api/v1/uploads/{uid}")
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "token_missing"


def test_other_people_get_404_until_attached(app, client, login, demo, monkeypatch):
    owner = login("owner-upload-6")
    uid = post(client, owner, tiny_png()).get_json()["id"]
    url = f"/api/v1/uploads/{uid}"
    stranger = client.get(url, headers=login("owner-upload-7"))
    assert stranger.status_code == 404 and stranger.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/uploads/999999", headers=owner).status_code == 404
    # Not attached yet: no community, so no staff member reads it.
    assert client.get(url, headers=login("demo-eng-1")).status_code == 404

    with app.app_context():
        upload = db.session.get(Upload, uid)
        attached = services.attach([uid], record=("test_record", 7), community_id=community_id(app, "demo"),
                                   owner_id=upload.owner_id)
        assert [u.id for u in attached] == [uid]
        db.session.commit()

    # Attached to a kind of record no module vouches for: still nobody's but the uploader's.
    assert client.get(url, headers=login("demo-manager")).status_code == 404
    # The record's module decides who sees it (here: managers; record 7 only), within the community.
    monkeypatch.setitem(services._visibility, "test_record", lambda staff, record_id: staff.role == "manager"
                        and record_id == 7)
    assert client.get(url, headers=login("demo-manager")).data == tiny_png()
    assert client.get(url, headers=login("demo-eng-1")).status_code == 404
    assert client.get(url, headers=login("other-manager")).status_code == 404
    assert client.get(url, headers=login("owner-upload-7")).status_code == 404
    assert client.get(url, headers=owner).status_code == 200


def test_staff_uploads_belong_to_their_community(app, client, login, demo):
    worker = login("demo-eng-1")
    res = post(client, worker, tiny_jpeg())
    assert res.status_code == 201
    url = res.get_json()["url"]
    with app.app_context():
        row = db.session.get(Upload, res.get_json()["id"])
        assert row.staff_id is not None and row.community_id == community_id(app, "demo")
    assert client.get(url, headers=worker).status_code == 200
    assert client.get(url, headers=login("demo-manager")).status_code == 404  # attached to nothing yet
    assert client.get(url, headers=login("other-manager")).status_code == 404
    assert client.get(url, headers=login("owner-upload-8")).status_code == 404


def test_attach_refuses_foreign_or_missing_uploads(app, client, login, demo):
    mine = post(client, login("owner-upload-9"), tiny_png(1)).get_json()["id"]
    theirs = post(client, login("owner-upload-10"), tiny_png(2)).get_json()["id"]
    staff_upload = post(client, login("demo-eng-1"), tiny_png(3)).get_json()["id"]
    demo_id, other_id = community_id(app, "demo"), community_id(app, "other")
    with app.app_context():
        owner_id = db.session.get(Upload, mine).owner_id
        staff_id = db.session.get(Upload, staff_upload).staff_id
        for ids, kwargs in (
            ([mine, theirs], {"owner_id": owner_id}),
            ([mine, 999999], {"owner_id": owner_id}),
            ([staff_upload], {"owner_id": owner_id}),
            ([mine], {"staff_id": staff_id}),
            ([staff_upload], {"staff_id": staff_id, "community_id": other_id}),  # a demo photo stays in demo
        ):
            with pytest.raises(ValidationFailed) as err:
                services.attach(ids, **{"record": ("test_record", 1), "community_id": demo_id, **kwargs})
            assert err.value.fields == {"photos": ["图片不存在或不属于您"]}
            db.session.rollback()
        assert db.session.get(Upload, mine).community_id is None  # nothing changed

        record = ("test_record", 1)
        assert services.attach([], record=record, community_id=demo_id, owner_id=owner_id) == []
        assert [u.id for u in services.attach([staff_upload, staff_upload], record=record, community_id=demo_id,
                                              staff_id=staff_id)] == [staff_upload]
        services.attach([mine], record=record, community_id=demo_id, owner_id=owner_id)
        services.attach([mine], record=record, community_id=demo_id, owner_id=owner_id)  # again: no second link
        services.attach([mine], record=("test_record", 2), community_id=demo_id, owner_id=owner_id)
        db.session.commit()
        links = db.session.scalars(select(UploadAttachment.record_id).where(UploadAttachment.upload_id == mine))
        assert sorted(links) == [1, 2]
        # Once in a community, an owner's photo cannot be moved to another one.
        with pytest.raises(ValidationFailed):
            services.attach([mine], record=record, community_id=other_id, owner_id=owner_id)
        db.session.rollback()


@pytest.mark.parametrize("data", [
    b"just some text, not a photo",
    b"%PDF-1.4\n1 0 obj",
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"",
])
def test_non_images_are_422(app, client, login, upload_dir, data):
    res = post(client, login("owner-upload-11"), data, filename="photo.png", content_type="image/png")
    assert res.status_code == 422
    error = res.get_json()["error"]
    assert error["code"] == "validation_error" and error["fields"] == {"file": [IMAGE_ONLY]}
    assert row_count(app) == 0 and stored_files(upload_dir) == []


def test_missing_file_part_is_422(client, login):
    res = post(client, login("owner-upload-12"), None, note="hello")
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"file": ["必填"]}
    # A JSON body has no file either.
    res = client.post("/api/v1/uploads", json={"file": "x"}, headers=login("owner-upload-12"))
    assert res.status_code == 422 and res.get_json()["error"]["fields"] == {"file": ["必填"]}


def test_photo_over_the_limit_is_413_and_not_stored(app, client, login, upload_dir, monkeypatch):
    owner = login("owner-upload-13")
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    big = tiny_png() + b"\x00" * (1024 * 1024)
    res = post(client, owner, big)
    assert res.status_code == 413
    error = res.get_json()["error"]
    assert error["code"] == "payload_too_large" and "1 MB" in error["message"]
    assert row_count(app) == 0 and stored_files(upload_dir) == []
    # Exactly at the limit is fine.
    exact = tiny_png() + b"\x00" * (1024 * 1024 - len(tiny_png()))
    assert post(client, owner, exact).status_code == 201


def test_request_over_max_content_length_is_413_and_not_stored(app, client, login, upload_dir, monkeypatch):
    owner = login("owner-upload-14")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    res = post(client, owner, tiny_png() + b"\x00" * 5000)
    assert res.status_code == 413 and res.get_json()["error"]["code"] == "payload_too_large"
    assert row_count(app) == 0 and stored_files(upload_dir) == []


def test_uploads_are_rate_limited_per_person(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_UPLOADS", (2, 3600))
    owner = login("owner-upload-15")
    assert post(client, owner, tiny_png(1)).status_code == 201
    assert post(client, owner, tiny_png(2)).status_code == 201
    res = post(client, owner, tiny_png(3))
    assert res.status_code == 429 and res.get_json()["error"]["code"] == "rate_limited"
    assert int(res.headers["Retry-After"]) > 0
    assert post(client, login("owner-upload-16"), tiny_png(3)).status_code == 201  # others are not affected


def test_a_failed_commit_leaves_no_file(app, client, login, upload_dir, monkeypatch):
    owner = login("owner-upload-17")

    def broken_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    res = post(client, owner, tiny_png())
    monkeypatch.undo()
    assert res.status_code == 500
    assert row_count(app) == 0 and stored_files(upload_dir) == []


def test_a_failed_write_leaves_no_row_and_no_temporary_file(app, client, login, upload_dir, monkeypatch):
    owner = login("owner-upload-18")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)  # fails after the bytes went to the temporary file
    res = post(client, owner, tiny_png())
    monkeypatch.undo()
    assert res.status_code == 500
    assert row_count(app) == 0 and stored_files(upload_dir) == []


def test_unknown_backend_stops_the_app_at_start(sandbox_server):
    from server.app import create_app
    from server.config import ConfigError

    with pytest.raises(ConfigError, match="WUYE_UPLOAD_BACKEND"):
        create_app(test_config(sandbox_server.base, UPLOAD_BACKEND="s3"))


def test_openapi_documents_multipart_and_binary(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post_op = spec["paths"]["/api/v1/uploads"]["post"]
    form = post_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "UploadIn" in str(form) or "file" in str(form)
    assert "201" in post_op["responses"]
    get_op = spec["paths"]["/api/v1/uploads/{upload_id}"]["get"]
    assert "image/*" in get_op["responses"]["200"]["content"]


def test_people_of_the_house_see_the_photos_of_its_orders(app, client, login, zhangsan, run_jobs):
    """The worker's photos of the finished job are visible to the owner of that house, not to others."""
    from tests.workflow import report, work_through

    order = report(client, zhangsan.headers)
    run_jobs()
    worker = login("demo-eng-1")
    photo = post(client, worker, tiny_png(), "done.png", "image/png").get_json()
    work_through(client, worker, order["id"], {"notes": "已修好", "photos": [photo["id"]]})
    assert client.get(f"/api/v1/uploads/{photo['id']}", headers=zhangsan.headers).status_code == 200
    assert client.get(f"/api/v1/uploads/{photo['id']}", headers=login("owner-elsewhere")).status_code == 404


def test_a_photo_is_seen_by_exactly_those_who_see_its_order(app, client, login, zhangsan, run_jobs):
    """Owners' photos are not the whole community's: a repair's photos are for the people of the house and
    the staff who may see that order (assigned worker, its department's supervisor, the desk), no one else."""
    from tests.workflow import report, work_through

    leak = post(client, zhangsan.headers, tiny_png(7), "leak.png", "image/png").get_json()
    order = report(client, zhangsan.headers, photos=[leak["id"]])
    run_jobs()  # dispatched to 周师傅 (water)
    url = f"/api/v1/uploads/{leak['id']}"

    def seen_by(openid):
        return client.get(url, headers=login(openid)).status_code == 200

    assert client.get(url, headers=zhangsan.headers).status_code == 200
    for openid in ("demo-eng-1", "demo-eng-lead", "demo-reception", "demo-manager"):
        assert seen_by(openid), openid
    for openid in ("demo-eng-2", "demo-clean-1", "demo-clean-lead", "demo-cashier", "other-manager"):
        assert not seen_by(openid), openid  # active staff of the community, but not of this order

    # The worker's photos of the finished job follow the same rule.
    done = post(client, login("demo-eng-1"), tiny_png(8), "done.png", "image/png").get_json()
    work_through(client, login("demo-eng-1"), order["id"], {"notes": "已修好", "photos": [done["id"]]})
    done_url = f"/api/v1/uploads/{done['id']}"
    assert client.get(done_url, headers=zhangsan.headers).status_code == 200
    assert client.get(done_url, headers=login("demo-eng-lead")).status_code == 200
    assert client.get(done_url, headers=login("demo-clean-1")).status_code == 404
    assert client.get(done_url, headers=login("demo-eng-2")).status_code == 404


def test_a_staff_photo_not_yet_attached_is_the_uploaders_alone(app, client, login, demo):
    url = post(client, login("demo-eng-1"), tiny_jpeg()).get_json()["url"]
    assert client.get(url, headers=login("demo-eng-1")).status_code == 200
    assert client.get(url, headers=login("demo-eng-2")).status_code == 404
    assert client.get(url, headers=login("demo-manager")).status_code == 404
