"""Office views of work orders: printable service notice, callback queue, cash handover, monthly report."""
from __future__ import annotations

BLUEPRINTS: tuple = ()
