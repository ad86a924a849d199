from server.accounts.rules import RosterPerson, decide_binding, house_label, normalize_name, valid_phone

ROSTER = [RosterPerson("张三", "13800000001", "owner"), RosterPerson("李小四", "13800000002", "tenant")]


def decide(**kw):
    args = dict(name="张三", phone="13800000001", role="owner", roster=ROSTER, verified_phone="13800000001",
                require_verified_phone=True)
    args.update(kw)
    return decide_binding(**args)


def test_match_with_verified_phone_is_approved():
    assert decide().status == "approved"


def test_spaces_in_names_do_not_matter():
    assert decide(name=" 张 三 ").status == "approved"
    assert normalize_name("张 三") == "张三"


def test_unverified_phone_waits_when_required():
    d = decide(verified_phone=None)
    assert (d.status, d.reason) == ("pending", "手机号未经微信验证")
    assert decide(verified_phone="13900000000").reason == "与微信验证的手机号不一致"


def test_unverified_phone_is_enough_when_not_required():
    assert decide(verified_phone=None, require_verified_phone=False).status == "approved"


def test_unknown_person_waits():
    assert decide(name="王五", phone="13800000009").reason == "未在业主名册中"


def test_known_phone_other_name_waits():
    assert decide(name="王五").reason == "姓名与登记信息不符"


def test_role_must_match_roster():
    d = decide(role="tenant")
    assert d.status == "pending" and "业主" in d.reason


def test_phone_validation_and_labels():
    assert valid_phone("13800000001")
    assert not valid_phone("1380000000")
    assert not valid_phone("23800000001")
    assert house_label("1", "2", "301") == "1栋2单元301"


def test_permissions_table():
    from server.accounts.rules import can, permissions

    assert permissions("receptionist", "service_center") == [
        "review_bindings", "find_houses", "desk", "assign", "collect_payments", "publish_notices", "surveys",
        "common_problems", "view_bills", "dunning", "request_refunds"]
    assert can("cashier", "finance", "receive_takings") and not can("cashier", "service_center", "receive_takings")
    assert permissions("worker", "engineering") == []
    assert "manage_catalog" in permissions("manager", "service_center")
    assert can("manager", "service_center", "complaint_report") and not can("cashier", "finance", "complaint_report")
    assert permissions("cashier", "service_center") == [
        "find_houses", "collect_payments", "view_takings", "collect_fees", "view_payments", "view_bills", "dunning",
        "request_refunds"]
    assert "manage_fees" in permissions("manager", "service_center")
    assert "manage_fees" not in permissions("cashier", "service_center")


def test_fee_collection_by_receptionists_depends_on_the_community():
    from server.accounts.rules import can

    def can_collect_fees(role, department, allowed):
        return can(role, department, "collect_fees", reception_collects_fees=allowed)

    assert can_collect_fees("cashier", "service_center", False) and can_collect_fees("manager", "service_center", False)
    assert not can_collect_fees("receptionist", "service_center", False)
    assert can_collect_fees("receptionist", "service_center", True)
    assert not can_collect_fees("worker", "engineering", True) and not can_collect_fees("supervisor", "cleaning", True)


def test_finance_gets_what_the_table_grants_and_supervisors_their_department():
    from server.accounts.rules import PERMISSIONS, can, in_scope

    finance = {name for name, rule in PERMISSIONS.items() if rule.finance}
    assert {"view_takings", "receive_takings", "reports", "view_bills", "request_refunds"} <= finance
    assert all(can("worker", "finance", name) for name in finance)
    assert not can("worker", "finance", "approve_refunds") and not can("worker", "finance", "manage_fees")
    assert in_scope("supervisor", "engineering", "assign", "engineering")
    assert not in_scope("supervisor", "engineering", "assign", "cleaning")
    assert in_scope("manager", "service_center", "assign", "cleaning")
    assert in_scope("supervisor", "engineering", "manage_staff", "engineering", record_role="worker")
    assert not in_scope("supervisor", "engineering", "manage_staff", "engineering", record_role="supervisor")
    assert in_scope("supervisor", "engineering", "desk", "cleaning")  # not a department-scoped permission


def test_receptionist_collects_fees_only_where_the_community_allows():
    from server.accounts.rules import permissions

    assert "collect_fees" not in permissions("receptionist", "service_center")
    assert "collect_fees" in permissions("receptionist", "service_center", reception_collects_fees=True)


def test_what_staff_type_to_find_a_house():
    from server.desk.houses import parse_number

    assert parse_number("1-1-101") == parse_number("1栋1单元101") == parse_number(" 1 1 101 ") == \
        parse_number("1号楼1单元101室") == ["1", "1", "101"]
    assert parse_number("1-1") == ["1", "1"] and parse_number("1") == ["1"]
    assert parse_number("张三") is None and parse_number("") is None and parse_number("1-1-1-1") is None
