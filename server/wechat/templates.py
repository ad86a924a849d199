"""Every message template the product sends, in one list.

Subscribe templates (owners, mini-program) and template messages (staff, official account) are chosen
in WeChat's consoles; their ids differ per account and come from config (WUYE_SUBSCRIBE_TEMPLATES /
WUYE_OA_TEMPLATES, key -> id). The `default_id` is what the sandbox and the demo use. The data keys
(thing1, time2...) must match the fields of the template chosen in the console.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app


@dataclass(frozen=True)
class Template:
    key: str
    title: str  # as shown in WeChat (Chinese)
    fields: dict[str, str] = field(default_factory=dict)  # data key -> what it carries (documentation)
    page: str = ""  # mini-program page opened from the message

    @property
    def default_id(self) -> str:
        return "tpl-" + self.key.replace("_", "-")


SUBSCRIBE: dict[str, Template] = {t.key: t for t in [
    Template("binding_result", "房屋绑定审核结果",
             {"thing1": "房屋", "phrase2": "审核结果", "thing3": "说明", "time4": "审核时间"},
             "pages/houses/index"),
    Template("order_status", "工单进度通知",
             {"character_string1": "工单号", "thing2": "服务内容", "phrase3": "工单状态", "thing4": "说明",
              "time5": "更新时间"},
             "pages/orders/detail"),
    Template("payment_result", "缴费成功通知",
             {"character_string1": "收据号", "amount2": "金额", "thing3": "缴费内容", "time4": "缴费时间"},
             "pages/payments/detail"),
    Template("bill_reminder", "缴费提醒",
             {"thing1": "房屋", "amount2": "待缴金额", "date3": "缴费期限", "thing4": "说明"},
             "pages/bills/index"),
    Template("complaint_reply", "投诉处理回复",
             {"character_string1": "工单号", "thing2": "回复内容", "time3": "回复时间"},
             "pages/orders/detail"),
    Template("notice", "物业通知",
             {"thing1": "标题", "thing2": "摘要", "time3": "发布时间"},
             "pages/notices/detail"),
]}

OFFICIAL: dict[str, Template] = {t.key: t for t in [
    Template("binding_review", "业主绑定待审核",
             {"thing1": "房屋", "thing2": "申请人", "time3": "申请时间"},
             "pages/staff/bindings/index"),
    Template("order_assigned", "新工单提醒",
             {"character_string1": "工单号", "thing2": "工作内容", "thing3": "地址", "time4": "预约时间"},
             "pages/staff/tasks/detail"),
    Template("order_alert", "工单督办提醒",
             {"character_string1": "工单号", "thing2": "事项", "thing3": "地址", "time4": "时间"},
             "pages/staff/orders/detail"),
]}


def subscribe_id(key: str) -> str:
    return current_app.config["SUBSCRIBE_TEMPLATES"].get(key) or SUBSCRIBE[key].default_id


def official_id(key: str) -> str:
    return current_app.config["OA_TEMPLATES"].get(key) or OFFICIAL[key].default_id


def subscribe_by_id() -> dict[str, Template]:
    return {subscribe_id(key): tpl for key, tpl in SUBSCRIBE.items()}
