"""Request and response schemas of photo uploads."""
from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest.fields import Upload as UploadField

from ..schemas import Int


class UploadIn(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # other multipart parts are ignored, not an error

    file = UploadField(required=True, metadata={
        "description": "图片文件（JPG、PNG、GIF、WebP、HEIC），按文件内容识别格式，大小不超过 MAX_UPLOAD_MB"})


class UploadOut(ma.Schema):
    id = Int(metadata={"description": "图片编号：提交报修、投诉或完工时放入 photos"})
    content_type = ma.fields.String(metadata={"description": "按文件内容识别的类型，如 image/jpeg"})
    size = Int(metadata={"description": "字节数"})
    url = ma.fields.Function(lambda u: url_for("uploads.get_upload", upload_id=u.id),
                             metadata={"description": "读取地址（需登录）"})
