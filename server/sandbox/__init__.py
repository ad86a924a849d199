"""Local stand-in of WeChat's servers; see ``server.sandbox.app`` for the conventions."""

from __future__ import annotations

from typing import Any

__all__ = ["create_sandbox_app"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `server.sandbox.pay_defaults` can be imported without Flask or the app.
    if name == "create_sandbox_app":
        from .app import create_sandbox_app

        return create_sandbox_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
