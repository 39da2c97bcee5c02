"""The directory: areas, issuers, agencies, radio stations, subscriber lists and Facebook pages,
imported from the files staff keep (CSV from spreadsheets, YAML issuer profiles).

Every import runs in one transaction: a file that cannot be read to the end changes nothing. Rows
that cannot be imported are reported by line with the reason; re-importing a file changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from broadcaster.campaign_file import SLUG, read_yaml
from broadcaster.csvfiles import Row, Table
from broadcaster.errors import UserError
from broadcaster.models import (
    Agency,
    AgencyGroup,
    Area,
    FacebookPage,
    Issuer,
    Station,
    Subscriber,
    SubscriberList,
)
from broadcaster.phones import PhoneError, normalise_mobile, parse_number
from broadcaster.problems import InvalidInput, from_validation_error
from broadcaster.text import slugify

CHUNK = 2000
T = TypeVar("T")


@dataclass
class ImportReport:
    kind: str
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    converted: list[tuple[int, str, str]] = field(default_factory=list)  # line, old number, new number
    kept_opted_out: int = 0
    rejects: list[tuple[int, str, list[str]]] = field(default_factory=list)  # line, reason, raw cells
    header: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.new + self.updated + self.unchanged

    def reject(self, row: Row, reason: str) -> None:
        self.rejects.append((row.line, reason, row.raw))


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _split(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,\n]", cell) if part.strip()]


class AreaIndex:
    """Areas by code or by name (names as staff type them, with or without diacritics)."""

    def __init__(self, session: Session):
        self.by_key: dict[str, int] = {}
        for area in session.scalars(select(Area)):
            self.add(area)

    def add(self, area: Area) -> None:
        self.by_key[area.code.lower()] = area.id
        self.by_key.setdefault(slugify(area.name), area.id)

    def find(self, text: str) -> int | None:
        return self.by_key.get(text.lower()) or self.by_key.get(slugify(text))

    def resolve(self, row: Row, report: ImportReport) -> tuple[bool, int | None]:
        """(ok, area id) for the row's `area` cell; an unknown area rejects the row."""
        text = row.values.get("area", "")
        if not text:
            return True, None
        area_id = self.find(text)
        if area_id is None:
            report.reject(row, f"area '{text}' is not in the area list (import areas first)")
            return False, None
        return True, area_id


# ---- areas -------------------------------------------------------------------------------------

AREA_COLUMNS = {
    "code": ("code", "ma", "ma_khu_vuc", "ma_dia_ban"),
    "name": ("name", "ten", "ten_khu_vuc", "ten_dia_ban"),
    "kind": ("kind", "loai", "cap"),
    "parent": ("parent", "thuoc", "cap_tren", "ma_cap_tren"),
}


def import_areas(session: Session, path: Path) -> ImportReport:
    report = ImportReport("areas", str(path))
    table = Table(path, AREA_COLUMNS, ("code", "name"))
    index = AreaIndex(session)
    existing = {area.code: area for area in session.scalars(select(Area))}
    for row in table.rows():
        code, name = row.values["code"], row.values["name"]
        if not re.fullmatch(SLUG, code):
            report.reject(row, f"area code '{code}' must be lower-case letters, digits and hyphens")
            continue
        parent_id = None
        if parent := row.values.get("parent", ""):
            parent_id = index.find(parent)
            if parent_id is None:
                report.reject(row, f"parent area '{parent}' is not known (list parents before their children)")
                continue
        kind = row.values.get("kind") or ("province" if parent_id is None else "district")
        area = existing.get(code)
        if area is None:
            area = Area(code=code, name=name, kind=kind, parent_id=parent_id)
            session.add(area)
            session.flush()
            existing[code] = area
            report.new += 1
        elif (area.name, area.kind, area.parent_id) != (name, kind, parent_id):
            area.name, area.kind, area.parent_id = name, kind, parent_id
            report.updated += 1
        else:
            report.unchanged += 1
        index.add(area)
    report.header = table.header
    return report


def areas_within(session: Session, codes: Iterable[str]) -> set[int]:
    """Ids of the named areas and everything below them in the hierarchy."""
    areas = list(session.scalars(select(Area)))
    children: dict[int | None, list[int]] = {}
    for area in areas:
        children.setdefault(area.parent_id, []).append(area.id)
    wanted = {area.id for area in areas if area.code in set(codes)}
    frontier = list(wanted)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in wanted:
                wanted.add(child)
                frontier.append(child)
    return wanted


# ---- issuers -------------------------------------------------------------------------------------


class Hotline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str
    label: str = ""
    contact: str = ""  # who answers, as the letter names them

    @field_validator("number")
    @classmethod
    def _a_phone_number(cls, value: str) -> str:
        try:
            parse_number(re.sub(r"[\s.]", "", value))
        except PhoneError as exc:
            raise ValueError(str(exc)) from None
        return re.sub(r"[\s.]", "", value)


class Signer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authority: str = ""
    title: str
    name: str = ""


class IssuerProfile(BaseModel):
    """An issuer profile file (see config/issuers/)."""

    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(pattern=SLUG)
    body: str
    unit: str
    unit_name: str
    unit_short: str
    symbol: str
    place: str
    signer: Signer
    hotlines: list[Hotline] = Field(min_length=1)
    region: str = Field("south", pattern="^(south|north)$")
    locale: str = "vi"
    area: str | None = None
    email: str | None = None
    website: str | None = None
    hashtags: list[str] = Field(default_factory=list)
    readings: dict[str, str] = Field(default_factory=dict)  # abbreviation → words read aloud (DOMAIN §15)

    @field_validator("readings")
    @classmethod
    def _readings_are_words(cls, value: dict[str, str]) -> dict[str, str]:
        for abbreviation, words in value.items():
            if not abbreviation.strip() or any(char.isspace() for char in abbreviation):
                raise ValueError(f"'{abbreviation}' is not an abbreviation (one token, no spaces)")
            if not words.strip() or any(char.isdigit() for char in words):
                raise ValueError(f"the reading of '{abbreviation}' must be words an announcer reads, not '{words}'")
        return value


def import_issuer(session: Session, path: Path) -> ImportReport:
    try:
        profile = IssuerProfile.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise InvalidInput(str(path), from_validation_error(exc)) from None
    report = ImportReport("issuers", str(path))
    area_id = None
    if profile.area:
        area_id = AreaIndex(session).find(profile.area)
        if area_id is None:
            raise UserError(f"{path}: area '{profile.area}' is not in the area list (import areas first)")
    values: dict[str, Any] = {
        "body": profile.body,
        "unit": profile.unit,
        "unit_name": profile.unit_name,
        "unit_short": profile.unit_short,
        "symbol": profile.symbol,
        "place": profile.place,
        "signer_authority": profile.signer.authority,
        "signer_title": profile.signer.title,
        "signer_name": profile.signer.name,
        "hotlines": [hotline.model_dump() for hotline in profile.hotlines],
        "region": profile.region,
        "default_locale": profile.locale,
        "email": profile.email,
        "website": profile.website,
        "hashtags": profile.hashtags,
        "readings": profile.readings,
        "area_id": area_id,
    }
    issuer = session.scalar(select(Issuer).where(Issuer.slug == profile.issuer))
    _upsert(session, Issuer, issuer, {"slug": profile.issuer, **values}, report)
    return report


# ---- agencies ------------------------------------------------------------------------------------

AGENCY_COLUMNS = {
    "name": ("name", "ten", "ten_don_vi", "don_vi", "co_quan", "ten_co_quan"),
    "emails": ("emails", "email", "thu_dien_tu", "dia_chi_email"),
    "groups": ("groups", "group", "nhom"),
    "area": ("area", "khu_vuc", "dia_ban"),
    "key": ("key", "ma", "ma_don_vi"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _agency_from_row(row: Row, report: ImportReport, areas: AreaIndex) -> dict[str, Any] | None:
    name = row.values["name"]
    if not name:
        report.reject(row, "the agency has no name")
        return None
    emails = _split(row.values.get("emails", ""))
    bad = [email for email in emails if not _EMAIL.match(email)]
    if bad:
        report.reject(row, f"'{bad[0]}' is not an e-mail address")
        return None
    if not emails:
        report.reject(row, "the agency has no e-mail address")
        return None
    groups = [slugify(group) for group in _split(row.values.get("groups", ""))]
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    key = slugify(row.values.get("key") or name)
    return {"key": key, "name": name, "emails": emails, "groups": groups, "area_id": area_id}


def import_agencies(session: Session, path: Path) -> ImportReport:
    report = ImportReport("agencies", str(path))
    table = Table(path, AGENCY_COLUMNS, ("name", "emails"))
    areas = AreaIndex(session)
    wanted: dict[str, dict[str, Any]] = {}
    for row in table.rows():
        found = _agency_from_row(row, report, areas)
        if found is None:
            continue
        if (earlier := wanted.get(found["key"])) is not None:
            # The same agency listed twice (once per group, say): one agency with everything.
            earlier["emails"] += [e for e in found["emails"] if e not in earlier["emails"]]
            earlier["groups"] += [g for g in found["groups"] if g not in earlier["groups"]]
            report.merged += 1
        else:
            wanted[found["key"]] = found
    existing = {agency.key: agency for agency in session.scalars(select(Agency))}
    for key, values in wanted.items():
        agency = existing.get(key)
        groups = sorted(set(values.pop("groups")))
        if agency is None:
            agency = Agency(**values)
            agency.group_rows = [AgencyGroup(group=group) for group in groups]
            session.add(agency)
            report.new += 1
        elif (agency.name, agency.emails, agency.area_id, agency.groups) != (
            values["name"],
            values["emails"],
            values["area_id"],
            groups,
        ):
            agency.name, agency.emails, agency.area_id = values["name"], values["emails"], values["area_id"]
            agency.group_rows = [AgencyGroup(group=group) for group in groups]
            report.updated += 1
        else:
            report.unchanged += 1
    report.header = table.header
    return report


# ---- stations --------------------------------------------------------------------------------

STATION_COLUMNS = {
    "slug": ("slug", "ma", "ma_dai"),
    "name": ("name", "ten", "ten_dai"),
    "area": ("area", "khu_vuc", "dia_ban"),
    "locales": ("locales", "locale", "ngon_ngu"),
    "folder": ("folder", "thu_muc"),
    "slots": ("slots", "khung_gio", "gio_phat"),
}
_SLOT = re.compile(r"^([a-z0-9-]+)\s+([01]?\d|2[0-3])[:h]([0-5]\d)$")


def safe_folder(folder: str) -> str:
    """A station's delivery folder, relative to the radio output root; ValueError if it would leave it."""
    path = PurePosixPath(folder.replace("\\", "/"))
    if not folder or path.is_absolute() or ".." in path.parts or folder.startswith("~"):
        raise ValueError(f"folder '{folder}' must be a plain name inside the radio output folder")
    if any(not re.fullmatch(r"[\w.-]+", part) or part.startswith(".") for part in path.parts):
        raise ValueError(f"folder '{folder}' may hold only letters, digits, '-', '_' and '.'")
    return str(path)


def parse_slots(cell: str) -> dict[str, str]:
    """'morning 05:30; evening 17:00' → {'morning': '05:30', 'evening': '17:00'}."""
    slots: dict[str, str] = {}
    for part in _split(cell):
        match = _SLOT.match(part.strip().lower())
        if not match:
            raise ValueError(f"slot '{part}' must be a name and a time, like 'morning 05:30'")
        slots[match[1]] = f"{int(match[2]):02d}:{match[3]}"
    return slots


def ordered_slots(slots: dict[str, str]) -> list[tuple[str, str]]:
    """A station's slots in broadcast order (JSON objects keep no order on every database)."""
    return sorted(slots.items(), key=lambda slot: (slot[1], slot[0]))


def _station_from_row(row: Row, report: ImportReport, areas: AreaIndex) -> dict[str, Any] | None:
    slug = row.values["slug"]
    if not re.fullmatch(SLUG, slug):
        report.reject(row, f"station code '{slug}' must be lower-case letters, digits and hyphens")
        return None
    try:
        folder = safe_folder(row.values.get("folder") or slug)
        slots = parse_slots(row.values.get("slots", ""))
    except ValueError as exc:
        report.reject(row, str(exc))
        return None
    if not slots:
        report.reject(row, "the station has no broadcast slots (like 'morning 05:30; evening 17:00')")
        return None
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    locales = _split(row.values.get("locales", "")) or ["vi"]
    return {
        "slug": slug,
        "name": row.values["name"] or slug,
        "area_id": area_id,
        "locales": locales,
        "folder": folder,
        "slots": slots,
    }


def import_stations(session: Session, path: Path) -> ImportReport:
    report = ImportReport("stations", str(path))
    table = Table(path, STATION_COLUMNS, ("slug", "name", "slots"))
    areas = AreaIndex(session)
    existing = {station.slug: station for station in session.scalars(select(Station))}
    seen: dict[str, int] = {}
    for row in table.rows():
        values = _station_from_row(row, report, areas)
        if values is None:
            continue
        if values["slug"] in seen:
            report.reject(row, f"station '{values['slug']}' is already on line {seen[values['slug']]}")
            continue
        seen[values["slug"]] = row.line
        _upsert(session, Station, existing.get(values["slug"]), values, report)
    report.header = table.header
    return report


def _upsert(session: Session, model: type[Any], current: Any, values: dict[str, Any], report: ImportReport) -> None:
    if current is None:
        session.add(model(**values))
        report.new += 1
    elif any(getattr(current, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(current, name, value)
        report.updated += 1
    else:
        report.unchanged += 1


# ---- Facebook pages ---------------------------------------------------------------------------

PAGE_COLUMNS = {
    "slug": ("slug", "ma"),
    "page_id": ("page_id", "id", "ma_trang"),
    "name": ("name", "ten", "ten_trang"),
    "token_secret": ("token_secret", "token_env", "bien_token"),
}


def import_pages(session: Session, path: Path) -> ImportReport:
    report = ImportReport("pages", str(path))
    table = Table(path, PAGE_COLUMNS, ("slug", "page_id", "name", "token_secret"))
    existing = {page.slug: page for page in session.scalars(select(FacebookPage))}
    for row in table.rows():
        values = dict(row.values)
        if not re.fullmatch(SLUG, values["slug"]):
            report.reject(row, f"page code '{values['slug']}' must be lower-case letters, digits and hyphens")
        elif not values["page_id"].isdigit():
            report.reject(row, f"page id '{values['page_id']}' must be the page's numeric id")
        elif not re.fullmatch(r"[A-Z][A-Z0-9_]*", values["token_secret"]):
            report.reject(row, "token_secret must name an environment variable (like BROADCASTER_FACEBOOK_TOKEN)")
        else:
            _upsert(session, FacebookPage, existing.get(values["slug"]), values, report)
    report.header = table.header
    return report


# ---- subscribers -------------------------------------------------------------------------------

SUBSCRIBER_COLUMNS = {
    "phone": ("phone", "so_dien_thoai", "sdt", "dien_thoai", "so_thue_bao", "thue_bao"),
    "area": ("area", "khu_vuc", "dia_ban"),
    "locale": ("locale", "ngon_ngu"),
    "opted_out": ("opted_out", "tu_choi", "huy_dang_ky", "khong_nhan"),
    "opted_out_on": ("opted_out_on", "ngay_tu_choi", "ngay_huy"),
}
_YES = {"1", "x", "yes", "y", "true", "co", "có"}


# The columns a subscriber is read with, wherever it is read: import comparisons and audiences.
SUBSCRIBER_ROW = (
    Subscriber.id,
    Subscriber.phone,
    Subscriber.area_id,
    Subscriber.locale,
    Subscriber.opted_out,
    Subscriber.opted_out_on,
)


@dataclass(frozen=True)
class _Subscriber:
    phone: str
    area_id: int | None
    locale: str
    opted_out: bool
    opted_out_on: date | None


def _subscriber_from_row(row: Row, report: ImportReport, areas: AreaIndex) -> _Subscriber | None:
    try:
        phone = normalise_mobile(row.values["phone"])
    except PhoneError as exc:
        report.reject(row, str(exc))
        return None
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    opted_out = row.values.get("opted_out", "").strip().lower() in _YES
    opted_out_on = None
    if opted_out and (day := row.values.get("opted_out_on", "")):
        try:
            opted_out_on = date.fromisoformat(day)
        except ValueError:
            report.reject(row, f"opt-out date '{day}' must be written YYYY-MM-DD")
            return None
    if phone.converted_from:
        report.converted.append((row.line, phone.converted_from, phone.e164))
    locale = row.values.get("locale") or "vi"
    return _Subscriber(phone.e164, area_id, locale, opted_out, opted_out_on or (date.today() if opted_out else None))


def import_subscribers(session: Session, path: Path, list_slug: str, list_name: str | None) -> ImportReport:
    """Streams the file in chunks; an opt-out already recorded is never undone by a re-import."""
    if not re.fullmatch(SLUG, list_slug):
        raise UserError(f"list name '{list_slug}' must be lower-case letters, digits and hyphens")
    report = ImportReport("subscribers", str(path))
    table = Table(path, SUBSCRIBER_COLUMNS, ("phone",))
    areas = AreaIndex(session)
    subscriber_list = session.scalar(select(SubscriberList).where(SubscriberList.slug == list_slug))
    if subscriber_list is None:
        subscriber_list = SubscriberList(slug=list_slug, name=list_name or list_slug)
        session.add(subscriber_list)
        session.flush()
    elif list_name and subscriber_list.name != list_name:
        subscriber_list.name = list_name
    seen: set[int] = set()
    late_opt_outs: list[_Subscriber] = []
    parsed = (_subscriber_from_row(row, report, areas) for row in table.rows())
    for chunk in _chunks((s for s in parsed if s is not None), CHUNK):
        fresh: list[_Subscriber] = []
        for subscriber in chunk:
            number = int(subscriber.phone[1:])
            if number in seen:
                report.merged += 1
                if subscriber.opted_out:
                    late_opt_outs.append(subscriber)
            else:
                seen.add(number)
                fresh.append(subscriber)
        _store_subscribers(session, subscriber_list.id, fresh, report)
    _store_subscribers(session, subscriber_list.id, late_opt_outs, report, count=False)
    report.header = table.header
    return report


def _store_subscribers(
    session: Session, list_id: int, chunk: list[_Subscriber], report: ImportReport, count: bool = True
) -> None:
    if not chunk:
        return
    current = {
        row.phone: row
        for row in session.execute(
            select(*SUBSCRIBER_ROW).where(Subscriber.list_id == list_id, Subscriber.phone.in_([s.phone for s in chunk]))
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for subscriber in chunk:
        row = current.get(subscriber.phone)
        if row is None:
            inserts.append({"list_id": list_id, **subscriber.__dict__})
            continue
        kept_out = row.opted_out and not subscriber.opted_out
        report.kept_opted_out += kept_out
        wanted = {
            "area_id": subscriber.area_id if count else row.area_id,
            "locale": subscriber.locale if count else row.locale,
            "opted_out": row.opted_out or subscriber.opted_out,
            "opted_out_on": row.opted_out_on or subscriber.opted_out_on,
        }
        if wanted != {name: getattr(row, name) for name in wanted}:
            updates.append({"id": row.id, **wanted})
            report.updated += count
        else:
            report.unchanged += count
    report.new += len(inserts)
    if inserts:
        session.execute(insert(Subscriber), inserts)
    if updates:
        session.execute(update(Subscriber), updates)


IMPORTERS: dict[str, Callable[[Session, Path], ImportReport]] = {
    "areas": import_areas,
    "issuers": import_issuer,
    "agencies": import_agencies,
    "stations": import_stations,
    "pages": import_pages,
}
