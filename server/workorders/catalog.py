"""The paid-service catalog per community: categories, items, materials."""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import Community, Staff
from ..auth import access
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from .models import Material, ServiceCategory, ServiceItem

# Work the service center does not take on (server/README.md): shown to owners so they know why it is missing.
OUT_OF_SCOPE = ["家用电器维修", "房屋装修"]


def community_by_code(code: str) -> Community:
    community = db.session.scalar(select(Community).where(Community.code == code))
    if community is None:
        raise NotFound("小区不存在")
    return community


def bookable_items(community: Community) -> list[ServiceItem]:
    return list(db.session.scalars(
        select(ServiceItem).join(ServiceCategory)
        .where(ServiceItem.community_id == community.id, ServiceItem.active.is_(True))
        .order_by(ServiceCategory.sort, ServiceCategory.id, ServiceItem.sort, ServiceItem.id)))


def bookable_item(community_id: int, item_id: int) -> ServiceItem | None:
    """The community's active item of that id (what a booking and its quote may name), else None."""
    item = db.session.get(ServiceItem, item_id) if access.valid_id(item_id) else None
    return item if item is not None and item.community_id == community_id and item.active else None


def materials(community_id: int, include_inactive: bool = False) -> list[Material]:
    stmt = select(Material).where(Material.community_id == community_id).order_by(Material.id)
    if not include_inactive:
        stmt = stmt.where(Material.active.is_(True))
    return list(db.session.scalars(stmt))


def all_items(staff: Staff) -> list[ServiceItem]:
    return list(db.session.scalars(select(ServiceItem).where(ServiceItem.community_id == staff.community_id)
                                   .order_by(ServiceItem.category_id, ServiceItem.sort, ServiceItem.id)))


def _category(staff: Staff, name: str) -> ServiceCategory:
    category = db.session.scalar(select(ServiceCategory).where(ServiceCategory.community_id == staff.community_id,
                                                               ServiceCategory.name == name))
    if category is None:
        category = ServiceCategory(community_id=staff.community_id, name=name)
        db.session.add(category)
        db.session.flush()
    return category


def _check_scope(name: str) -> None:
    for word in ("家电", "电器维修", "装修"):
        if word in name:
            raise ValidationFailed("家用电器维修、房屋装修不在便民服务范围内", fields={"name": ["不在服务范围内"]})


def create_item(staff: Staff, data: dict) -> ServiceItem:
    access.require(staff, "manage_catalog")
    _check_scope(data["name"])
    category = _category(staff, data.pop("category"))
    item = ServiceItem(community_id=staff.community_id, category_id=category.id, **data)
    db.session.add(item)
    db.session.flush()
    return item


def update_item(staff: Staff, item_id: int, data: dict) -> ServiceItem:
    access.require(staff, "manage_catalog")
    item = access.scoped(ServiceItem, item_id, staff, "服务项目不存在")
    if "name" in data:
        _check_scope(data["name"])
    if "category" in data:
        item.category_id = _category(staff, data.pop("category")).id
    for key, value in data.items():
        setattr(item, key, value)
    return item


def create_material(staff: Staff, data: dict) -> Material:
    access.require(staff, "manage_catalog")
    material = Material(community_id=staff.community_id, **data)
    db.session.add(material)
    db.session.flush()
    return material


def update_material(staff: Staff, material_id: int, data: dict) -> Material:
    access.require(staff, "manage_catalog")
    material = access.scoped(Material, material_id, staff, "材料不存在")
    for key, value in data.items():
        setattr(material, key, value)
    return material
