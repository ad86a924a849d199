"""Photo uploads: sniff, store, attach to another module's record, decide who may read.

Rules:
- Images only, decided by the first bytes (`sniff`), never by the client's file name or Content-Type;
  the stored content_type is the sniffed one.
- Uploader: a signed-in staff member (active) records staff_id and their community_id; the owner behind
  a mini-program sign-in is recorded as owner_id too (a worker may also be a resident reporting a repair
  at home), so `attach` accepts the upload for either identity.
- Owner uploads carry no community until `attach` scopes them to the record's community.
- `attach` records what an upload is attached to (kind and id of the record: "work_order" 12).
- Readable (`may_read`) by the uploader, by the people of the house of its record, and by active staff
  who may see a record it is attached to, as decided by the check the record's module registers for
  its kind (`register_visibility`; uploads sit below those modules and import none of them). A photo
  attached to nothing, or only to a kind nobody registered, is its uploader's (and the house's) alone.
  Everyone else gets 404, whether or not the upload exists.
- Duplicates: the same bytes from the same uploader, with the same scope (an owner's still-unattached
  upload, or a staff member's in their community), return the existing record instead of storing a second
  copy: retries over a flaky phone connection cost nothing.
- Nothing half-written: the file is written first, the row flushed second; if the flush fails the file is
  deleted, and the route deletes it (`discard_file`) if the commit fails.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import struct
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable

from flask import current_app
from sqlalchemy import select

from .. import ratelimit
from ..accounts.models import Staff
from ..auth.services import Identity
from ..errors import AppError, Forbidden, NotFound, ValidationFailed
from ..accounts.queries import approved_house_ids
from ..extensions import db
from ..timeutil import utcnow
from .models import Upload, UploadAttachment
from .storage import get_storage

log = logging.getLogger(__name__)

IMAGE_ONLY = "只能上传图片（JPG、PNG、GIF、WebP、HEIC）"
NOT_YOURS = "图片不存在或不属于您"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    message = "上传内容太大"


# -- sniffing (pure) ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageType:
    content_type: str
    extension: str


JPEG = ImageType("image/jpeg", ".jpg")
PNG = ImageType("image/png", ".png")
GIF = ImageType("image/gif", ".gif")
WEBP = ImageType("image/webp", ".webp")
HEIC = ImageType("image/heic", ".heic")
HEIF = ImageType("image/heif", ".heif")

_HEIF_BRANDS = {b"heic": HEIC, b"heix": HEIC, b"mif1": HEIF}


def sniff(data: bytes) -> ImageType | None:
    """The image type from the magic bytes, or None (not one of the accepted images)."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp":  # ISO base media: iPhones send HEIC
        return _HEIF_BRANDS.get(data[8:12])
    return None


def dimensions(data: bytes, kind: ImageType) -> tuple[int, int] | None:
    """(width, height) when the header tells it cheaply (JPEG, PNG, GIF, WebP; not HEIC), else None.
    JPEG sizes are as stored, before any EXIF rotation."""
    try:
        if kind is PNG and data[12:16] == b"IHDR":
            size = struct.unpack(">II", data[16:24])
        elif kind is GIF:
            size = struct.unpack("<HH", data[6:10])
        elif kind is JPEG:
            size = _jpeg_size(data)
        elif kind is WEBP:
            size = _webp_size(data)
        else:
            size = None
    except (struct.error, IndexError):
        return None
    if not size or size[0] <= 0 or size[1] <= 0:
        return None
    return int(size[0]), int(size[1])


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # stand-alone markers
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan: no frame header seen
            return None
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = struct.unpack("<I", data[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


# -- storing ---------------------------------------------------------------------------------------------

def _storage():
    return get_storage(current_app._get_current_object())  # type: ignore[attr-defined]


def _uploader(identity: Identity) -> tuple[int | None, int | None, int | None]:
    """(owner_id, staff_id, community_id) a new upload of this caller gets."""
    staff = identity.staff if identity.staff is not None and identity.staff.active else None
    owner_id = identity.owner.id if identity.owner is not None else None
    if staff is None and owner_id is None:
        raise Forbidden("该员工账号已停用", code="staff_inactive")
    if staff is not None:
        return owner_id, staff.id, staff.community_id
    return owner_id, None, None


def _read_limited(stream: BinaryIO, limit: int) -> bytes:
    """At most limit bytes; PayloadTooLarge as soon as there is more (nothing of it is stored)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"图片不能超过 {current_app.config['MAX_UPLOAD_MB']} MB")
    return data


def store(identity: Identity, file) -> tuple[Upload, bool]:
    """Keep one uploaded image (a werkzeug FileStorage or a binary stream) for the caller.

    Returns (upload, created): created is False when an identical upload of the same caller was
    returned instead (see the module docstring). Rate-limited per caller with RATE_UPLOADS. The caller
    commits; if that fails it calls `discard_file` for a created upload."""
    cfg = current_app.config
    owner_id, staff_id, community_id = _uploader(identity)
    ratelimit.hit("uploads", f"staff-{staff_id}" if staff_id else f"owner-{owner_id}", cfg["RATE_UPLOADS"])

    data = _read_limited(getattr(file, "stream", file), cfg["MAX_UPLOAD_MB"] * 1024 * 1024)
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(fields={"file": [IMAGE_ONLY]})
    digest = hashlib.sha256(data).hexdigest()

    existing = db.session.scalar(select(Upload).where(
        Upload.sha256 == digest, Upload.size == len(data),
        _is(Upload.owner_id, owner_id), _is(Upload.staff_id, staff_id), _is(Upload.community_id, community_id),
    ).order_by(Upload.id).limit(1))
    if existing is not None:
        return existing, False

    now = utcnow()
    size = dimensions(data, kind)
    upload = Upload(
        key=f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}{kind.extension}", content_type=kind.content_type,
        size=len(data), sha256=digest, width=size[0] if size else None, height=size[1] if size else None,
        owner_id=owner_id, staff_id=staff_id, community_id=community_id, created_at=now,
    )
    storage = _storage()
    storage.save(upload.key, data, upload.content_type)
    try:
        db.session.add(upload)
        db.session.flush()
    except BaseException:
        storage.delete(upload.key)
        raise
    return upload, True


def _is(column, value):
    return column.is_(None) if value is None else column == value


def discard_file(upload: Upload) -> None:
    """Delete the stored bytes of an upload whose row was not committed."""
    try:
        _storage().delete(upload.key)
    except Exception:  # noqa: BLE001 - the original failure matters more; an orphan file is harmless
        log.exception("could not delete upload file %s", upload.key)


# -- reading -------------------------------------------------------------------------------------------

# kind of record -> (staff, record id) -> may this member of staff see that record? Registered by the module
# that owns the record, when the app starts (server/app.py): work orders register "work_order".
_visibility: dict[str, Callable[[Staff, int], bool]] = {}


def register_visibility(kind: str, check: Callable[[Staff, int], bool]) -> None:
    _visibility[kind] = check


def may_read(identity: Identity, upload: Upload) -> bool:
    """The uploader; the people of the house of its record; active staff who may see a record it is attached
    to (staff of another community never)."""
    if identity.owner is not None and upload.owner_id == identity.owner.id:
        return True
    if identity.owner is not None and upload.house_id is not None \
            and upload.house_id in approved_house_ids(identity.owner):
        return True
    staff = identity.staff
    if staff is None or not staff.active:
        return False
    if upload.staff_id == staff.id:
        return True
    if upload.community_id is None or upload.community_id != staff.community_id:
        return False
    for kind, record_id in db.session.execute(select(UploadAttachment.kind, UploadAttachment.record_id)
                                              .where(UploadAttachment.upload_id == upload.id)):
        check = _visibility.get(kind)
        if check is None:
            log.warning("upload %s: no visibility check registered for %r records", upload.id, kind)
        elif check(staff, record_id):
            return True
    return False


def open_for_read(identity: Identity, upload_id: int) -> tuple[Upload, BinaryIO]:
    """The upload and a stream of its bytes; 404 when it does not exist or the caller may not read it."""
    upload = db.session.get(Upload, upload_id)
    if upload is None or not may_read(identity, upload):
        raise NotFound("图片不存在")
    try:
        stream = _storage().open(upload.key)
    except FileNotFoundError:
        log.error("upload %s: row without a stored file (%s)", upload.id, upload.key)
        raise NotFound("图片不存在") from None
    return upload, stream


# -- the hook for other modules ------------------------------------------------------------------------

def attach(upload_ids: Iterable[int], *, record: tuple[str, int], community_id: int, owner_id: int | None = None,
           staff_id: int | None = None, house_id: int | None = None) -> list[Upload]:
    """Hand uploads to a record of `community_id` (a repair report, complaint, completed job): `record` is
    its (kind, id), e.g. ("work_order", 12); staff who may see it may read the photos (see `may_read`).

    Every id must exist and have been uploaded by `owner_id` or `staff_id` (whichever is given), and must
    not already belong to another community; otherwise ValidationFailed on field "photos" and nothing
    changes. Owner uploads get community_id. A photo may be attached to several records (the same picture
    of one leak on two reports). Returns the uploads in the order given (duplicates once). The caller
    commits."""
    if owner_id is None and staff_id is None:
        raise ValueError("attach() needs owner_id or staff_id")
    ids = list(dict.fromkeys(upload_ids))
    if not ids:
        return []
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValidationFailed(fields={"photos": [NOT_YOURS]})
    rows = {u.id: u for u in db.session.scalars(select(Upload).where(Upload.id.in_(ids)))}
    uploads = []
    for upload_id in ids:
        upload = rows.get(upload_id)
        mine = upload is not None and (
            (owner_id is not None and upload.owner_id == owner_id)
            or (staff_id is not None and upload.staff_id == staff_id))
        if not mine or upload.community_id not in (None, community_id):
            raise ValidationFailed(fields={"photos": [NOT_YOURS]})
        uploads.append(upload)
    kind, record_id = record
    linked = set(db.session.scalars(select(UploadAttachment.upload_id).where(
        UploadAttachment.upload_id.in_(ids), UploadAttachment.kind == kind, UploadAttachment.record_id == record_id)))
    for upload in uploads:
        upload.community_id = community_id
        upload.house_id = house_id or upload.house_id
        if upload.id not in linked:
            db.session.add(UploadAttachment(upload_id=upload.id, kind=kind, record_id=record_id))
    return uploads
