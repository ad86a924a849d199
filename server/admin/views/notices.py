"""通知: writing, previewing and publishing notices; their delivery and read figures."""
from __future__ import annotations
