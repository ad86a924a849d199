"""服务目录: the paid-service items owners book (price per unit, department and skill, on sale or not)
and the material prices workers complete with (the manager's; the services behind
/api/v1/staff/catalog/items and /materials). Prices are typed in yuan."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from ...accounts import rules as account_rules
from ...errors import ValidationFailed
from ...extensions import db
from ...workorders import catalog as services
from ...workorders.schemas import ItemIn, ItemPatch, MaterialIn, MaterialPatch
from .. import forms
from ..blueprint import bp, page

DEPARTMENTS = {key: account_rules.DEPARTMENTS[key] for key in ("engineering", "cleaning")}


@bp.get("/catalog")
@page("manage_catalog")
def catalog():
    return _page()


def _page(error: ValidationFailed | None = None, failed: str | None = None):
    """`failed` names the form that was refused (new-item, item-<id>, new-material, material-<id>): it is
    shown again with what was typed and its messages."""
    return render_template("admin/catalog.html", items=services.all_items(g.staff),
                           materials=services.materials(g.staff.community_id, include_inactive=True),
                           departments=DEPARTMENTS, skills=account_rules.SKILLS, error=error, failed=failed,
                           form=request.form if failed else {})


def _save(action, schema, failed: str, done: str):
    try:
        record = action(forms.load(schema, forms.with_fen(request.form, "price")))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(exc, failed), exc.status
    return redirect(url_for("admin.catalog", done=done, name=record.name,
                            _anchor="materials" if "material" in failed else "items"))


@bp.post("/catalog/items")
@page("manage_catalog")
def create_item():
    return _save(lambda data: services.create_item(g.staff, data), ItemIn(), "new-item", "item_created")


@bp.post("/catalog/items/<int:item_id>")
@page("manage_catalog")
def update_item(item_id: int):
    return _save(lambda data: services.update_item(g.staff, item_id, data), ItemPatch(), f"item-{item_id}",
                 "item_saved")


@bp.post("/catalog/materials")
@page("manage_catalog")
def create_material():
    return _save(lambda data: services.create_material(g.staff, data), MaterialIn(), "new-material",
                 "material_created")


@bp.post("/catalog/materials/<int:material_id>")
@page("manage_catalog")
def update_material(material_id: int):
    return _save(lambda data: services.update_material(g.staff, material_id, data), MaterialPatch(),
                 f"material-{material_id}", "material_saved")
