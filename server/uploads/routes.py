"""Photo upload and download. Routes parse, call one service, commit, dump."""
from __future__ import annotations

from flask import send_file

from ..api import BEARER, blueprint
from ..auth.services import current_identity
from ..extensions import db
from . import services
from .schemas import UploadIn, UploadOut
from .storage import get_storage

blp = blueprint("uploads", "/api/v1/uploads", "图片上传：报修、投诉照片与完工照片")
# An unknown WUYE_UPLOAD_BACKEND stops the app at start, not at the first upload.
blp.record_once(lambda state: get_storage(state.app))

CACHE_CONTROL = "private, max-age=86400"


@blp.post("")
@blp.arguments(UploadIn, location="files")
@blp.response(201, UploadOut)
@blp.doc(security=BEARER)
def create_upload(files):
    """上传图片（业主或员工）：multipart/form-data 字段 file；同一人重复上传同一张图片返回原记录"""
    upload, created = services.store(current_identity(), files["file"])
    try:
        db.session.commit()
    except Exception:
        if created:
            services.discard_file(upload)  # no row, so no file either
        raise
    return upload


@blp.get("/<int:upload_id>")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="image/*",
              description="图片内容，Content-Type 为识别出的图片类型")
@blp.doc(security=BEARER)
def get_upload(upload_id):
    """读取图片：上传者本人、所属工单房屋的住户，以及能查看该工单的员工（派单师傅、本部门主管、服务中心）"""
    upload, stream = services.open_for_read(current_identity(), upload_id)
    response = send_file(stream, mimetype=upload.content_type, etag=upload.sha256, conditional=True)
    if response.status_code == 200 and response.content_length is None:
        response.content_length = upload.size
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
