"""Which clocks of a work order are still running: one definition (`SPECS`), read as SQL by the escalation
job (missed ones), the desk's board and the order lists' filters (missed, due soon, soonest first), and in
Python by an order's page (each clock met, running or missed). The deadlines themselves are computed by
sla.py and stored on the order; a clock stops running when the moment that meets it is recorded."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, case, exists, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import GenericFunction

from ..db_types import UTCDateTime
from ..extensions import db
from . import rules, states
from .models import SlaBreach, WorkOrder

DONE = states.DONE
SOON = timedelta(minutes=30)  # "due soon": the board counts these down, the order list's clock=soon


@dataclass(frozen=True)
class Spec:
    """A clock runs for orders of `kinds` (None: every kind) in `statuses`, while the `unmet` moments are
    still empty (and, for `emergency` clocks, only for emergencies); `met` is the moment that meets it."""
    due: str
    met: str
    kinds: frozenset[str] | None
    statuses: frozenset[str]
    unmet: tuple[str, ...] = ()
    emergency: bool = False


WAITING = frozenset({"submitted", "dispatched"})
SPECS: dict[str, Spec] = {
    "confirm": Spec("confirm_due_at", "appointment_confirmed_at", frozenset({"service"}), WAITING,
                    unmet=("appointment_confirmed_at",)),
    "complete": Spec("complete_due_at", "completed_at", frozenset({"repair"}), states.OPEN),
    "callback": Spec("callback_due_at", "callback_at", None, DONE, unmet=("callback_at",)),
    "handler": Spec("handler_due_at", "accepted_at", frozenset({"complaint"}), WAITING),
    "onsite": Spec("onsite_due_at", "arrived_at", frozenset({"complaint"}),
                   frozenset(states.STATUSES) - {"cancelled"}, unmet=("arrived_at",), emergency=True),
    "reply": Spec("reply_due_at", "replied_at", frozenset({"complaint"}), states.OPEN, unmet=("replied_at",)),
}


def _condition(spec: Spec) -> ColumnElement:
    parts = []
    if spec.kinds is not None:
        parts.append(WorkOrder.kind.in_(sorted(spec.kinds)))
    if spec.emergency:
        parts.append(WorkOrder.emergency.is_(True))
    parts += [getattr(WorkOrder, column).is_(None) for column in spec.unmet]
    parts.append(WorkOrder.status.in_(sorted(spec.statuses)))
    return and_(*parts)


def runs(spec: Spec, order: WorkOrder) -> bool:
    """The same condition as `_condition`, on a loaded order."""
    return ((spec.kinds is None or order.kind in spec.kinds) and (not spec.emergency or bool(order.emergency))
            and all(getattr(order, column) is None for column in spec.unmet) and order.status in spec.statuses
            and getattr(order, spec.due) is not None)


def running() -> dict[str, tuple]:
    """clock -> (the due column, the condition under which the clock still runs)."""
    return {clock: (getattr(WorkOrder, spec.due), _condition(spec)) for clock, spec in SPECS.items()}


def due_before(moment: datetime, *where: ColumnElement, limit: int | None = None) -> list[tuple[WorkOrder, str, datetime]]:
    """Every (order, clock, due) still running whose deadline is before `moment`, soonest first."""
    out: list[tuple[WorkOrder, str, datetime]] = []
    for clock, (due, condition) in running().items():
        stmt = select(WorkOrder).where(condition, due < moment, *where).order_by(due)
        if limit:
            stmt = stmt.limit(limit)
        out += [(order, clock, getattr(order, due.key)) for order in db.session.scalars(stmt)]
    out.sort(key=lambda item: item[2])
    return out[:limit] if limit else out


# -- as filters of a list of orders ------------------------------------------------------------------------

def missed(now: datetime) -> ColumnElement:
    """At least one clock still running past its deadline (what the board counts as 时限已超)."""
    return or_(*(and_(condition, due < now) for due, condition in running().values()))


def due_between(start: datetime, end: datetime) -> ColumnElement:
    """At least one running clock due in [start, end) (the board's 30 分钟内到期: start = now)."""
    return or_(*(and_(condition, due >= start, due < end) for due, condition in running().values()))


def any_running() -> ColumnElement:
    """At least one clock with a deadline still runs (`runs` on a loaded order)."""
    return or_(*(and_(condition, due.is_not(None)) for due, condition in running().values()))


def breached() -> ColumnElement:
    """A missed deadline was recorded for the order at some time (SlaBreach rows, any clock or round)."""
    return exists().where(SlaBreach.order_id == WorkOrder.id)


class least(GenericFunction):
    """LEAST(...) in PostgreSQL; SQLite spells the scalar minimum MIN(...)."""
    name = "least"
    inherit_cache = True


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    return f"min({compiler.process(element.clause_expr.element, **kw)})"


NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)


def next_due() -> ColumnElement:
    """The soonest deadline among the order's running clocks (NEVER when none runs): for sorting."""
    never = literal(NEVER, UTCDateTime())
    return least(*(case((condition, due), else_=never) for due, condition in running().values()),
                 type_=UTCDateTime())


# -- one order, in Python ----------------------------------------------------------------------------------

STATE_LABELS = {"running": "计时中", "missed": "已超时", "met": "按时完成", "late": "超时完成", "stopped": "已停止"}


@dataclass(frozen=True)
class ClockState:
    clock: str
    due: datetime
    met_at: datetime | None
    state: str  # running | missed | met | late | stopped
    breached: bool  # a missed deadline was recorded for this clock in the current round

    @property
    def label(self) -> str:
        return rules.CLOCKS[self.clock]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def states_of(order: WorkOrder, now: datetime) -> list[ClockState]:
    """Every clock the order has a deadline for: met (on time or late), running, missed or stopped."""
    recorded = {b.clock for b in order.breaches if b.round == order.rework_count}
    out = []
    for clock, spec in SPECS.items():
        due = getattr(order, spec.due)
        if due is None:
            continue
        met_at = getattr(order, spec.met)
        if runs(spec, order):
            state = "running" if due >= now else "missed"
        elif met_at is not None:
            state = "met" if met_at <= due and clock not in recorded else "late"
        else:
            state = "stopped"
        out.append(ClockState(clock, due, met_at if state in ("met", "late") else None, state, clock in recorded))
    out.sort(key=lambda s: s.due)
    return out


def soonest(order: WorkOrder, now: datetime) -> ClockState | None:
    """The running clock due first (missed ones first of all), or None."""
    live = [s for s in states_of(order, now) if s.state in ("running", "missed")]
    return live[0] if live else None
