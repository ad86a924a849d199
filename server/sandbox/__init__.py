"""Local stand-in of WeChat's servers; see ``server.sandbox.app`` for the conventions."""

from .app import create_sandbox_app

__all__ = ["create_sandbox_app"]
