"""工单: the list with filters, paging, sorting and xlsx export; an order's detail with its actions (assign,
cancel, callback, on-site payment and its receipt, the printable service notice), and the photos it shows.

Thin: the filters are the JSON API's (StaffOrderArgs), the actions call the services the JSON routes call,
what may be pressed comes from workorders.actions."""
from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from flask import current_app, g, redirect, render_template, request, send_file, url_for

from ...accounts import rules as account_rules
from ...auth import access as auth_access
from ...auth.services import Identity
from ...errors import ValidationFailed
from ...extensions import db
from ...money import OFFLINE_METHODS, PAYMENT_METHODS, yuan
from ...reporting import xlsx_response
from ...timeutil import utcnow
from ...uploads import services as uploads
from ...workorders import (
    access, actions, clocks, dispatch, events, export, filters, lifecycle, notice, payments, rules, states,
)
from ...workorders.schemas import (
    CLOCK_FILTERS, EVENT_LABELS, ORDER_SORTS, AssignIn, CallbackIn, PaymentIn, ReasonIn, StaffOrderArgs,
    category_label,
)
from .. import forms, session
from ..blueprint import bp, page, printable

DONE_MESSAGES = {
    "assigned": "已派单，员工会收到微信推送。",
    "cancelled": "工单已取消，业主会收到通知。",
    "callback": "回访已记录。",
    "paid": "收款已登记。",
    "replied": "答复已发送给业主。",
    "important": "已标记为重要投诉，由经理亲自处理（2 个工作日内答复）。",
    "corrective": "整改措施已记录。",
    "arrived": "已登记到场。",
    "reported": "《突发事件处理表》已提交，等待经理审批。",
    "approved": "《突发事件处理表》已批准，可以结案。",
    "returned": "《突发事件处理表》已退回，请补充后重新提交。",
}


def list_context(data: dict | None) -> dict:
    """What the order lists (工单, 投诉) show besides the rows: labels, the soonest clock of each row."""
    now = utcnow()
    return {
        "data": data, "now": now, "soonest": lambda order: clocks.soonest(order, now),
        "kinds": rules.KINDS, "statuses": states.STATUSES, "departments": account_rules.DEPARTMENTS,
        "repair_categories": rules.REPAIR_CATEGORIES, "complaint_categories": rules.COMPLAINT_CATEGORIES,
        "clock_filters": CLOCK_FILTERS, "sorts": ORDER_SORTS, "clock_labels": rules.CLOCKS,
        "category_label": category_label, "args": forms.plain_args(request.args, "page"),
    }


def order_list(complaint: bool = False):
    """工单, or 投诉 (complaint: complaints only, open ones first unless the request sorts otherwise): the
    request's filters, one page of rows, or the filter form's messages (422)."""
    values = request.args.copy()
    fixed = {"kind": "complaint"} if complaint else {}
    if complaint:
        values.setdefault("sort", "open")
    for key, value in fixed.items():
        values[key] = value  # replaces what the request says
    page_context = {"complaint": complaint, "filters": values,
                    "export_fixed": dict(fixed, sort=values.get("sort"))}
    try:
        args = forms.query_args(StaffOrderArgs(), values)
    except ValidationFailed as exc:
        return render_template("admin/orders.html", error=exc, **page_context, **list_context(None)), 422
    data = filters.paged(access.staff_orders_query(g.staff, args), args)
    return render_template("admin/orders.html", error=None, export_cap=export.EXPORT_CAP,
                           too_many=export.too_many_message(data["total"]), **page_context,
                           **list_context(data))


@bp.get("/orders")
@page()
def orders():
    return order_list()


@bp.get("/orders/export")
@page()
def orders_export():
    args = forms.query_args(StaffOrderArgs(), request.args)
    result = export.export(g.staff, args)
    return xlsx_response(result.data, *result.filenames)


# -- one order -----------------------------------------------------------------------------------------------

def detail(order_id: int, *, error: ValidationFailed | None = None, failed: str | None = None,
           status: int = 200):
    """The order's page; after a refused form, with its messages under the form named `failed`."""
    order = access.staff_order(g.staff, order_id)
    allowed = actions.available(g.staff, order)
    paid = request.args.get("paid", type=int)
    # a complaint belongs to the 投诉 list (and menu entry) for those who may open it
    to_complaints = order.kind == "complaint" and any(
        auth_access.can(g.staff, p) for p in current_app.view_functions["admin.complaints"].permissions)
    list_endpoint = "admin.complaints" if to_complaints else "admin.orders"
    return render_template(
        "admin/order_detail.html", order=order, actions=allowed, list_endpoint=list_endpoint,
        nav_endpoint=list_endpoint,
        workers=dispatch.eligible_workers(g.staff, order) if "assign" in allowed else [],
        clock_states=clocks.states_of(order, utcnow()), callbacks=lifecycle.callbacks_of(order),
        events=order.events, event_labels=EVENT_LABELS, statuses=states.STATUSES, kinds=rules.KINDS,
        channels=rules.CHANNELS, clock_labels=rules.CLOCKS, departments=account_rules.DEPARTMENTS,
        category_label=category_label(order), callback_results=rules.CALLBACK_RESULTS,
        methods={m: PAYMENT_METHODS[m] for m in OFFLINE_METHODS}, payment_methods=PAYMENT_METHODS,
        roles=account_rules.ROLES, due_fen=(order.final_fen or 0) - order.paid_fen,
        due_yuan=yuan(max((order.final_fen or 0) - order.paid_fen, 0)),
        paid_payment=next((p for p in order.payments if p.id == paid), None),
        done=DONE_MESSAGES.get(request.args.get("done", "")), error=error, failed=failed,
        form=request.form if failed else {},
    ), status


@bp.get("/orders/<int:order_id>")
@page()
def order_detail(order_id: int):
    return detail(order_id)


def act(order_id: int, name: str, schema: ma.Schema | None, do: Callable[[dict], object],
        done: str | Callable, form=None):
    """Run one action of the order's page: parse the form with the API's schema, call the service, commit,
    back to the page with a message; a refused form comes back with its messages (422)."""
    try:
        data = forms.load(schema, form if form is not None else request.form) if schema is not None else {}
        result = do(data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return detail(order_id, error=exc, failed=name, status=422)
    extra = done(result) if callable(done) else {"done": done}
    return redirect(url_for("admin.order_detail", order_id=order_id, **extra))


def _order(order_id: int):
    return access.staff_order(g.staff, order_id)


@bp.post("/orders/<int:order_id>/assign")
@page("assign")
def order_assign(order_id: int):
    return act(order_id, "assign", AssignIn(), lambda d: dispatch.assign(
        g.staff, _order(order_id), d["assignee_id"], d["appointment_at"]), "assigned")


@bp.post("/orders/<int:order_id>/cancel")
@page("desk")
def order_cancel(order_id: int):
    return act(order_id, "cancel", ReasonIn(), lambda d: lifecycle.cancel(
        _order(order_id), events.Actor.of_staff(g.staff), d["reason"]), "cancelled")


@bp.post("/orders/<int:order_id>/callback")
@page("desk")
def order_callback(order_id: int):
    return act(order_id, "callback", CallbackIn(), lambda d: lifecycle.record_callback(
        g.staff, _order(order_id), d["result"], d["note"]), "callback")


@bp.post("/orders/<int:order_id>/payments")
@page()
def order_payment(order_id: int):
    try:
        form = forms.with_fen(request.form, "amount")
    except ValidationFailed as exc:
        return detail(order_id, error=exc, failed="payment", status=422)
    return act(order_id, "payment", PaymentIn(),
               lambda d: payments.record_on_site(g.staff, _order(order_id), d),
               lambda payment: {"done": "paid", "paid": payment.id}, form=form)


@bp.get("/orders/<int:order_id>/payments/<int:payment_id>/receipt")
@page()
def order_receipt(order_id: int, payment_id: int):
    return printable(payments.receipt_html(_order(order_id), payment_id))


@bp.get("/orders/<int:order_id>/notice")
@page()
def order_notice(order_id: int):
    return printable(notice.notice_html(g.staff, order_id))


@bp.get("/uploads/<int:upload_id>")
@page()
def upload(upload_id: int):
    """A photo of an order, to a signed-in member of staff the upload rules let read it (404 otherwise)."""
    identity = Identity(session=session.current().row, owner=None, staff=g.staff)
    found, stream = uploads.open_for_read(identity, upload_id)
    response = send_file(stream, mimetype=found.content_type, etag=found.sha256, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

