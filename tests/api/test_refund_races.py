"""Refunds under real concurrency against PostgreSQL: every thread is its own request (its own app context,
session and connection), released together by a barrier. Whatever the interleaving, a payment is never
refunded more than it brought in, and one refund is approved once."""
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from server.accounts.models import Building, Community, House
from server.billing.models import Payment, Refund
from server.extensions import db

PAYMENTS = "/api/v1/staff/payments"


def house_id(app, building: str, unit: str, room: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(House.id).join(Building, Building.id == House.building_id)
            .join(Community, Community.id == House.community_id)
            .where(Community.code == "demo", Building.code == building, House.unit == unit, House.room == room))


def cash_payment(app, client, cashier, room: str = "101") -> dict:
    """A paid cash payment of a demo house's bills (refunds of desk payments finish when approved)."""
    hid = house_id(app, "1", "1", room)
    bills = client.get(f"/api/v1/staff/bills?house_id={hid}&status=unpaid&per_page=100", headers=cashier)
    ids = [b["id"] for b in bills.get_json()["items"]]
    assert ids, "demo houses have bills this month"
    res = client.post(PAYMENTS, headers=cashier, json={"bill_ids": ids, "method": "cash"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def request_refund(client, headers, payment_id: int, amount_fen: int):
    return client.post(f"{PAYMENTS}/{payment_id}/refunds", headers=headers,
                       json={"amount_fen": amount_fen, "reason": "多收退回"})


def at_once(app, calls) -> list:
    """Run each call (client -> response) in its own thread with its own test client, all released together;
    returns the responses in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = call(client)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(isinstance(r, BaseException) for r in results), results
    return results


def payment_row(app, payment_id: int) -> Payment:
    with app.app_context():
        row = db.session.get(Payment, payment_id)
        db.session.expunge(row)
        return row


def test_ten_parallel_approvals_of_one_refund_approve_it_once(app, client, demo, login):
    cashier, manager = login("demo-cashier"), login("demo-manager")
    payment = cash_payment(app, client, cashier)
    refund = request_refund(client, cashier, payment["id"], 10000).get_json()
    review = f"/api/v1/staff/refunds/{refund['id']}/review"
    responses = at_once(app, [lambda c: c.post(review, headers=manager, json={"approve": True})] * 10)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, statuses
    assert {r.get_json()["error"]["code"] for r in responses if r.status_code == 409} == {"not_requested"}
    row = payment_row(app, payment["id"])
    assert row.refunded_fen == 10000 and row.status == "partially_refunded"


@pytest.mark.parametrize("room", ["101", "102", "201"])
def test_two_refunds_of_one_payment_approved_at_once_never_over_refund(app, client, demo, login, room):
    cashier, manager = login("demo-cashier"), login("demo-manager")
    payment = cash_payment(app, client, cashier, room)
    half = payment["amount_fen"] // 2
    first = request_refund(client, cashier, payment["id"], half).get_json()
    second = request_refund(client, cashier, payment["id"], half).get_json()
    responses = at_once(app, [
        lambda c, r=r: c.post(f"/api/v1/staff/refunds/{r['id']}/review", headers=manager, json={"approve": True})
        for r in (first, second)])
    assert [r.status_code for r in responses] == [200, 200]
    row = payment_row(app, payment["id"])
    assert row.refunded_fen == 2 * half <= row.amount_fen  # both counted, none lost
    # What is left is all that can still be refunded.
    left = row.amount_fen - row.refunded_fen
    too_much = request_refund(client, cashier, payment["id"], half)
    assert too_much.status_code == 409
    assert too_much.get_json()["error"]["code"] in ("refund_too_large", "not_refundable")  # fully refunded
    if left:
        assert request_refund(client, cashier, payment["id"], left).status_code == 201


def test_parallel_refund_requests_never_exceed_the_payment(app, client, demo, login, monkeypatch):
    cashier = login("demo-cashier")
    payment = cash_payment(app, client, cashier)
    # Widen the window between checking what is left and recording the refund, so the race is certain.
    from server.billing import refunds

    real_utcnow = refunds.utcnow
    monkeypatch.setattr(refunds, "utcnow", lambda: (time.sleep(0.2), real_utcnow())[1])
    most = payment["amount_fen"] * 6 // 10  # any two together are more than the payment
    responses = at_once(app, [lambda c: request_refund(c, cashier, payment["id"], most)] * 10)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, statuses
    # Refused for what they are (the amount), not stopped by accident by a clash of refund numbers.
    assert {r.get_json()["error"]["code"] for r in responses if r.status_code == 409} == {"refund_too_large"}
    with app.app_context():
        assert db.session.query(Refund).filter_by(payment_id=payment["id"]).count() == 1


def test_the_database_refuses_a_refunded_total_beyond_the_amount(app, client, demo, login):
    cashier = login("demo-cashier")
    payment = cash_payment(app, client, cashier)
    for value in ("amount_fen + 1", "-1"):
        with app.app_context():
            with pytest.raises(IntegrityError):
                db.session.execute(text(f"UPDATE payments SET refunded_fen = {value} WHERE id = :id"),
                                   {"id": payment["id"]})
                db.session.commit()
            db.session.rollback()
    assert payment_row(app, payment["id"]).refunded_fen == 0
