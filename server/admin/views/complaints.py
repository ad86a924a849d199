"""投诉: complaint handling (replies, important, corrective action, emergencies, incident reports, follow-up)."""
from __future__ import annotations
