"""房屋与住户: find a house or a resident (the desk's house search), a house's page (its roster, its
bindings and their states, its orders, its account), and the roster import with a preview of every row
it would refuse before anything is kept (the same service as POST /api/v1/staff/roster/import and
`flask roster import --dry-run`)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from ...accounts import roster
from ...accounts import rules as account_rules
from ...accounts.schemas import RosterImportArgs
from ...billing.services import BILL_STATUSES
from ...desk import house_file
from ...desk import houses as house_search
from ...desk.schemas import HouseSearchArgs
from ...errors import AppError
from ...extensions import db
from ...workorders import rules as order_rules
from ...workorders import states
from .. import forms
from ..blueprint import bp, page


@bp.get("/houses")
@page("find_houses")
def houses():
    if request.args.get("house_id", "").isdigit():  # a suggestion was picked: its page
        return redirect(url_for("admin.house_detail", house_id=int(request.args["house_id"][:10])))
    return _houses()


def _houses(preview: roster.Report | None = None, error: AppError | None = None):
    q = request.args.get("q", "").strip()
    hits = house_search.search(g.staff, forms.query_args(HouseSearchArgs(), request.args)["q"],
                               house_search.MAX_LIMIT) if q else []
    return render_template("admin/houses.html", q=q, hits=hits, preview=preview, error=error,
                           member_roles=account_rules.MEMBER_ROLES, limit=house_search.MAX_LIMIT)


@bp.post("/houses/import")
@page("import_roster")
def import_roster():
    """A file: its preview (nothing kept). A preview_id: the import of the file previewed."""
    args = forms.load(RosterImportArgs(), request.form)
    upload = request.files.get("file")
    raw = upload.read() if upload and upload.filename else None
    try:
        report = roster.import_for(g.staff, raw=raw, preview_id=None if raw else args["preview_id"],
                                   dry_run=raw is not None)
        db.session.commit()
    except AppError as exc:  # no file, an unreadable one, an expired preview
        db.session.rollback()
        return _houses(error=exc), exc.status
    if report.dry_run:
        return _houses(preview=report)
    return redirect(url_for("admin.houses", done="imported", houses=report.houses_created,
                            entries=report.entries_created + report.entries_updated,
                            updated=report.houses_updated, rejected=len(report.rejected)))


@bp.get("/houses/<int:house_id>")
@page("find_houses")
def house_detail(house_id: int):
    record = house_file.house_file(g.staff, house_id)
    return render_template("admin/house.html", f=record, member_roles=account_rules.MEMBER_ROLES,
                           membership_statuses=account_rules.MEMBERSHIP_STATUSES, order_statuses=states.STATUSES,
                           kinds=order_rules.KINDS, bill_statuses=BILL_STATUSES, nav_endpoint="admin.houses")
