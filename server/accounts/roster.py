"""Roster import: houses and registered residents from a CSV export.

Columns (English or Chinese headers, UTF-8 with or without BOM, also GBK from Excel):
    community_code/小区编码, building/楼栋, unit/单元, room/房号, floor/楼层, area_m2/建筑面积,
    name/姓名, phone/手机号, role/身份 (owner/family/tenant or 业主/家庭成员/租户; default owner)
A row without name and phone only creates (or updates) the house. Re-running the same file changes
nothing: buildings, houses and entries are matched on their natural keys and updated in place.

`run(..., dry_run=True)` checks a file and reports exactly what importing it would do (and every row it
would refuse) without keeping anything: the CLI's --dry-run and the staff's preview (`import_for`, behind
POST /api/v1/staff/roster/import and the admin page's 房屋与住户), whose file is held for an hour so the
import that follows the preview is of the very file previewed.
"""
from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ..auth import access
from ..errors import NotFound, ValidationFailed
from ..extensions import db, get_redis
from . import rules
from .models import Building, Community, House, RosterEntry, Staff

HEADERS = {
    "community_code": "community_code", "小区编码": "community_code", "小区": "community_code",
    "building": "building", "楼栋": "building", "楼号": "building",
    "unit": "unit", "单元": "unit",
    "room": "room", "房号": "room", "房间号": "room",
    "floor": "floor", "楼层": "floor",
    "area_m2": "area_m2", "建筑面积": "area_m2", "面积": "area_m2",
    "name": "name", "姓名": "name", "业主姓名": "name",
    "phone": "phone", "手机号": "phone", "电话": "phone", "联系电话": "phone",
    "role": "role", "身份": "role",
}
ROLE_WORDS = {"owner": "owner", "业主": "owner", "family": "family", "家庭成员": "family", "家属": "family",
              "tenant": "tenant", "租户": "tenant", "": "owner"}
REQUIRED = ("community_code", "building", "unit", "room")


@dataclass
class Report:
    rows: int = 0
    houses_created: int = 0
    houses_updated: int = 0
    entries_created: int = 0
    entries_updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    dry_run: bool = False  # checked only: nothing was kept
    preview_id: str | None = None  # a previewed file held for its import (import_for)


def decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("文件编码无法识别（请保存为 UTF-8 或 GBK 的 CSV）")


def run(text: str, default_community: str | None = None, *, dry_run: bool = False,
        only_community: str | None = None) -> Report:
    """import_csv, kept (the caller commits) or, for a dry run, undone once counted (a savepoint)."""
    savepoint = db.session.begin_nested()
    try:
        report = import_csv(text, default_community, only_community=only_community)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
        report.dry_run = True
    else:
        savepoint.commit()
    return report


def import_csv(text: str, default_community: str | None = None, *, only_community: str | None = None) -> Report:
    """Import every row (`only_community`: refuse rows of any other community)."""
    report = Report()
    reader = csv.DictReader(io.StringIO(text))
    columns = {h: HEADERS.get((h or "").strip().lower(), HEADERS.get((h or "").strip())) for h in reader.fieldnames or []}
    known = set(columns.values())
    missing = [c for c in REQUIRED if c not in known and not (c == "community_code" and default_community)]
    if missing:
        report.rejected.append((1, "缺少列：" + "、".join(missing)))
        return report

    communities: dict[str, Community | None] = {}
    buildings: dict[tuple[int, str], Building] = {}
    for line, raw in enumerate(reader, start=2):
        report.rows += 1
        row = {columns[k]: (v or "").strip() for k, v in raw.items() if k in columns and columns[k]}
        try:
            code = row.get("community_code") or default_community
            if only_community and code and code != only_community:
                raise RowError(f"小区编码 {code} 不是本小区（{only_community}）")
            _import_row(row, default_community, communities, buildings, report)
        except RowError as exc:
            report.rejected.append((line, str(exc)))
    return report


class RowError(ValueError):
    pass


def _import_row(row: dict, default_community, communities, buildings, report: Report) -> None:
    code = row.get("community_code") or default_community or ""
    for name in REQUIRED:
        if not (row.get(name) or (name == "community_code" and code)):
            raise RowError(f"{name} 为空")
    if code not in communities:
        communities[code] = db.session.scalar(select(Community).where(Community.code == code))
    community = communities[code]
    if community is None:
        raise RowError(f"小区编码 {code} 不存在")

    floor = _int_or_none(row.get("floor"), "楼层")
    area = _decimal_or_none(row.get("area_m2"))
    name, phone = rules.normalize_name(row.get("name", "")), row.get("phone", "")
    role = ROLE_WORDS.get(row.get("role", "").lower(), ROLE_WORDS.get(row.get("role", "")))
    if (name or phone) and not (name and phone):
        raise RowError("姓名和手机号须同时填写")
    if phone and not rules.valid_phone(phone):
        raise RowError(f"手机号 {phone} 格式有误")
    if role is None:
        raise RowError(f"身份 {row.get('role')} 无法识别（业主/家庭成员/租户）")

    bkey = (community.id, row["building"])
    building = buildings.get(bkey) or db.session.scalar(
        select(Building).where(Building.community_id == community.id, Building.code == row["building"]))
    if building is None:
        building = Building(community_id=community.id, code=row["building"], name=f"{row['building']}栋")
        db.session.add(building)
        db.session.flush()
    buildings[bkey] = building

    house = db.session.scalar(select(House).where(House.building_id == building.id, House.unit == row["unit"],
                                                  House.room == row["room"]))
    changed = False
    if house is None:
        house = House(community_id=community.id, building_id=building.id, unit=row["unit"], room=row["room"],
                      floor=floor, area_m2=area)
        db.session.add(house)
        db.session.flush()
        report.houses_created += 1
        changed = True
    elif (floor is not None and house.floor != floor) or (area is not None and house.area_m2 != area):
        house.floor = floor if floor is not None else house.floor
        house.area_m2 = area if area is not None else house.area_m2
        report.houses_updated += 1
        changed = True

    if phone:
        entry = db.session.scalar(select(RosterEntry).where(RosterEntry.house_id == house.id,
                                                            RosterEntry.phone == phone))
        if entry is None:
            db.session.add(RosterEntry(house_id=house.id, name=name, phone=phone, role=role, source="roster"))
            report.entries_created += 1
            changed = True
        elif (entry.name, entry.role, entry.source) != (name, role, "roster"):
            entry.name, entry.role, entry.source = name, role, "roster"
            report.entries_updated += 1
            changed = True
    if not changed:
        report.unchanged += 1


def _int_or_none(value: str | None, label: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise RowError(f"{label} {value} 不是整数") from exc


def _decimal_or_none(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        area = Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise RowError(f"建筑面积 {value} 不是数字") from exc
    if area <= 0 or area > Decimal("100000"):
        raise RowError(f"建筑面积 {value} 超出范围")
    return area


# -- staff: preview, then import the file previewed ------------------------------------------------------

PREVIEW_TTL = 3600  # seconds a previewed file waits for its import


def _preview_key(staff: Staff, preview_id: str) -> str:
    return f"roster-preview:{staff.id}:{preview_id}"


def import_for(staff: Staff, *, raw: bytes | None = None, preview_id: str | None = None,
               dry_run: bool = False) -> Report:
    """A manager's import into their own community (rows of another community are refused). A dry run
    (the preview) keeps the file for PREVIEW_TTL and reports its `preview_id`; an import names either a
    file or a preview_id (the file previewed, imported as it was shown)."""
    access.require(staff, "import_roster")
    if raw is None and preview_id:
        raw = get_redis().get(_preview_key(staff, preview_id))
        if raw is None:
            raise NotFound("预览已过期（保留 1 小时），请重新选择文件", code="preview_expired")
    if not raw:
        raise ValidationFailed("请选择名册文件（CSV）", fields={"file": ["请选择名册文件（CSV）"]})
    try:
        text = decode(raw)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"file": [str(exc)]}) from exc
    code = staff.community.code
    report = run(text, code, dry_run=dry_run, only_community=code)
    if dry_run:
        report.preview_id = secrets.token_urlsafe(16)
        get_redis().set(_preview_key(staff, report.preview_id), raw, ex=PREVIEW_TTL)
    elif preview_id:
        get_redis().delete(_preview_key(staff, preview_id))
    return report
