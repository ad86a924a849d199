"""The admin page's blueprint and what every admin request goes through: sign-in, CSRF, permissions for
what a page shows, security headers, and errors shown as pages (the API's envelope, rendered).

Views are thin: parse the form with the JSON API's schemas (forms.py), call the same service, render. What
a member of staff may see and press comes from the one permissions table through `server/auth/access.py`.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import re

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for

from ..accounts import rules as account_rules
from ..auth import access
from ..timeutil import to_local
from . import session

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
               static_url_path="/static")

# No inline script or style anywhere: htmx is configured from a <meta> tag, behaviour lives in admin.js.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
OPEN_ENDPOINTS = {"admin.login", "admin.static"}


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


@bp.before_request
def _signed_in():
    if request.endpoint in OPEN_ENDPOINTS:
        if request.method == "POST" and not session.csrf_ok(None):
            return _csrf_refused()
        return None
    current = session.current()
    if current is None:
        target = url_for("admin.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if is_htmx():
            return Response(status=401, headers={"HX-Redirect": target})
        return redirect(target)
    g.staff = current.staff
    if request.method not in ("GET", "HEAD", "OPTIONS") and not session.csrf_ok(current):
        return _csrf_refused()
    return None


def _csrf_refused():
    return render_error(400, "csrf_failed", "页面已过期或来源不明，请刷新页面后重试", {}, {})


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)  # printable documents bring their own
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def page(permission: str | None = None, *also: str):
    """A view for signed-in staff holding `permission` (or any of `also`); others get the 403 page."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if permission:
                access.require_any(g.staff, permission, *also)
            return view(*args, **kwargs)

        wrapper.permissions = (permission, *also) if permission else ()  # type: ignore[attr-defined]
        return wrapper

    return decorate


_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_INLINE_HANDLER = re.compile(r'\son[a-z]+="([^"]*)"')


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def printable(document: str) -> Response:
    """A stand-alone printable document (service notice, receipt) rendered by a domain module with its own
    inline <style> and print button: served with a policy of its own that allows exactly those inline
    pieces (by hash) and nothing else -- no other script, no forms, no framing."""
    styles = " ".join(_sha256(m) for m in _INLINE_STYLE.findall(document)) or "'none'"
    handlers = [_sha256(html.unescape(m)) for m in _INLINE_HANDLER.findall(document)]  # attribute values
    scripts = ("'unsafe-hashes' " + " ".join(handlers)) if handlers else "'none'"
    response = Response(document, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {styles}; script-src {scripts}; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return response


def render_error(status: int, code: str, message: str, fields: dict, headers: dict) -> Response:
    """Every failure under /admin/ as people read it: a page, or for htmx a message in the page's flash area."""
    if is_htmx():
        body = render_template("admin/_flash.html", kind="error", message=message, fields=fields)
        response = Response(body, status=status, headers=headers)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    template = "admin/error.html" if g.get("staff") else "admin/error_plain.html"
    return Response(render_template(template, status=status, code=code, message=message, fields=fields),
                    status=status, headers=headers)


def _localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return to_local(value, current_app.config["TIMEZONE"]).strftime(fmt)


# The menu: (label, endpoint, permissions any of which shows it). Entries whose page does not exist yet
# are left out; headings group them.
NAV = [
    ("工作台", "admin.board", ()),
    ("—日常", None, ()),
    ("工单", "admin.orders", ()),
    ("来电来访登记", "admin.intake", ("desk",)),
    ("投诉", "admin.complaints", ("desk", "manage_complaints")),
    ("回访", "admin.callbacks", ("desk",)),
    ("满意度调查", "admin.surveys", ("surveys",)),
    ("常见问题", "admin.problems", ("common_problems",)),
    ("通知", "admin.notices", ("publish_notices",)),
    ("绑定审核", "admin.bindings", ("review_bindings",)),
    ("—收费", None, ()),
    ("收费", "admin.fees", ("collect_fees", "view_bills")),
    ("欠费", "admin.arrears", ("view_bills",)),
    ("抄表与账单", "admin.billing", ("manage_fees",)),
    ("对账", "admin.reconciliation", ("reports",)),
    ("现金交接", "admin.handover", ("view_takings",)),
    ("报表", "admin.reports", ("reports", "complaint_report")),
    ("—管理", None, ()),
    ("房屋与住户", "admin.houses", ("find_houses",)),
    ("员工", "admin.staff", ("manage_staff",)),
    ("服务目录", "admin.catalog", ("manage_catalog",)),
    ("营业时间与节假日", "admin.calendar", ("manage_calendar",)),
]


def nav_items() -> list[dict]:
    staff, out = g.get("staff"), []
    for label, endpoint, permissions in NAV:
        if endpoint is None:
            out.append({"heading": label.lstrip("—")})
        elif endpoint in current_app.view_functions and (
                not permissions or any(access.can(staff, p) for p in permissions)):
            out.append({"label": label, "endpoint": endpoint,  # a list and its detail page (orders: order_detail)
                        "active": {endpoint, endpoint + "_detail", endpoint.removesuffix("s") + "_detail"}})
    # a heading with nothing under it is dropped
    return [item for i, item in enumerate(out)
            if not item.get("heading") or (i + 1 < len(out) and not out[i + 1].get("heading"))]


def url_if(endpoint: str, **values) -> str:
    """The page's URL, or "#" while that page does not exist (links on the board to later pages)."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else "#"


def _context() -> dict:
    staff = g.get("staff")
    current = session.current() if staff else None
    return {
        "staff": staff,
        "can": (lambda permission, record=None: access.can(staff, permission, record)),
        "csrf_token": current.csrf_token if current else session.login_csrf(),
        "role_label": account_rules.ROLES, "department_label": account_rules.DEPARTMENTS,
        "nav_items": nav_items, "url_if": url_if,
    }
