"""来电来访登记: a phone call or a visit registered in under 30 seconds (repair, paid service, complaint,
consultation), keyboard only: find the house as you type, pick it (the caller's name and phone come with
it), say what it is, write what was said, submit; the page confirms and is ready for the next call.

Work orders go through the desk's own service (`workorders.intake.create_at_desk`, the API's
POST /api/v1/staff/work-orders), so dispatch and pushes follow through the outbox; consultations through
`desk.consultations.record` (POST /api/v1/staff/consultations); the house search is `desk.houses.search`
(GET /api/v1/staff/houses/search)."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from flask import g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ...accounts.models import House
from ...accounts.queries import community_staff
from ...auth.services import Identity
from ...desk import consultations, houses
from ...desk.schemas import KIND_LABELS, ConsultationIn, HouseSearchArgs
from ...errors import ValidationFailed
from ...extensions import db
from ...timeutil import local_today
from ...uploads import services as uploads
from ...workorders import access as order_access
from ...workorders import catalog, rules, states
from ...workorders import intake as order_intake
from ...workorders.schemas import DeskOrderIn
from .. import forms, session
from ..blueprint import bp, page

CHANNELS = {key: rules.CHANNELS[key] for key in consultations.CHANNELS}


@bp.route("/intake", methods=["GET", "POST"])
@page("desk")
def intake():
    if request.method == "POST":
        return _register()
    done = None
    if request.args.get("order", "").isdigit():
        done = order_access.staff_order(g.staff, int(request.args["order"]))
    elif request.args.get("consultation", "").isdigit():
        done = consultations.staff_consultation(g.staff, int(request.args["consultation"]))
    return _page(MultiDict(), None, done)


def _register():
    kind = request.form.get("kind")
    try:
        if kind == "consultation":
            record = consultations.record(g.staff, forms.load(ConsultationIn(), request.form))
        else:
            record = order_intake.create_at_desk(g.staff, forms.load(DeskOrderIn(), request.form))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(request.form, exc, None), 422
    # POST-redirect-GET: the confirmation, and an empty form for the next call.
    return redirect(url_for("admin.intake", **{"consultation" if kind == "consultation" else "order": record.id}))


def _page(form: MultiDict, error: ValidationFailed | None, done):
    staff = g.staff
    items = catalog.bookable_items(staff.community)
    return render_template(
        "admin/intake.html", form=form, error=error, done=done, kinds=KIND_LABELS, channels=CHANNELS,
        kind=form.get("kind") if form.get("kind") in KIND_LABELS else "repair",
        repair_categories=rules.REPAIR_CATEGORIES, complaint_categories=rules.COMPLAINT_CATEGORIES,
        item_groups=[(category.name, list(group)) for category, group in groupby(items, attrgetter("category"))],
        staff_list=[s for s in db.session.scalars(community_staff(staff.community_id)) if s.active],
        house=_house(form.get("house_id", "")), quote=_quote(form),
        photos=[Photo(int(p)) for p in form.getlist("photos") if p.isdigit() and len(p) < 10],
        calls=consultations.calls(staff, local_today(staff.community.timezone)),
        channel_labels=rules.CHANNELS, statuses=states.STATUSES)


def _house(house_id: str) -> House | None:
    """The house already picked on a form shown again (its label goes back into the search box)."""
    house = db.session.get(House, int(house_id)) if house_id.isdigit() and len(house_id) < 10 else None
    return house if house is not None and house.community_id == g.staff.community_id else None


# The person fields a picked house fills, per form (`fill=`): the caller at the desk, a survey's respondent.
PERSON_FIELDS = {"contact": ("contact_name", "contact_phone"), "respondent": ("respondent_name", "respondent_phone")}


@bp.get("/houses/suggest")
@page("find_houses")
def house_suggestions():
    """The suggestions under any house search box (htmx, as staff type): the desk's one house search."""
    q = request.args.get("q", "").strip()
    hits = houses.search(g.staff, forms.query_args(HouseSearchArgs(), request.args)["q"]) if q else []
    return render_template("admin/_house_suggestions.html", hits=hits, q=q,
                           pick=request.args.get("pick", "house_id"),
                           fills=PERSON_FIELDS.get(request.args.get("fill", "contact")))


@bp.get("/intake/quote")
@page("desk")
def intake_quote():
    """The chosen paid service's price from the catalog (htmx, when the item or the quantity changes)."""
    return render_template("admin/_intake_quote.html", quote=_quote(request.args))


def _quote(args) -> dict | None:
    item_id, quantity = args.get("service_item_id", ""), args.get("quantity", "") or "1"
    if not (item_id.isdigit() and quantity.isdigit()):
        return None
    item = catalog.bookable_item(g.staff.community_id, int(item_id))
    if item is None:
        return None
    quantity = max(1, min(int(quantity), 99))
    return {"item": item, "quantity": quantity, "fen": rules.quote(item.price_fen, quantity)}


@dataclass(frozen=True)
class Photo:
    id: int
    name: str = ""
    size: int | None = None


@bp.post("/intake/photos")
@page("desk")
def intake_photos():
    """Photos of a repair or a complaint, stored as they are chosen (the service behind
    POST /api/v1/uploads); the form gets one hidden `photos` input per picture."""
    identity = Identity(session=session.current().row, owner=None, staff=g.staff)
    photos, created = [], []
    for file in request.files.getlist("file"):
        upload, new = uploads.store(identity, file)
        photos.append(Photo(upload.id, file.filename or "", upload.size))
        created += [upload] if new else []
    try:
        db.session.commit()
    except Exception:
        for upload in created:
            uploads.discard_file(upload)  # no row, so no file either
        raise
    return render_template("admin/_intake_photos.html", photos=photos)
