"""Pure work-order rules: kinds, channels, repair categories and their departments, pricing, numbers,
and the choice of worker. No Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..money import round_fen

KINDS = {"repair": "报修", "service": "有偿服务", "complaint": "投诉"}
NUMBER_PREFIX = {"repair": "BX", "service": "FW", "complaint": "TS"}
CHANNELS = {"miniprogram": "小程序", "phone": "电话", "visit": "来访", "written": "书面"}
CALLBACK_RESULTS = {"satisfied": "满意", "unsatisfied": "不满意"}
CLOCKS = {
    "confirm": "预约确认（10 分钟）", "complete": "当日完工", "callback": "完工回访", "accept": "接单",
    "handler": "投诉 10 分钟内受理", "onsite": "紧急事件 5 分钟到场", "reply": "投诉答复",
}


@dataclass(frozen=True)
class RepairCategory:
    label: str
    department: str
    skill: str | None
    urgent_allowed: bool = False


REPAIR_CATEGORIES = {
    "water": RepairCategory("给排水", "engineering", "water", urgent_allowed=True),
    "electricity": RepairCategory("电路电器", "engineering", "electricity", urgent_allowed=True),
    "doors_windows": RepairCategory("门窗锁具", "engineering", "doors_windows"),
    "public_facility": RepairCategory("公共设施", "engineering", None, urgent_allowed=True),
    "public_cleaning": RepairCategory("公共保洁", "cleaning", "cleaning"),
    "greening": RepairCategory("绿化", "cleaning", "greening"),
    "other": RepairCategory("其他", "engineering", None),
}

@dataclass(frozen=True)
class ComplaintCategory:
    label: str
    emergency: bool = False
    manager_handles: bool = False  # the manager decides (service attitude) or must be on it (emergencies)


COMPLAINT_CATEGORIES = {
    "emergency": ComplaintCategory("紧急事件（火情、受伤、水浸、燃气等）", emergency=True, manager_handles=True),
    "environment": ComplaintCategory("环境卫生"),
    "noise": ComplaintCategory("噪音"),
    "facilities": ComplaintCategory("设施设备"),
    "parking": ComplaintCategory("停车"),
    "neighbours": ComplaintCategory("邻里纠纷"),
    "service_attitude": ComplaintCategory("服务态度", manager_handles=True),
    "other": ComplaintCategory("其他"),
}


RATING_REWORK_AT_OR_BELOW = 2  # a rating this low opens free rework and flags a callback


def quote(price_fen: int, quantity: int) -> int:
    return price_fen * quantity


def material_amount(unit_price_fen: int, quantity: Decimal) -> int:
    """Fen, rounded half up (2.5 m of pipe at 3.35 yuan/m = 8.375 yuan -> 838 fen)."""
    return round_fen(Decimal(unit_price_fen) * quantity)


def final_amount(quote_fen: int | None, materials_fen: int) -> int:
    return (quote_fen or 0) + materials_fen


def format_number(kind: str, day: date, seq: int) -> str:
    return f"{NUMBER_PREFIX[kind]}{day:%Y%m%d}-{seq:04d}"


@dataclass(frozen=True)
class Candidate:
    staff_id: int
    skills: tuple[str, ...]
    open_orders: int


def pick_worker(candidates: list[Candidate], skill: str | None, exclude: set[int]) -> int | None:
    """The on-duty worker with the skill and the fewest open orders (ties: lowest id, i.e. longest
    serving), skipping those who already declined or let this order time out."""
    eligible = [c for c in candidates if c.staff_id not in exclude and (skill is None or skill in c.skills)]
    if not eligible:
        return None
    return min(eligible, key=lambda c: (c.open_orders, c.staff_id)).staff_id
