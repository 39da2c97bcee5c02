"""The directory: imports from a path or an uploaded file (one transaction each), and listings."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from broadcaster import audit, directory
from broadcaster.accounts import TERMINAL_LOGIN, Actor, bind_actor
from broadcaster.csvfiles import Upload, open_upload
from broadcaster.directory import ImportReport
from broadcaster.errors import NotFound, TransitionRefused, UserError
from broadcaster.examples import example_directory
from broadcaster.models import (
    Agency,
    Area,
    FacebookPage,
    Issuer,
    MessageTemplate,
    Station,
    Subscriber,
    SubscriberList,
)
from broadcaster.paths import upload_name
from broadcaster.problems import InvalidInput, Problem, from_validation_error
from broadcaster.settings import Settings
from broadcaster.text import strip_diacritics

KINDS = ("areas", "issuers", "agencies", "stations", "subscribers", "pages")
# What is imported but not exported, nor listed with the kinds above (a Zalo OA's ZNS templates: Zalo's own copy
# is the reference; `zalo_templates` lists them for the console).
IMPORTED_ONLY = ("zalo-templates",)


@dataclass(frozen=True)
class Listing:
    """A listing as rows of text under named columns: what a table on a terminal or a page shows."""

    kind: str
    columns: list[str]
    rows: list[list[str]]


def check_kind(kind: str, list_slug: str | None = None, *, importing: bool = False) -> None:
    known = (*KINDS, *IMPORTED_ONLY) if importing else KINDS
    if kind not in known:
        raise UserError(f"'{kind}' is not something the directory holds; choose one of {', '.join(known)}")
    if importing and kind == "subscribers" and not list_slug:
        raise UserError("subscribers go into a list: add --list NAME (for example --list thue-bao-tay-ninh)")


def import_csv(
    session: Session,
    actor: Actor,
    kind: str,
    upload: Upload,
    *,
    list_slug: str | None = None,
    list_name: str | None = None,
    strict_phones: bool = False,
) -> ImportReport:
    """Import one CSV file or upload into the caller's transaction; rejected rows are in the report. Audited.

    Raises `directory.NothingImported` (carrying the report) when every row was rejected: the caller's
    transaction must then roll back, and nothing is changed.
    """
    actor.require("directory:manage")
    check_kind(kind, list_slug, importing=True)
    if kind == "issuers":
        raise UserError("issuer profiles are YAML files: import them as issuers, one profile per file")
    report = directory.import_csv(
        session, kind, upload, list_slug=list_slug, list_name=list_name, strict_phones=strict_phones
    )
    _audit(session, actor, report)
    return report


def _numbers_by(actor: Actor) -> str | None:
    """Who proposes an issuer's numbers: the acting account; None for the server's own terminal, whose imports
    set them at once (whoever runs commands there holds the database anyway)."""
    return None if actor.login == TERMINAL_LOGIN else actor.login


def import_issuer(session: Session, actor: Actor, path: Path, *, source: str | None = None) -> ImportReport:
    """Import one issuer profile (YAML), whole or not at all. Audited; changed numbers wait for approval."""
    actor.require("directory:manage")
    before = _proposals(session)
    report = directory.import_issuer(session, path, numbers_by=_numbers_by(actor))
    if source is not None:
        report.source = source
    _audit(session, actor, report)
    _audit_proposal(session, actor, before)
    return report


def import_upload(
    session: Session,
    actor: Actor,
    kind: str,
    content: bytes,
    filename: str,
    *,
    list_slug: str | None = None,
    list_name: str | None = None,
    strict_phones: bool = False,
) -> ImportReport:
    """An uploaded file, imported exactly as the same file on disk is; the report names the upload."""
    actor.require("directory:manage")
    check_kind(kind, list_slug, importing=True)
    name = upload_name(filename, "issuer.yaml" if kind == "issuers" else f"{kind}.csv")
    if kind != "issuers":
        upload = Upload.of_bytes(name, content)
        return import_csv(
            session, actor, kind, upload, list_slug=list_slug, list_name=list_name, strict_phones=strict_phones
        )
    with tempfile.TemporaryDirectory(prefix="broadcaster-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            return import_issuer(session, actor, path, source=name)
        except InvalidInput as exc:
            raise InvalidInput(
                exc.source.replace(str(path), name),
                [Problem(p.where.replace(str(path), name), p.message) for p in exc.problems],
            ) from None
        except UserError as exc:
            raise UserError(str(exc).replace(str(path), name)) from None


def import_examples(session: Session, actor: Actor) -> list[ImportReport]:
    """The shipped example directory (`examples.example_directory`), each file imported and audited as
    `directory import` would."""

    reports = []
    for example in example_directory():
        if example.kind == "issuers":
            reports.append(import_issuer(session, actor, example.path))
            continue
        with open_upload(example.path) as upload:
            reports.append(import_csv(session, actor, example.kind, upload, list_slug=example.list_slug))
    return reports


def _audit(session: Session, actor: Actor, report: ImportReport) -> None:
    bind_actor(session, actor)
    audit.record(
        session,
        None,
        actor.login,
        "directory-import",
        kind=report.kind,
        source=report.source,
        imported=report.imported,
        new=report.new,
        updated=report.updated,
        rejected=len(report.rejects),
    )


# ---- listings -----------------------------------------------------------------------------------


def listing(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    list_slug: str | None = None,
    limit: int = 200,
    search: str = "",
) -> Listing:
    """What the directory holds of one kind (subscribers: the lists, or one list's numbers). `search` keeps
    the areas whose code or name holds it (without case or diacritics: "tan bien" finds "Tân Biên"), and a
    list's numbers that hold it (typed as people write them: "0979…" finds "+84979…")."""
    actor.require("directory:read")
    check_kind(kind)
    if limit < 1:
        raise UserError("limit must be at least 1")
    area_names = {row.id: row.name for row in session.execute(select(Area.id, Area.name))}

    def area(area_id: int | None) -> str:
        return area_names.get(area_id, "") if area_id else ""

    if kind == "areas":
        return _areas(session, search, limit)
    if kind == "issuers":
        rows = [
            [i.slug, i.unit_name, i.place, i.symbol, ", ".join(h["number"] for h in i.hotlines), i.region]
            for i in session.scalars(select(Issuer).order_by(Issuer.slug).limit(limit))
        ]
        return Listing(kind, ["issuer", "unit", "place", "symbol", "hotlines", "region"], rows)
    if kind == "agencies":
        rows = [
            [g.key, g.name, g.name_en or "", g.locale or "", ", ".join(g.emails), ", ".join(g.groups), area(g.area_id)]
            for g in session.scalars(
                select(Agency).options(selectinload(Agency.group_rows)).order_by(Agency.key).limit(limit)
            )
        ]
        return Listing(kind, ["key", "name", "english name", "locale", "e-mails", "groups", "area"], rows)
    if kind == "stations":
        rows = [
            [
                s.slug,
                s.name,
                area(s.area_id),
                s.folder,
                ", ".join(f"{name} {at}" for name, at in directory.ordered_slots(s.slots)),
            ]
            for s in session.scalars(select(Station).order_by(Station.slug).limit(limit))
        ]
        return Listing(kind, ["station", "name", "area", "folder", "slots"], rows)
    if kind == "pages":
        rows = [
            [p.slug, p.page_id, p.name, p.name_en or "", p.locale or "", p.token_secret]
            for p in session.scalars(select(FacebookPage).order_by(FacebookPage.slug).limit(limit))
        ]
        return Listing(kind, ["page", "id", "name", "english name", "locale", "token variable"], rows)
    return _subscribers(session, list_slug, limit, area, search)


def zalo_templates(session: Session, actor: Actor) -> Listing:
    """The Zalo OA's ZNS templates the directory keeps, by id: each one's name, its parameters with their maximum
    lengths in the template's order (`ten (30), noi_dung (400)`), its text and its OA."""
    actor.require("directory:read")
    query = select(MessageTemplate).where(MessageTemplate.channel == "zalo").order_by(MessageTemplate.template_id)
    rows = [
        [
            row.template_id,
            row.name,
            ", ".join(f"{name} ({length})" for name, length in row.params),
            row.text,
            row.account or "",
        ]
        for row in session.scalars(query)
    ]
    return Listing("zalo-templates", ["template", "name", "parameters", "text", "OA"], rows)


def _folded(text: str) -> str:
    return " ".join(strip_diacritics(text).casefold().replace("-", " ").split())


def _areas(session: Session, search: str, limit: int) -> Listing:
    # A province's areas are a few thousand at most: matched here, where diacritics can be folded alike.
    wanted = _folded(search)
    rows = []
    for found in session.scalars(select(Area).order_by(Area.id)):
        if wanted and wanted not in _folded(found.code) and wanted not in _folded(found.name):
            continue
        rows.append([found.code, found.name, found.kind, found.parent.code if found.parent else ""])
        if len(rows) >= limit:
            break
    return Listing("areas", ["code", "name", "kind", "parent"], rows)


def _phone_pattern(search: str) -> str:
    """What a list's numbers are searched for: digits as stored (+84…), a national 0… read as +84…."""
    digits = "".join(char for char in search if char.isdigit())
    if search.strip().startswith("0") and digits.startswith("0"):
        return "+84" + digits[1:]
    return digits


def _subscribers(
    session: Session, list_slug: str | None, limit: int, area: Callable[[int | None], str], search: str = ""
) -> Listing:
    if list_slug is None:
        rows = []
        for subscriber_list in session.scalars(select(SubscriberList).order_by(SubscriberList.slug)):
            counts = session.execute(
                select(func.count(), func.count().filter(Subscriber.opted_out)).where(
                    Subscriber.list_id == subscriber_list.id
                )
            ).one()
            rows.append([subscriber_list.slug, subscriber_list.name, str(counts[0]), str(counts[1])])
        return Listing("subscribers", ["list", "name", "numbers", "opted out"], rows)
    found = session.scalar(select(SubscriberList).where(SubscriberList.slug == list_slug))
    if found is None:
        raise UserError(f"there is no subscriber list '{list_slug}'")
    query = select(Subscriber).where(Subscriber.list_id == found.id).order_by(Subscriber.id).limit(limit)
    if search.strip():
        query = query.where(Subscriber.phone.contains(_phone_pattern(search), autoescape=True))
    rows = [
        [s.phone, s.name or "", area(s.area_id), s.locale, str(s.opted_out_on or "yes") if s.opted_out else ""]
        for s in session.scalars(query)
    ]
    return Listing("subscribers", ["phone", "name", "area", "locale", "opted out"], rows)


def summary(report: ImportReport) -> str:
    """The one line that sums an import up, as the command prints it and the API returns it."""
    return (
        f"{report.kind} from {report.source}: {report.imported} imported "
        f"({report.new} new, {report.updated} updated, {report.unchanged} unchanged), "
        f"{report.merged} duplicates merged, {len(report.converted)} old numbers converted, "
        f"{len(report.rejects)} rejected"
    )


def mark_test_list(session: Session, actor: Actor, list_slug: str, is_test: bool) -> SubscriberList:
    """Mark a subscriber list as a test list (staff's own phones) or unmark it. Audited."""
    actor.require("directory:manage")
    found = session.scalar(select(SubscriberList).where(SubscriberList.slug == list_slug))
    if found is None:
        raise UserError(f"there is no subscriber list '{list_slug}'")
    bind_actor(session, actor)
    if found.is_test != is_test:
        found.is_test = is_test
        audit.record(session, None, actor.login, "mark-test-list" if is_test else "unmark-test-list", list=list_slug)
    return found


# ---- issuer profiles edited in a form, test lists ---------------------------------------------------------


def issuer_profile(session: Session, actor: Actor, slug: str) -> dict[str, Any]:
    """An issuer as the data of its profile (what a profile file holds), for a form to edit."""
    actor.require("directory:read")
    issuer = session.scalar(select(Issuer).where(Issuer.slug == slug))
    if issuer is None:
        raise NotFound(f"there is no issuer '{slug}'")
    return {
        "issuer": issuer.slug,
        "body": issuer.body,
        "unit": issuer.unit,
        "unit_name": issuer.unit_name,
        "unit_short": issuer.unit_short,
        "symbol": issuer.symbol,
        "place": issuer.place,
        "signer": {"authority": issuer.signer_authority, "title": issuer.signer_title, "name": issuer.signer_name},
        "hotlines": [dict(hotline) for hotline in issuer.hotlines],
        "region": issuer.region,
        "locale": issuer.default_locale,
        "area": issuer.area.code if issuer.area else None,
        "email": issuer.email,
        "website": issuer.website,
        "hashtags": list(issuer.hashtags),
        "readings": dict(issuer.readings),
        "symbol_reading": issuer.symbol_reading,
        "english": dict(issuer.english or {}),
        "official_numbers": [dict(number) for number in issuer.official_numbers],
        # Numbers waiting for approval are the ones to go on editing.
        **(dict(issuer.proposed_numbers) if issuer.proposed_numbers else {}),
    }


def save_issuer_profile(session: Session, actor: Actor, data: dict[str, Any], settings: Settings) -> ImportReport:
    """Add or update an issuer from a form's profile data, checked as a profile file is. Audited.

    What an issuer says (its hotlines above all) is part of every approved version of its campaigns: those
    keep sending what was approved, and their pages tell the drafter and approver what changed, with a
    revision to make (`versions.changes_since_fixed`).
    """
    actor.require("directory:manage")
    try:
        profile = directory.IssuerProfile.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("the profile", from_validation_error(exc)) from None
    before = _proposals(session)
    report = directory.store_issuer(session, profile, "the profile", numbers_by=_numbers_by(actor))
    _audit(session, actor, report)
    _audit_proposal(session, actor, before)
    session.flush()
    return report


# ---- an issuer's numbers: changed by one person, approved by another ---------------------------------------


@dataclass(frozen=True)
class NumbersProposal:
    issuer: str
    in_force: dict[str, Any]  # {"hotlines": […], "official_numbers": […]}
    proposed: dict[str, Any]
    proposed_by: str
    proposed_at: datetime | None


def _issuer(session: Session, slug: str) -> Issuer:
    issuer = session.scalar(select(Issuer).where(Issuer.slug == slug))
    if issuer is None:
        raise NotFound(f"there is no issuer '{slug}'")
    return issuer


def _in_force(issuer: Issuer) -> dict[str, Any]:
    return {"hotlines": list(issuer.hotlines), "official_numbers": list(issuer.official_numbers)}


def _proposals(session: Session) -> dict[str, Any]:
    return {issuer.slug: issuer.proposed_numbers for issuer in session.scalars(select(Issuer))}


def _audit_proposal(session: Session, actor: Actor, before: dict[str, Any]) -> None:
    """An audit entry, with the numbers in force and those proposed, for each proposal this change made."""
    session.flush()
    for issuer in session.scalars(select(Issuer)):
        if issuer.proposed_numbers is not None and issuer.proposed_numbers != before.get(issuer.slug):
            bind_actor(session, actor)
            old, new = _in_force(issuer), issuer.proposed_numbers
            audit.record(session, None, actor.login, "propose-issuer-numbers", issuer=issuer.slug, old=old, new=new)


def numbers_proposal(session: Session, actor: Actor, slug: str) -> NumbersProposal | None:
    """The issuer's numbers waiting for approval, if any."""
    actor.require("directory:read")
    issuer = _issuer(session, slug)
    if issuer.proposed_numbers is None:
        return None
    return NumbersProposal(
        slug, _in_force(issuer), dict(issuer.proposed_numbers), issuer.proposed_by or "?", issuer.proposed_at
    )


def decide_numbers(session: Session, actor: Actor, slug: str, approve: bool) -> NumbersProposal:
    """Approve (the numbers come into force: bulletins and the public page use them) or reject an issuer's
    proposed numbers. Like a campaign's approval, it needs `campaigns:approve` and another person than the
    one who proposed them. Audited with the old and the new numbers.

    Approved campaigns keep sending the numbers they were approved with; their pages say the issuer's
    hotlines changed, with a revision to make (`versions.changes_since_fixed`)."""
    actor.require("campaigns:approve")
    issuer = _issuer(session, slug)
    if issuer.proposed_numbers is None:
        raise TransitionRefused(f"issuer '{slug}' has no numbers waiting for approval")
    proposal = NumbersProposal(
        slug, _in_force(issuer), dict(issuer.proposed_numbers), issuer.proposed_by or "?", issuer.proposed_at
    )
    if approve and proposal.proposed_by == actor.login:
        raise TransitionRefused(
            f"'{actor.login}' proposed these numbers and may not approve them too (two-person rule): "
            "another approver must"
        )
    bind_actor(session, actor)
    if approve:
        issuer.hotlines = proposal.proposed["hotlines"]
        issuer.official_numbers = proposal.proposed["official_numbers"]
    issuer.proposed_numbers = issuer.proposed_by = issuer.proposed_at = None
    action = "approve-issuer-numbers" if approve else "reject-issuer-numbers"
    audit.record(
        session,
        None,
        actor.login,
        action,
        issuer=slug,
        old=proposal.in_force,
        new=proposal.proposed,
        proposed_by=proposal.proposed_by,
    )
    return proposal


def test_lists(session: Session, actor: Actor) -> set[str]:
    """The subscriber lists marked as test lists."""
    actor.require("directory:read")
    return set(session.scalars(select(SubscriberList.slug).where(SubscriberList.is_test.is_(True))))


# ---- one entry added or edited in a form, without a CSV file ----------------------------------------------------

# The fields of each kind's form: the import's own column names, so one entry goes through the same checks,
# the same upsert by key and the same audit as a file of one row (`save_entry`).
ENTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "agencies": ("key", "name", "emails", "groups", "area"),
    "stations": ("slug", "name", "area", "locales", "folder", "slots"),
    "pages": ("slug", "page_id", "name", "token_secret"),
    "subscribers": ("phone", "name", "area", "locale", "opted_out"),
}


def _one_row_csv(fields: tuple[str, ...], values: dict[str, str]) -> bytes:
    from broadcaster.csvfiles import one_row_for_import

    return one_row_for_import(fields, [values.get(name, "").strip() for name in fields])


def save_entry(
    session: Session, actor: Actor, kind: str, values: dict[str, str], *, list_slug: str | None = None
) -> ImportReport:
    """Add an agency, a station, a page or a list's number, or change the one with the same key, as a file of
    one row would. A refused entry is one sentence (the import's reason) and changes nothing. Audited as an
    import."""
    actor.require("directory:manage")
    if kind not in ENTRY_FIELDS:
        raise UserError(f"'{kind}' is not something added one at a time (agencies, stations, pages or subscribers)")
    known_list = select(SubscriberList.id).where(SubscriberList.slug == list_slug)
    if kind == "subscribers" and session.scalar(known_list) is None:  # a form adds to a list, never makes one
        raise UserError(f"there is no subscriber list '{list_slug}'")
    content = _one_row_csv(ENTRY_FIELDS[kind], values)
    try:
        return import_csv(session, actor, kind, Upload.of_bytes(f"{kind}-form.csv", content), list_slug=list_slug)
    except directory.NothingImported as exc:
        raise UserError(exc.report.rejects[0][1] if exc.report.rejects else str(exc)) from None


def entry_values(session: Session, actor: Actor, kind: str, key: str) -> dict[str, str]:
    """An existing entry as its form's fields (NotFound when there is none with this key)."""
    actor.require("directory:read")
    found: dict[str, str] | None = None
    area_codes = {row.id: row.code for row in session.execute(select(Area.id, Area.code))}
    if kind == "agencies":
        agency = session.scalar(select(Agency).where(Agency.key == key))
        if agency is not None:
            found = {
                "key": agency.key,
                "name": agency.name,
                "emails": "; ".join(agency.emails),
                "groups": "; ".join(agency.groups),
                "area": area_codes.get(agency.area_id, "") if agency.area_id else "",
            }
    elif kind == "stations":
        station = session.scalar(select(Station).where(Station.slug == key))
        if station is not None:
            found = {
                "slug": station.slug,
                "name": station.name,
                "area": area_codes.get(station.area_id, "") if station.area_id else "",
                "locales": "; ".join(str(locale) for locale in station.locales),
                "folder": station.folder,
                "slots": "; ".join(f"{name} {at}" for name, at in directory.ordered_slots(station.slots)),
            }
    elif kind == "pages":
        page = session.scalar(select(FacebookPage).where(FacebookPage.slug == key))
        if page is not None:
            found = {"slug": page.slug, "page_id": page.page_id, "name": page.name, "token_secret": page.token_secret}
    if found is None:
        raise NotFound(f"there is no {kind.rstrip('s')} '{key}' in the directory")
    return found


# ---- one subscriber's data on request (Decree 13/2023/NĐ-CP) ---------------------------------------------------


def _subscriber_phone(number: str) -> str:
    from broadcaster.phones import PhoneError, normalise_mobile

    try:
        return normalise_mobile(number).e164
    except PhoneError as exc:
        raise UserError(str(exc)) from None


def export_subscriber(session: Session, actor: Actor, number: str) -> dict[str, Any]:
    """Everything kept about one number (typed as people write it), for the person who asked. Audited."""
    from broadcaster import retention

    actor.require("directory:manage")
    phone = _subscriber_phone(number)
    bind_actor(session, actor)
    data = retention.subscriber_data(session, phone)
    audit.record(session, None, actor.login, "subscriber-export", phone=retention.shown_phone(phone))
    return data


def erase_subscriber(session: Session, actor: Actor, number: str) -> int:
    """Remove one number from every list and erase it from its deliveries; how many deliveries. Audited."""
    from broadcaster import retention

    actor.require("directory:manage")
    phone = _subscriber_phone(number)
    bind_actor(session, actor)
    return retention.erase_subscriber(session, phone, actor.login).deliveries


# ---- a reading added from the composer -------------------------------------------------------------------


def add_reading(session: Session, actor: Actor, issuer_slug: str, written: str, reading: str) -> None:
    """Add to the issuer's reading dictionary how the announcer reads `written` ("EVN" → "e vê en"), as a
    drafting officer answers the composer's "đọc là …" beside a radio text. Checked as a profile's readings
    are; audited. Campaigns of the issuer read it from their next rendering (their pages say so)."""
    actor.require("campaigns:draft")
    issuer = _issuer(session, issuer_slug)
    written, reading = " ".join(written.split()), " ".join(reading.split())
    if (problem := directory.reading_problem(written, reading)) is not None:
        raise InvalidInput("the reading", [Problem(f"readings.{written}", problem)])
    before = (issuer.readings or {}).get(written)
    issuer.readings = {**(issuer.readings or {}), written: reading}
    bind_actor(session, actor)
    replaced = {"before": before} if before is not None else {}
    audit.record(
        session, None, actor.login, "add-reading", issuer=issuer_slug, written=written, reading=reading, **replaced
    )
    session.flush()
