"""The service center's admin page (/admin/): server-rendered pages with htmx, for receptionists,
cashiers, managers, supervisors and finance. See blueprint.py for what every request goes through."""
from __future__ import annotations

from urllib.parse import quote

from flask import request

from .. import money
from . import views  # noqa: F401 - registers the views on bp
from .blueprint import _context, _localtime, bp, render_error


def init_admin(app) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: _context() if request.blueprint == "admin" else {})
    app.jinja_env.filters.setdefault("yuan", money.yuan)
    app.jinja_env.filters.setdefault("capital", money.capital)
    app.jinja_env.filters.setdefault("localtime", _localtime)
    app.jinja_env.filters.setdefault("urlquote", lambda v: quote(str(v), safe=""))
    app.extensions.setdefault("html_errors", {})["/admin"] = render_error
