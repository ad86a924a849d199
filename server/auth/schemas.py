from __future__ import annotations

import marshmallow as ma

from ..accounts.schemas import MembershipOut, OwnerOut, StaffOut
from ..schemas import LocalDateTime, Phone, Text


class LoginIn(ma.Schema):
    code = Text(128, required=True, min_length=1, metadata={"description": "wx.login() 返回的 code"})


class LoginOut(ma.Schema):
    token = ma.fields.String(metadata={"description": "Authorization: Bearer <token>"})
    expires_at = LocalDateTime()
    user = ma.fields.Nested(OwnerOut)
    houses = ma.fields.List(ma.fields.Nested(MembershipOut))
    staff = ma.fields.Nested(StaffOut, allow_none=True,
                             metadata={"description": "该微信是物业员工时返回（员工同用本小程序）"})


class StaffLoginIn(ma.Schema):
    phone = Phone(required=True)
    password = Text(128, required=True, min_length=1, load_only=True)


class StaffLoginOut(ma.Schema):
    token = ma.fields.String()
    expires_at = LocalDateTime()
    staff = ma.fields.Nested(StaffOut)


class PasswordChangeIn(ma.Schema):
    current_password = Text(128, required=True, min_length=1, load_only=True,
                            metadata={"description": "当前密码"})
    new_password = ma.fields.String(required=True, load_only=True,
                                    validate=ma.validate.Length(min=8, max=128, error="新密码长度应为 8 到 128 位"),
                                    metadata={"description": "新密码（8 位以上）"})
