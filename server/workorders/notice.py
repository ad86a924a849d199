"""The printable paid-service notice (有偿服务通知单): one A4 page, three identical stubs -- finance (财务联),
the department doing the work (部门联：工程部 / 保洁部) and the archive (存档联) -- cut along dashed lines.

Rendered from templates/notice.html through server.rendering (autoescaped, independent of the Flask app's
template folder). Amounts are shown in yuan with 2 decimals, times in the
community's time zone.
"""
from __future__ import annotations

from decimal import Decimal


from ..accounts import rules as account_rules
from ..accounts.models import Staff
from ..errors import Conflict
from ..money import yuan
from .. import rendering
from ..timeutil import local_text, utcnow
from .models import WorkOrder
from .access import staff_order

MAX_MATERIAL_LINES = 4  # a stub is a third of a page: more lines are folded into one "其余 N 项" line



def quantity_text(value) -> str:
    """Decimal("2.50") -> "2.5", Decimal("1.00") -> "1"."""
    return f"{Decimal(str(value)).normalize():f}"




def _materials(order: WorkOrder) -> list[dict]:
    lines = [{"name": m.name, "quantity": f"{quantity_text(m.quantity)} {m.unit}",
              "unit_price": yuan(m.unit_price_fen), "amount": yuan(m.amount_fen)} for m in order.materials]
    if len(lines) > MAX_MATERIAL_LINES:
        rest = order.materials[MAX_MATERIAL_LINES - 1:]
        lines = lines[:MAX_MATERIAL_LINES - 1] + [{
            "name": f"其余 {len(rest)} 项材料", "quantity": "", "unit_price": "",
            "amount": yuan(sum(m.amount_fen for m in rest))}]
    return lines


def context(order: WorkOrder) -> dict:
    zone = order.community.timezone
    item = order.service_item
    quantity = order.quantity or 1
    if order.quote_fen is not None:
        unit_price_fen = order.quote_fen // quantity  # the price when booked (the catalog may change later)
    else:
        unit_price_fen = item.price_fen if item else None
    department = account_rules.DEPARTMENTS.get(order.department, order.department)
    if order.appointment_at:
        appointment = local_text(order.appointment_at, zone)
    elif order.preferred_time:
        appointment = local_text(order.preferred_time, zone) + "（业主期望，待确认）"
    else:
        appointment = "待预约"
    description = (order.description or "").strip()
    return {
        "copies": ["财务联", f"部门联（{department}）", "存档联"],
        "number": order.number,
        "community": order.community.name,
        "house": order.house.label,
        "contact_name": order.contact_name or "",
        "contact_phone": order.contact_phone or "",
        "item": item.name if item else order.title,
        "department": department,
        "quantity": quantity,
        "unit": item.unit if item else "",
        "unit_price": yuan(unit_price_fen),
        "quote": yuan(order.quote_fen),
        "materials": _materials(order),
        "materials_total": yuan(order.materials_fen or 0),
        "final": yuan(order.final_fen) if order.final_fen is not None else None,
        "appointment": appointment,
        "worker": order.assignee.name if order.assignee else "待派工",
        "received_by": order.received_by.name if order.received_by else "",
        "created": local_text(order.created_at, zone),
        "description": description[:60] + ("…" if len(description) > 60 else ""),
        "printed": local_text(utcnow(), zone),
    }


def render(order: WorkOrder) -> str:
    return rendering.render("server.workorders", "notice.html", **context(order))


def notice_html(staff: Staff, order_id: int) -> str:
    """The notice of a paid-service order the caller may see (404 otherwise; 409 for other kinds)."""
    order = staff_order(staff, order_id)
    if order.kind != "service":
        raise Conflict("只有有偿服务工单才有服务通知单", code="not_payable")
    return render(order)
