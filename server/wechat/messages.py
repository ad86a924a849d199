"""What each WeChat message says: one builder per template of `templates.py`, the only code that types
WeChat's data keys (thing2, time4...). Callers name what they mean (`order_status(number=..., ...)`); a
test checks every builder against its template's declared fields, and `services._create` refuses values
whose keys differ from the template's, so a typo fails in our tests, not at WeChat.

Values are raw (datetimes, fen, dates); `values.py` shapes them to WeChat's per-type limits when a
message is stored.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple


class Content(NamedTuple):
    key: str  # the template key (templates.SUBSCRIBE / templates.OFFICIAL)
    values: dict


# -- owners: subscribe messages -----------------------------------------------------------------------

def binding_result(*, house: str, result: str, note: str, at: datetime) -> Content:
    return Content("binding_result", {"thing1": house, "phrase2": result, "thing3": note, "time4": at})


def order_status(*, number: str, title: str, status: str, note: str, at: datetime) -> Content:
    return Content("order_status", {"character_string1": number, "thing2": title, "phrase3": status,
                                    "thing4": note or "-", "time5": at})


def payment_result(*, receipt_no: str, amount_fen: int, description: str, at: datetime) -> Content:
    return Content("payment_result", {"character_string1": receipt_no, "amount2": amount_fen,
                                      "thing3": description, "time4": at})


def bill_reminder(*, house: str, amount_fen: int, due: date, note: str) -> Content:
    return Content("bill_reminder", {"thing1": house, "amount2": amount_fen, "date3": due, "thing4": note})


def complaint_reply(*, number: str, content: str, at: datetime) -> Content:
    return Content("complaint_reply", {"character_string1": number, "thing2": content, "time3": at})


def notice(*, title: str, summary: str, published_at: datetime) -> Content:
    return Content("notice", {"thing1": title, "thing2": summary, "time3": published_at})


# -- staff: official-account template messages --------------------------------------------------------

def binding_review(*, house: str, applicant: str, at: datetime) -> Content:
    return Content("binding_review", {"thing1": house, "thing2": applicant, "time3": at})


def order_assigned(*, number: str, work: str, address: str, at: datetime) -> Content:
    return Content("order_assigned", {"character_string1": number, "thing2": work, "thing3": address, "time4": at})


def order_alert(*, number: str, what: str, address: str, at: datetime) -> Content:
    return Content("order_alert", {"character_string1": number, "thing2": what, "thing3": address, "time4": at})


BUILDERS = {f.__name__: f for f in (binding_result, order_status, payment_result, bill_reminder, complaint_reply,
                                     notice, binding_review, order_assigned, order_alert)}
