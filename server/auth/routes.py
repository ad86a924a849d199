from __future__ import annotations

from ..accounts.services import my_memberships
from ..api import BEARER, blueprint
from ..extensions import db
from . import services
from .schemas import LoginIn, LoginOut, PasswordChangeIn, StaffLoginIn, StaffLoginOut

blp = blueprint("auth", "/api/v1/auth", "登录与退出（小程序 code 登录、管理后台密码登录）")


@blp.post("/login")
@blp.arguments(LoginIn)
@blp.response(200, LoginOut)
def login(data):
    """小程序登录：wx.login 的 code 换取令牌"""
    token, session, owner, staff = services.login_with_code(data["code"])
    db.session.commit()
    return {"token": token, "expires_at": session.expires_at, "user": owner,
            "houses": my_memberships(owner), "staff": staff}


@blp.post("/staff-login")
@blp.arguments(StaffLoginIn)
@blp.response(200, StaffLoginOut)
def staff_login(data):
    """管理后台登录：员工手机号 + 密码"""
    token, session, staff = services.login_with_password(data["phone"], data["password"])
    db.session.commit()
    return {"token": token, "expires_at": session.expires_at, "staff": staff}


@blp.post("/password")
@blp.arguments(PasswordChangeIn)
@blp.response(204)
@blp.doc(security=BEARER)
def change_password(data):
    """员工修改本人密码：须输入当前密码；其他设备上的登录（含管理后台）随即失效"""
    identity = services.current_identity()
    staff = services.require_staff()
    services.change_password(staff, data["current_password"], data["new_password"], keep=identity.session)
    db.session.commit()


@blp.post("/logout")
@blp.response(204)
@blp.doc(security=BEARER)
def logout():
    """退出登录：令牌立即失效"""
    services.logout(services.current_identity())
    db.session.commit()
