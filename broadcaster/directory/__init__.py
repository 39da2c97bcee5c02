"""The directory: areas, issuers, agencies, radio stations, subscriber lists and Facebook pages,
imported from the files staff keep (CSV from spreadsheets, YAML issuer profiles).

Every import runs in one transaction: a file that cannot be read to the end changes nothing. Rows
that cannot be imported are reported by line with the reason; re-importing a file changes nothing.
CSV imports read uploaded content (`csvfiles.Upload`) as well as files: `import_csv` is the one
entry point for every kind but issuers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from broadcaster.clock import system_now
from broadcaster.csvfiles import Columns, Row, Table, Upload
from broadcaster.errors import UserError
from broadcaster.locales import Locale, normalise_locale
from broadcaster.models import (
    Agency,
    AgencyGroup,
    Area,
    AreaSuccessor,
    FacebookPage,
    Issuer,
    Station,
    Subscriber,
    SubscriberList,
)
from broadcaster.paths import safe_folder
from broadcaster.phones import PhoneError, normalise_mobile, parse_number
from broadcaster.problems import InvalidInput, Problem, from_validation_error
from broadcaster.settings import page_token_problem
from broadcaster.text import one_line, slugify, strip_diacritics
from broadcaster.yaml_files import SLUG, OneLine, read_yaml

CHUNK = 2000
T = TypeVar("T")
Source = Upload | Path  # CSV content: uploaded, or a file the program ships


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
    warnings: list[tuple[int, str, list[str]]] = field(default_factory=list)  # line, what to check, raw cells
    header: list[str] = field(default_factory=list)
    columns_read: dict[str, str] = field(default_factory=dict)  # header cell → column it was read as

    @property
    def imported(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def columns_not_read(self) -> list[str]:
        return [cell for cell in self.header if cell and cell not in self.columns_read]

    def read_from(self, table: Table) -> None:
        self.header, self.columns_read = table.header, table.columns_read

    def reject(self, row: Row, reason: str) -> None:
        self.rejects.append((row.line, reason, row.raw))

    def warn(self, row: Row, warning: str) -> None:
        self.warnings.append((row.line, warning, row.raw))

    def rejects_table(self) -> tuple[list[str], list[list[str]]]:
        """The rejected rows as they were, after their line and the reason: a file to correct and import again."""
        rows = [[str(line), reason, *raw] for line, reason, raw in self.rejects]
        return ["line", "reason", *self.header], rows

    def notes_table(self) -> tuple[list[str], list[list[str]]]:
        """Every conversion, warning and rejection, by line: the complete account of the import."""
        notes = [(line, "converted", f"old number {old} converted to {new}") for line, old, new in self.converted]
        notes += [(line, "warning", warning) for line, warning, _raw in self.warnings]
        notes += [(line, "rejected", reason) for line, reason, _raw in self.rejects]
        notes.sort(key=lambda note: note[0])
        return ["file", "line", "outcome", "detail"], [[self.source, str(line), *rest] for line, *rest in notes]


class NothingImported(UserError):
    """Every row of a file was rejected: nothing is changed, and the report says why for each row."""

    def __init__(self, report: ImportReport):
        self.report = report
        count = len(report.rejects)
        super().__init__(
            f"{report.source}: none of its {count} row{'s' if count != 1 else ''} could be imported, "
            "so nothing was changed; the reasons are listed by line"
        )


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

AREA_COLUMNS = Columns(
    {
        "code": ("Mã", "Mã khu vực", "Mã địa bàn", "Mã đơn vị hành chính"),
        "name": ("Tên", "Tên khu vực", "Tên địa bàn", "Tên đơn vị hành chính"),
        "kind": ("Loại", "Cấp", "Loại địa bàn", "Cấp hành chính"),
        "parent": ("Thuộc", "Trực thuộc", "Cấp trên", "Mã cấp trên", "Đơn vị cấp trên"),
        "valid_from": ("Hiệu lực từ", "Từ ngày"),
        "valid_until": ("Hiệu lực đến", "Đến ngày"),
        "successors": ("successor", "Thay thế bởi", "Đơn vị mới", "Sáp nhập vào"),
    },
    required=("code", "name"),
    kind="areas",
)


def _day(text: str) -> date:
    """A date as staff write it: 2025-06-30 or 30/06/2025; ValueError with a sentence otherwise."""
    try:
        if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text.strip()):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date (write 2025-06-30 or 30/06/2025)") from None


@dataclass
class _AreaRow:
    row: Row
    code: str
    name: str
    parent_id: int | None
    valid_from: date | None
    valid_until: date | None
    successors: list[str]


def _area_row(row: Row, index: AreaIndex, codes_in_file: set[str]) -> _AreaRow | str:
    """The row read, or the sentence saying why it cannot be imported."""
    code, name = row.values["code"], row.values["name"]
    if not re.fullmatch(SLUG, code):
        return f"area code '{code}' must be lower-case letters, digits and hyphens"
    parent_id = None
    if parent := row.values.get("parent", ""):
        parent_id = index.find(parent)
        if parent_id is None:
            return f"parent area '{parent}' is not known (list parents before their children)"
    try:
        starts = _day(row.values["valid_from"]) if row.values.get("valid_from") else None
        ends = _day(row.values["valid_until"]) if row.values.get("valid_until") else None
    except ValueError as exc:
        return str(exc)
    if starts and ends and ends < starts:
        return f"area '{code}' ends ({ends:%d/%m/%Y}) before it starts ({starts:%d/%m/%Y})"
    successors = _split(row.values.get("successors", ""))
    for successor in successors:
        if successor == code:
            return f"area '{code}' cannot replace itself"
        if successor not in codes_in_file and index.find(successor) is None:
            return f"successor area '{successor}' is neither in this file nor in the area list"
    if successors and ends is None:
        return f"area '{code}' names successors but no valid_until (the last day it existed)"
    return _AreaRow(row, code, name, parent_id, starts, ends, successors)


def import_areas(session: Session, source: Source) -> ImportReport:
    table = Table(source, AREA_COLUMNS)
    report = ImportReport("areas", table.name)
    index = AreaIndex(session)
    existing = {area.code: area for area in session.scalars(select(Area))}
    rows = list(table.rows(report.reject))
    codes_in_file = {row.values["code"] for row in rows}
    imported: list[tuple[_AreaRow, Area, str]] = []
    for row in rows:
        read = _area_row(row, index, codes_in_file)
        if isinstance(read, str):
            report.reject(row, read)
            continue
        kind = row.values.get("kind") or ("province" if read.parent_id is None else "district")
        values = (read.name, kind, read.parent_id, read.valid_from, read.valid_until)
        area = existing.get(read.code)
        if area is None:
            area = Area(code=read.code, name=read.name, kind=kind, parent_id=read.parent_id)
            area.valid_from, area.valid_until = read.valid_from, read.valid_until
            session.add(area)
            session.flush()
            existing[read.code] = area
            imported.append((read, area, "new"))
        else:
            before = (area.name, area.kind, area.parent_id, area.valid_from, area.valid_until)
            area.name, area.kind, area.parent_id, area.valid_from, area.valid_until = values
            imported.append((read, area, "updated" if before != values else "unchanged"))
        index.add(area)
    # A successor may come later in the file than the area it replaces: linked once every row is in.
    for read, area, state in imported:
        successors = sorted((existing[code] for code in set(read.successors)), key=lambda other: other.code)
        if [other.code for other in area.successors] != [other.code for other in successors]:
            area.successors = successors
            state = "updated" if state == "unchanged" else state
        report.new += state == "new"
        report.updated += state == "updated"
        report.unchanged += state == "unchanged"
    report.read_from(table)
    return report


def areas_within(session: Session, codes: Iterable[str], on: date) -> set[int]:
    """Ids of the named areas, everything below them, and — for an area that had ended by `on` — the areas
    that replaced it and everything below those (DOMAIN §13)."""
    areas = {area.id: area for area in session.scalars(select(Area))}
    children: dict[int | None, list[int]] = {}
    for area in areas.values():
        children.setdefault(area.parent_id, []).append(area.id)
    replaced_by: dict[int, list[int]] = {}
    for link in session.scalars(select(AreaSuccessor)):
        replaced_by.setdefault(link.area_id, []).append(link.successor_id)
    wanted = {area.id for area in areas.values() if area.code in set(codes)}
    frontier = list(wanted)
    while frontier:
        current = frontier.pop()
        following = children.get(current, [])
        if areas[current].ended(on):
            following = following + replaced_by.get(current, [])
        for other in following:
            if other not in wanted:
                wanted.add(other)
                frontier.append(other)
    return wanted


def replaced_areas(session: Session, codes: Iterable[str], on: date) -> list[tuple[Area, list[Area]]]:
    """The areas an audience names (or that lie below them) that had ended by `on`, each with the areas that
    replaced it: what `areas_within` follows, for validation to show."""
    within = areas_within(session, codes, on)
    ended = session.scalars(select(Area).where(Area.id.in_(within), Area.valid_until < on).order_by(Area.code))
    return [(area, list(area.successors)) for area in ended if area.successors]


# ---- issuers -------------------------------------------------------------------------------------


class Hotline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str
    label: OneLine = ""
    contact: OneLine = ""  # who answers, as the letter names them
    # The same in English, for English renderings ("Department Inspectorate"); empty: as above.
    label_en: OneLine = ""
    contact_en: OneLine = ""

    @field_validator("number")
    @classmethod
    def _a_phone_number(cls, value: str) -> str:
        try:
            parse_number(re.sub(r"[\s.]", "", value))
        except PhoneError as exc:
            raise ValueError(str(exc)) from None
        return re.sub(r"[\s.]", "", value)


class OfficialNumber(BaseModel):
    """A number the issuer uses besides its hotlines (switchboard, a unit's desk), with what it is for."""

    model_config = ConfigDict(extra="forbid")
    number: str
    purpose: OneLine

    @field_validator("number")
    @classmethod
    def _a_phone_number(cls, value: str) -> str:
        return Hotline._a_phone_number(value)


class Signer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authority: OneLine = ""
    title: OneLine
    name: OneLine = ""


class IssuerEnglish(BaseModel):
    """The issuer's names in English, for English letterheads and texts; a name left out stays as written."""

    model_config = ConfigDict(extra="forbid")
    body: OneLine = ""
    unit: OneLine = ""
    unit_name: OneLine = ""
    unit_short: OneLine = ""


class IssuerProfile(BaseModel):
    """An issuer profile file (see config/issuers/)."""

    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(pattern=SLUG)
    # What reaches an e-mail header (the unit's name is the letters' sender) or the letterhead's lines.
    body: OneLine
    unit: OneLine
    unit_name: OneLine
    unit_short: OneLine
    symbol: OneLine
    place: OneLine
    signer: Signer
    hotlines: list[Hotline] = Field(min_length=1)
    region: str = Field("south", pattern="^(south|north)$")
    locale: Locale = "vi"
    area: str | None = None
    email: OneLine | None = None
    website: OneLine | None = None
    hashtags: list[str] = Field(default_factory=list)
    readings: dict[str, str] = Field(default_factory=dict)  # abbreviation or word → words read aloud (DOMAIN §15)
    # A document symbol read aloud: "brief" says the issuing body once ("số 881 của Sở …"), "none" the number.
    symbol_reading: Literal["brief", "none"] = "brief"
    english: IssuerEnglish = Field(default_factory=IssuerEnglish)

    @field_validator("readings")
    @classmethod
    def _readings_are_words(cls, value: dict[str, str]) -> dict[str, str]:
        for abbreviation, words in value.items():
            if (problem := reading_problem(abbreviation, words)) is not None:
                raise ValueError(problem)
        return value

    official_numbers: list[OfficialNumber] = Field(default_factory=list)


def reading_problem(abbreviation: str, words: str) -> str | None:
    """Why `words` cannot be the reading of `abbreviation` in an issuer's reading dictionary, or None."""
    if not abbreviation.strip() or abbreviation != " ".join(abbreviation.split()):
        return f"'{abbreviation}' is not an abbreviation or a word (no spaces around, one between)"
    if not words.strip() or any(char.isdigit() for char in words):
        return f"the reading of '{abbreviation}' must be words an announcer reads, not '{words}'"
    return None


def import_issuer(session: Session, path: Path, *, numbers_by: str | None = None) -> ImportReport:
    try:
        profile = IssuerProfile.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise InvalidInput(str(path), from_validation_error(exc)) from None
    return store_issuer(session, profile, str(path), numbers_by=numbers_by)


NUMBERS_WAIT = (
    "the hotlines and official numbers wait for another person's approval before anything uses them "
    "(broadcaster directory numbers {issuer} --approve, or the issuer's page in the console)"
)


def issuer_numbers(profile: IssuerProfile) -> dict[str, Any]:
    """What citizens are told is genuine: the hotlines and official numbers, as stored."""
    return {
        # English labels only where given: hotlines stored before they existed compare equal.
        "hotlines": [_without_empty(hotline.model_dump(), ("label_en", "contact_en")) for hotline in profile.hotlines],
        "official_numbers": [number.model_dump() for number in profile.official_numbers],
    }


def _without_empty(values: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value or name not in optional}


def store_issuer(
    session: Session, profile: IssuerProfile, source: str, *, numbers_by: str | None = None
) -> ImportReport:
    """A checked issuer profile (from a file or a form), added or updated.

    Its numbers are taken as they are only when `numbers_by` is None (the server's own terminal, the shipped
    examples). Changed by an account, they are stored as a proposal of that account, which another must
    approve (`operations.directory.approve_numbers`); the numbers in force stay until then."""
    report = ImportReport("issuers", source)
    area_id = None
    if profile.area:
        area_id = AreaIndex(session).find(profile.area)
        if area_id is None:
            unknown = f"area '{profile.area}' is not in the area list (import areas first)"
            raise InvalidInput(source, [Problem("area", unknown)])
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
        "region": profile.region,
        "default_locale": profile.locale,
        "email": profile.email,
        "website": profile.website,
        "hashtags": profile.hashtags,
        "readings": profile.readings,
        "symbol_reading": profile.symbol_reading,
        "english": {name: value for name, value in profile.english.model_dump().items() if value},
        "area_id": area_id,
    }
    issuer = session.scalar(select(Issuer).where(Issuer.slug == profile.issuer))
    numbers = issuer_numbers(profile)
    in_force = {"hotlines": issuer.hotlines, "official_numbers": issuer.official_numbers} if issuer else None
    if numbers_by is None:
        values |= numbers | {"proposed_numbers": None, "proposed_by": None, "proposed_at": None}
    elif numbers == in_force:
        values |= {"proposed_numbers": None, "proposed_by": None, "proposed_at": None}
    else:
        if issuer is None:
            values |= {"hotlines": [], "official_numbers": []}
        if issuer is None or issuer.proposed_numbers != numbers or issuer.proposed_by != numbers_by:
            values |= {"proposed_numbers": numbers, "proposed_by": numbers_by, "proposed_at": system_now()}
        report.warnings.append((0, NUMBERS_WAIT.format(issuer=profile.issuer), []))
    _upsert(session, Issuer, issuer, {"slug": profile.issuer, **values}, report)
    return report


# ---- agencies ------------------------------------------------------------------------------------

ENGLISH_NAME = ("English name", "Tên tiếng Anh")
# Columns a file may leave out: an entry keeps what it has when its file has no such column.
LANGUAGE_COLUMNS = ("name_en", "locale")


def _language_cells(row: Row) -> dict[str, str | None]:
    """The English name and locale a row gives, for the columns its file has (an empty cell clears them);
    ValueError when the locale is not a language tag."""
    values: dict[str, str | None] = {}
    if "name_en" in row.values:
        name_en = row.values["name_en"] or None
        if name_en is not None:
            one_line(name_en)  # like the name, it can be a letter's To: header
        values["name_en"] = name_en
    if "locale" in row.values:
        values["locale"] = normalise_locale(row.values["locale"]) if row.values["locale"] else None
    return values


AGENCY_COLUMNS = Columns(
    {
        "name": ("Tên", "Tên đơn vị", "Đơn vị", "Cơ quan", "Tên cơ quan", "Cơ quan, đơn vị"),
        "emails": ("email", "e-mail", "Thư điện tử", "Địa chỉ email", "Địa chỉ thư điện tử"),
        "groups": ("group", "Nhóm", "Nhóm nhận"),
        "area": ("Khu vực", "Địa bàn"),
        "key": ("Mã", "Mã đơn vị"),
        "name_en": ENGLISH_NAME,
        "locale": ("Ngôn ngữ",),
    },
    required=("name", "emails"),
    kind="agencies",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _agency_from_row(row: Row, report: ImportReport, areas: AreaIndex) -> dict[str, Any] | None:
    name = row.values["name"]
    if not name:
        report.reject(row, "the agency has no name")
        return None
    try:
        one_line(name)  # the agency's name is the letter's To: header
    except ValueError as exc:
        report.reject(row, f"the agency's name {exc}")
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
    try:
        language = _language_cells(row)
    except ValueError as exc:
        report.reject(row, f"the agency's English name or locale: {exc}")
        return None
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    key = slugify(row.values.get("key") or name)
    return {"key": key, "name": name, "emails": emails, "groups": groups, "area_id": area_id, **language}


def import_agencies(session: Session, source: Source) -> ImportReport:
    table = Table(source, AGENCY_COLUMNS)
    report = ImportReport("agencies", table.name)
    areas = AreaIndex(session)
    wanted: dict[str, dict[str, Any]] = {}
    for row in table.rows(report.reject):
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
        elif groups != agency.groups or any(getattr(agency, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(agency, name, value)
            if groups != agency.groups:
                agency.group_rows = [AgencyGroup(group=group) for group in groups]
            report.updated += 1
        else:
            report.unchanged += 1
    report.read_from(table)
    return report


# ---- stations --------------------------------------------------------------------------------

STATION_COLUMNS = Columns(
    {
        "slug": ("Mã", "Mã đài"),
        "name": ("Tên", "Tên đài"),
        "area": ("Khu vực", "Địa bàn"),
        "locales": ("locale", "Ngôn ngữ"),
        "folder": ("Thư mục",),
        "slots": ("Khung giờ", "Giờ phát", "Khung giờ phát"),
    },
    required=("slug", "name", "slots"),
    kind="stations",
)
# A slot's name is a word of any language ("morning", "sáng", "chiều-2"), then its time.
_SLOT = re.compile(r"^([^\W_][\w-]*)\s+([01]?\d|2[0-3])[:h]([0-5]\d)$")


def parse_slots(cell: str) -> dict[str, str]:
    """'morning 05:30; evening 17:00' → {'morning': '05:30', 'evening': '17:00'}."""
    slots: dict[str, str] = {}
    for part in _split(cell):
        match = _SLOT.match(unicodedata.normalize("NFC", part.strip().lower()))
        if not match:
            raise ValueError(f"slot '{part}' must be a name and a time, like 'morning 05:30'")
        if match[1] in slots:
            raise ValueError(
                f"the slot name '{match[1]}' is given twice ({slots[match[1]]} and {part.strip()}): "
                "give each slot its own name, like 'morning 05:30; morning2 06:30'"
            )
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
    try:
        locales = [read_locale(cell) for cell in _split(row.values.get("locales", "")) or [""]]
    except ValueError as exc:
        report.reject(row, str(exc))
        return None
    return {
        "slug": slug,
        "name": row.values["name"] or slug,
        "area_id": area_id,
        "locales": locales,
        "folder": folder,
        "slots": slots,
    }


def import_stations(session: Session, source: Source) -> ImportReport:
    table = Table(source, STATION_COLUMNS)
    report = ImportReport("stations", table.name)
    areas = AreaIndex(session)
    existing = {station.slug: station for station in session.scalars(select(Station))}
    seen: dict[str, int] = {}
    for row in table.rows(report.reject):
        values = _station_from_row(row, report, areas)
        if values is None:
            continue
        if values["slug"] in seen:
            report.reject(row, f"station '{values['slug']}' is already on line {seen[values['slug']]}")
            continue
        seen[values["slug"]] = row.line
        _upsert(session, Station, existing.get(values["slug"]), values, report)
    report.read_from(table)
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

PAGE_COLUMNS = Columns(
    {
        "slug": ("Mã",),
        "page_id": ("id", "Mã trang", "ID trang"),
        "name": ("Tên", "Tên trang"),
        "token_secret": ("token_env", "Biến token"),
        "name_en": ENGLISH_NAME,
        "locale": ("Ngôn ngữ",),
    },
    required=("slug", "page_id", "name", "token_secret"),
    kind="pages",
)


def import_pages(session: Session, source: Source) -> ImportReport:
    table = Table(source, PAGE_COLUMNS)
    report = ImportReport("pages", table.name)
    existing = {page.slug: page for page in session.scalars(select(FacebookPage))}
    for row in table.rows(report.reject):
        values: dict[str, Any] = {name: cell for name, cell in row.values.items() if name not in LANGUAGE_COLUMNS}
        try:
            values |= _language_cells(row)
        except ValueError as exc:
            report.reject(row, f"the page's English name or locale: {exc}")
            continue
        if not re.fullmatch(SLUG, values["slug"]):
            report.reject(row, f"page code '{values['slug']}' must be lower-case letters, digits and hyphens")
        elif not values["page_id"].isdigit():
            report.reject(row, f"page id '{values['page_id']}' must be the page's numeric id")
        elif problem := page_token_problem(values["token_secret"]):
            report.reject(row, problem)
        else:
            _upsert(session, FacebookPage, existing.get(values["slug"]), values, report)
    report.read_from(table)
    return report


# ---- subscribers -------------------------------------------------------------------------------

SUBSCRIBER_COLUMNS = Columns(
    {
        "phone": ("Số điện thoại", "SĐT", "Điện thoại", "ĐT", "Số di động", "Di động", "Số thuê bao", "Thuê bao"),
        "area": ("Khu vực", "Địa bàn"),
        "locale": ("Ngôn ngữ",),
        "opted_out": (
            "opted out",
            "opt-out",
            "Từ chối",
            "Từ chối nhận tin",
            "Đã từ chối",
            "Hủy đăng ký",
            "Không nhận",
            "Không nhận tin",
        ),
        "opted_out_on": ("Ngày từ chối", "Ngày hủy", "Ngày hủy đăng ký"),
        "name": ("Họ và tên", "Họ tên", "Tên", "Tên thuê bao", "Chủ thuê bao"),
    },
    required=("phone",),
    kind="subscribers",
)

# What people write in an opt-out column (compared after NFC, case folding and, failing that, without
# diacritics, so "huỷ", "hủy" and "HUY" are one word). Anything else rejects the row: an unknown value
# is never read as consent to receive (DOMAIN §5).
OPTED_OUT_WORDS = (
    "x", "×", "✓", "✔", "☑", "✅", "1", "yes", "y", "true", "opted out", "opted-out", "opt out", "opt-out",
    "có", "rồi", "từ chối", "đã từ chối", "hủy", "huỷ", "đã hủy", "đã huỷ", "hủy đăng ký", "đã hủy đăng ký",
    "không nhận", "không nhận tin",
)  # fmt: skip
NOT_OPTED_OUT_WORDS = ("", "không", "ko", "k", "chưa", "no", "n", "0", "false", "không từ chối", "chưa từ chối")


def _word_key(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


_OPT_OUT_ANSWERS = {_word_key(word): True for word in OPTED_OUT_WORDS} | {
    _word_key(word): False for word in NOT_OPTED_OUT_WORDS
}
_OPT_OUT_BARE = {strip_diacritics(key): answer for key, answer in _OPT_OUT_ANSWERS.items()}


@lru_cache(maxsize=512)  # a list holds the same few values on every row
def read_opt_out(cell: str) -> bool:
    """Whether an opt-out cell says the number opted out; ValueError with a sentence for anything unknown."""
    key = _word_key(cell)
    answer = _OPT_OUT_ANSWERS.get(key)
    if answer is None:
        answer = _OPT_OUT_BARE.get(strip_diacritics(key))
    if answer is None:
        raise ValueError(
            f"opt-out '{cell}' is not a value this import knows; write one of x, có, từ chối, hủy, yes "
            "for a number that opted out, or leave it empty (or không, chưa, no) for one that did not"
        )
    return answer


# The columns a subscriber is read with, wherever it is read: import comparisons and audiences.
SUBSCRIBER_ROW = (
    Subscriber.id,
    Subscriber.phone,
    Subscriber.area_id,
    Subscriber.locale,
    Subscriber.opted_out,
    Subscriber.opted_out_on,
    Subscriber.name,
)


@dataclass(frozen=True)
class _Subscriber:
    phone: str
    area_id: int | None
    locale: str
    opted_out: bool
    opted_out_on: date | None
    name: str | None  # the subscriber's name as the file gives it ("Họ và tên"), kept for staff to read


def _opt_out_of(row: Row) -> tuple[bool, date | None]:
    """(opted out, since when) from the row's opt-out cells; ValueError with a sentence."""
    day = row.values.get("opted_out_on", "")
    opted_out_on = _read_day(day) if day else None
    if "opted_out" not in row.values:
        return opted_out_on is not None, opted_out_on  # only a date column: a date is an opt-out
    opted_out = read_opt_out(row.values["opted_out"])
    if opted_out_on is not None and not opted_out:
        raise ValueError(f"the opt-out date is {day} but the opt-out cell says the number did not opt out")
    # Without a date, the opt-out is dated the day it was imported (a stamp of record, in UTC).
    return opted_out, opted_out_on or (system_now().date() if opted_out else None)


def _read_day(text: str) -> date:
    try:
        if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):  # 14/05/2024, as written in Vietnam
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"opt-out date '{text}' must be a real day written DD/MM/YYYY or YYYY-MM-DD") from None


def read_locale(cell: str) -> str:
    """The locale a row asks for, 'vi' when empty: the one place a CSV import reads a locale.

    ValueError when the cell is not a language tag (a path, a formula, an unknown language)."""
    return normalise_locale(cell or "vi")


def _subscriber_name(cell: str) -> str | None:
    try:
        return one_line(cell.strip())[:200] or None
    except ValueError as exc:
        raise ValueError(f"the name {exc}") from None


def _subscriber_from_row(row: Row, report: ImportReport, areas: AreaIndex, strict: bool) -> _Subscriber | None:
    try:
        phone = normalise_mobile(row.values["phone"], strict=strict)
        opted_out, opted_out_on = _opt_out_of(row)
        locale = read_locale(row.values.get("locale", ""))
        name = _subscriber_name(row.values.get("name", ""))
    except ValueError as exc:  # PhoneError is one
        report.reject(row, str(exc))
        return None
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    if phone.converted_from:
        report.converted.append((row.line, phone.converted_from, phone.e164))
    if phone.unlisted:
        report.warn(
            row,
            f"'{row.values['phone']}' looks like a mobile number but its range is not in the numbering plan "
            "this program knows; it was imported: check the number",
        )
    return _Subscriber(phone.e164, area_id, locale, opted_out, opted_out_on, name)


def import_subscribers(
    session: Session, source: Source, list_slug: str, list_name: str | None, strict_phones: bool = False
) -> ImportReport:
    """Streams the file in chunks; an opt-out already recorded is never undone by a re-import.

    `strict_phones` refuses mobile-shaped numbers in ranges the numbering metadata does not list,
    instead of importing them with a warning (the setting BROADCASTER_STRICT_PHONE_RANGES).
    """
    if not re.fullmatch(SLUG, list_slug):
        raise UserError(f"list name '{list_slug}' must be lower-case letters, digits and hyphens")
    table = Table(source, SUBSCRIBER_COLUMNS)
    report = ImportReport("subscribers", table.name)
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
    parsed = (_subscriber_from_row(row, report, areas, strict_phones) for row in table.rows(report.reject))
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
    report.read_from(table)
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
            # A file without names does not erase the names an earlier file gave.
            "name": (subscriber.name or row.name) if count else row.name,
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


CSV_IMPORTERS: dict[str, Callable[[Session, Source], ImportReport]] = {
    "areas": import_areas,
    "agencies": import_agencies,
    "stations": import_stations,
    "pages": import_pages,
}
CSV_KINDS = (*CSV_IMPORTERS, "subscribers")


def import_csv(
    session: Session,
    kind: str,
    source: Source,
    list_slug: str | None = None,
    list_name: str | None = None,
    strict_phones: bool = False,
) -> ImportReport:
    """Imports one CSV file or upload of a kind (areas, agencies, stations, pages, subscribers).

    Raises UserError for a file that cannot be imported at all (nothing read), and NothingImported,
    carrying the report, when every row was rejected; either way the caller's transaction must roll back.
    """
    if kind == "subscribers":
        if not list_slug:
            raise UserError("subscribers go into a list: name it (for example thue-bao-tay-ninh)")
        report = import_subscribers(session, source, list_slug, list_name, strict_phones)
    elif kind in CSV_IMPORTERS:
        report = CSV_IMPORTERS[kind](session, source)
    else:
        raise UserError(f"'{kind}' is not something a CSV file is imported into; choose one of {', '.join(CSV_KINDS)}")
    if report.rejects and not report.imported:
        raise NothingImported(report)
    return report
