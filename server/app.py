"""App factory: config, extensions, blueprints, error handlers, CLI. Nothing happens at import time."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .config import load_config
from .extensions import db, init_redis, migrate
from .proxies import TrustedProxies


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance"))
    app.config.update(load_config(overrides=overrides))
    app.config.update(
        API_TITLE="物业服务中心 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served from the swagger-ui-bundle package: the docs work without reaching a CDN.
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={"components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/login 返回的 token"},
        }}},
    )
    # X-Forwarded-* believed only from the proxies in TRUSTED_PROXIES (server/proxies.py).
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config)  # type: ignore[method-assign]
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.ensure_ascii = False  # Chinese stays readable in responses (and smaller)

    from .logs import configure_logging, init_request_logging

    configure_logging(app.config["LOG_LEVEL"])
    init_request_logging(app)

    _init_database(app)
    init_redis(app)

    from .input_guard import init_input_guard

    init_input_guard(app)  # before any route: <int:...> is a bounded id

    from .outbox import init_outbox

    init_outbox()
    _connect_domains()
    _register_api(app)

    from .html_headers import init_html_headers

    init_html_headers(app)  # CSP and anti-framing for HTML outside the admin page (which sets its own)

    from .admin import init_admin

    init_admin(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _init_database(app: Flask) -> None:
    # Import every model module so metadata (and Alembic autogenerate) sees all tables.
    from .accounts import models as _accounts  # noqa: F401
    from .auth import models as _auth  # noqa: F401
    from . import outbox as _outbox  # noqa: F401
    from .wechat import models as _wechat  # noqa: F401
    from .uploads import models as _uploads  # noqa: F401
    from .workorders import models as _workorders  # noqa: F401
    from .billing import models as _billing  # noqa: F401
    from .notices import models as _notices  # noqa: F401
    from .feedback import models as _feedback  # noqa: F401
    from .desk import models as _desk  # noqa: F401

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # hide_parameters: SQLAlchemy's errors would quote the bound values (names, phone numbers) into logs.
    if uri.startswith("sqlite"):
        # Several processes (web, worker, cron) share the embedded database: wait for locks, use WAL.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}, "hide_parameters": True})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "hide_parameters": True})
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                     render_as_batch=True, compare_type=True)
    if uri.startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _connect_domains() -> None:
    """Checks a lower domain needs from a higher one, which it may not import (tests/test_dependencies.py)."""
    from .billing.services import order_in_online_payment
    from .uploads.services import register_visibility
    from .workorders.access import PHOTO_RECORD, staff_sees_order
    from .workorders.payments import register_online_payment_check

    register_online_payment_check(order_in_online_payment)
    register_visibility(PHOTO_RECORD, staff_sees_order)  # an order's photos: for those who see the order


def _register_api(app: Flask) -> None:
    from . import errors
    from .accounts.routes import me, staff_blp
    from .api import Api
    from .auth.routes import blp as auth_blp
    from .ops import health_blp
    from .uploads.routes import blp as uploads_blp
    from .wechat.routes import audit, official, subs
    from .workorders.office_routes import BLUEPRINTS as office_blueprints
    from .workorders.routes import BLUEPRINTS as workorder_blueprints
    from .billing.routes import BLUEPRINTS as billing_blueprints
    from .billing.report_routes import BLUEPRINTS as billing_report_blueprints
    from .billing.staff_routes import BLUEPRINTS as billing_staff_blueprints
    from .billing.handover_routes import BLUEPRINTS as handover_blueprints
    from .notices.routes import BLUEPRINTS as notice_blueprints
    from .feedback.routes import BLUEPRINTS as feedback_blueprints
    from .desk.routes import BLUEPRINTS as desk_blueprints

    import swagger_ui_bundle
    from flask import send_from_directory

    @app.get("/api/v1/docs/assets/<path:filename>")
    def swagger_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    from .auth.guard import init_guard

    init_guard(app)
    api = Api(app)
    for blp in (health_blp, auth_blp, me, subs, staff_blp, audit, official, uploads_blp, *workorder_blueprints,
                *office_blueprints, *billing_blueprints, *billing_report_blueprints, *billing_staff_blueprints,
                *handover_blueprints, *notice_blueprints, *feedback_blueprints, *desk_blueprints):
        api.register_blueprint(blp)
    errors.register_error_handlers(app)
    app.extensions["api"] = api
