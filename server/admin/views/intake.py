"""来电来访登记: a phone call or a visit registered in under 30 seconds (repair, paid service, complaint, consultation)."""
from __future__ import annotations
