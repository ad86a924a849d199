"""回访: the callback queue and recording a callback's outcome."""
from __future__ import annotations
