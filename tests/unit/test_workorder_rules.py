from datetime import date
from decimal import Decimal

from server.workorders import rules
from server.workorders.rules import Candidate, pick_worker


def test_quote_and_materials_in_fen():
    assert rules.quote(5000, 3) == 15000
    assert rules.material_amount(335, Decimal("2.5")) == 838  # 8.375 yuan rounds half up
    assert rules.material_amount(850, Decimal("1.00")) == 850
    assert rules.final_amount(10000, 838) == 10838
    assert rules.final_amount(None, 500) == 500


def test_numbers():
    assert rules.format_number("repair", date(2026, 11, 22), 7) == "BX20261122-0007"
    assert rules.format_number("service", date(2026, 1, 2), 123) == "FW20260102-0123"


def test_repair_categories_map_to_departments():
    assert rules.REPAIR_CATEGORIES["water"].department == "engineering"
    assert rules.REPAIR_CATEGORIES["public_cleaning"].department == "cleaning"
    assert rules.REPAIR_CATEGORIES["water"].urgent_allowed and not rules.REPAIR_CATEGORIES["greening"].urgent_allowed


WORKERS = [Candidate(5, ("water", "electricity"), 2), Candidate(6, ("electricity",), 0), Candidate(7, ("water",), 2)]


def test_pick_fewest_open_orders_with_the_skill():
    assert pick_worker(WORKERS, "electricity", set()) == 6
    assert pick_worker(WORKERS, "water", set()) == 5  # tie on load: lowest id
    assert pick_worker(WORKERS, None, set()) == 6


def test_pick_skips_those_who_declined_and_may_find_nobody():
    assert pick_worker(WORKERS, "water", {5}) == 7
    assert pick_worker(WORKERS, "water", {5, 7}) is None
    assert pick_worker(WORKERS, "greening", set()) is None
    assert pick_worker([], None, set()) is None
