"""Audience selectors ("group:so-ban-nganh", "list:thue-bao-tay-ninh", "stations:all", …) and the
directory entries they name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from broadcaster.directory.areas import areas_within
from broadcaster.directory.subscribers import SUBSCRIBER_ROW
from broadcaster.models import Agency, AgencyGroup, Area, FacebookPage, Station, Subscriber, SubscriberList
from channels.base import AgencyFacts, PageFacts, Recipient, RecipientKind, StationFacts, SubscriberFacts

# scope → (recipient kind, whether the scope takes "all" instead of a name)
SCOPES: dict[str, tuple[RecipientKind, bool]] = {
    "group": (RecipientKind.AGENCY, False),
    "agency": (RecipientKind.AGENCY, False),
    "agencies": (RecipientKind.AGENCY, True),
    "list": (RecipientKind.SUBSCRIBER, False),
    "station": (RecipientKind.STATION, False),
    "stations": (RecipientKind.STATION, True),
    "page": (RecipientKind.PAGE, False),
    "pages": (RecipientKind.PAGE, True),
}


@dataclass(frozen=True)
class Selector:
    scope: str
    value: str

    @property
    def kind(self) -> RecipientKind:
        return SCOPES[self.scope][0]

    def __str__(self) -> str:
        return f"{self.scope}:{self.value}"


def parse_selector(text: str) -> Selector:
    scope, _, value = text.partition(":")
    if scope not in SCOPES or not value:
        known = ", ".join(f"{name}:…" for name in SCOPES)
        raise ValueError(f"'{text}' is not an audience; write one of {known}")
    if SCOPES[scope][1] and value != "all":
        raise ValueError(f"'{text}' should be '{scope}:all' (name one with '{scope.rstrip('s')}:NAME')")
    return Selector(scope, value)


def missing(session: Session, selector: Selector) -> str | None:
    """A sentence when the selector names nothing in the directory."""
    scope, value = selector.scope, selector.value
    if scope == "group":
        found = session.scalar(select(exists().where(AgencyGroup.group == value)))
        return None if found else f"no agency is in group '{value}'"
    if scope == "agency":
        found = session.scalar(select(exists().where(Agency.key == value)))
        return None if found else f"agency '{value}' is not in the directory"
    if scope == "list":
        found = session.scalar(select(exists().where(SubscriberList.slug == value)))
        return None if found else f"subscriber list '{value}' is not in the directory"
    if scope == "station":
        found = session.scalar(select(exists().where(Station.slug == value)))
        return None if found else f"station '{value}' is not in the directory"
    if scope == "page":
        found = session.scalar(select(exists().where(FacebookPage.slug == value)))
        return None if found else f"Facebook page '{value}' is not in the directory"
    counted = {"agencies": Agency.id, "stations": Station.id, "pages": FacebookPage.id}[scope]
    found = session.scalar(select(func.count(counted)))
    return None if found else f"the directory has no {scope} yet"


def stations_for(session: Session, selectors: Sequence[Selector], area_codes: Sequence[str], on: date) -> list[Station]:
    """Stations an audience names, limited to the given areas (and the areas below them) as they stand `on` a day."""
    query = select(Station).order_by(Station.slug)
    if not any(selector.scope == "stations" for selector in selectors):
        query = query.where(Station.slug.in_([s.value for s in selectors if s.scope == "station"]))
    if area_codes:
        query = query.where(Station.area_id.in_(areas_within(session, area_codes, on)))
    return list(session.scalars(query))


# ---- recipients --------------------------------------------------------------------------------


def _area_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Area.id, Area.name))}


def recipients(
    session: Session,
    kind: RecipientKind,
    selectors: Sequence[Selector],
    area_codes: Sequence[str],
    on: date,
    *,
    batch: int = 2000,
) -> Iterator[Recipient]:
    """Everyone an audience names who is to receive, streamed from the database in batches, each
    exactly once. Opted-out subscribers and subscribers outside the areas are left out (the outbox
    writes them as skipped, in SQL: see `subscriber_conditions`). Areas are taken as they stand `on` a day."""
    area_ids = areas_within(session, area_codes, on) if area_codes else None
    names = _area_names(session)
    if kind == RecipientKind.AGENCY:
        yield from _agency_recipients(session, selectors, area_ids, names)
    elif kind == RecipientKind.SUBSCRIBER:
        wanted = SubscriberFilter(area_ids, include_opted_out=False, include_outside=False)
        yield from _subscriber_recipients(session, selectors, wanted, names, batch)
    elif kind == RecipientKind.STATION:
        for station in stations_for(session, selectors, area_codes, on):
            yield station_recipient(station, names)
    else:
        yield from _page_recipients(session, selectors)


def audience_size(session: Session, kind: RecipientKind, selectors: Sequence[Selector], on: date) -> int:
    """How many outbox rows the audience makes, skipped ones included (counted by the database for
    subscribers: a province's list is too long to stream for a progress bar)."""
    if kind == RecipientKind.SUBSCRIBER:
        everyone = SubscriberFilter(None, include_opted_out=True, include_outside=True)
        return session.scalar(select(func.count()).where(*subscriber_conditions(selectors, everyone))) or 0
    return sum(1 for _ in recipients(session, kind, selectors, [], on))


def _agency_recipients(
    session: Session, selectors: Sequence[Selector], area_ids: set[int] | None, names: dict[int, str]
) -> Iterator[Recipient]:
    query = (
        select(Agency).options(selectinload(Agency.group_rows)).order_by(Agency.key)
    )  # groups: one query, not one each
    if not any(selector.scope == "agencies" for selector in selectors):
        groups = [s.value for s in selectors if s.scope == "group"]
        keys = [s.value for s in selectors if s.scope == "agency"]
        in_group = select(AgencyGroup.agency_id).where(AgencyGroup.group.in_(groups))
        query = query.where(or_(Agency.id.in_(in_group), Agency.key.in_(keys)))
    if area_ids is not None:
        query = query.where(Agency.area_id.in_(area_ids))
    seen: set[str] = set()
    for agency in session.scalars(query):
        for email in agency.emails:
            if email.lower() in seen:
                continue  # two agencies sharing one mailbox get one letter
            seen.add(email.lower())
            area = names.get(agency.area_id) if agency.area_id else None
            facts = AgencyFacts(agency.key, tuple(agency.groups), area, agency.name_en or None)
            # Without a locale of its own, the agency gets the campaign's first locale.
            yield Recipient(email, facts, agency.name, agency.locale or None)


@dataclass(frozen=True)
class SubscriberFilter:
    area_ids: set[int] | None
    include_opted_out: bool
    include_outside: bool


def subscriber_conditions(
    selectors: Sequence[Selector], wanted: SubscriberFilter, ids: tuple[int, int] | None = None
) -> list[ColumnElement[bool]]:
    """The subscribers an audience names, as conditions on `Subscriber`: one row per phone where
    lists overlap (the lowest id standing for the number), filtered as `wanted` says; with `ids`,
    only those in that id range (after, up to)."""
    lists = select(SubscriberList.id).where(SubscriberList.slug.in_([s.value for s in selectors]))
    if ids is None:
        conditions: list[ColumnElement[bool]] = [Subscriber.list_id.in_(lists)]
    else:
        # `list_id + 0` keeps the (list, phone) index out of the plan, so the id range is read through
        # the primary key: through that index, both databases read the whole list for every range.
        conditions = [Subscriber.id > ids[0], Subscriber.id <= ids[1], (Subscriber.list_id + 0).in_(lists)]
    if len(selectors) > 1:
        earlier = aliased(Subscriber)
        conditions.append(
            ~exists().where(earlier.phone == Subscriber.phone, earlier.list_id.in_(lists), earlier.id < Subscriber.id)
        )
    if wanted.area_ids is not None and not wanted.include_outside:
        conditions.append(Subscriber.area_id.in_(wanted.area_ids))
    if not wanted.include_opted_out:
        conditions.append(Subscriber.opted_out.is_(False))
    return conditions


def _subscriber_recipients(
    session: Session, selectors: Sequence[Selector], wanted: SubscriberFilter, names: dict[int, str], batch: int
) -> Iterator[Recipient]:
    query = select(*SUBSCRIBER_ROW).where(*subscriber_conditions(selectors, wanted)).order_by(Subscriber.id)
    for row in session.execute(query.execution_options(yield_per=batch)):
        facts = SubscriberFacts(
            area=names.get(row.area_id) if row.area_id else None,
            opted_out=row.opted_out,
            opted_out_on=row.opted_out_on,
            outside_areas=wanted.area_ids is not None and row.area_id not in wanted.area_ids,
        )
        yield Recipient(row.phone, facts, "", row.locale or None)


def station_recipient(station: Station, names: dict[int, str]) -> Recipient:
    area = names.get(station.area_id) if station.area_id else None
    locales = tuple(str(locale) for locale in station.locales)
    facts = StationFacts(station.folder, dict(station.slots), locales, area)
    # A station gets its first language.
    return Recipient(station.slug, facts, station.name, locales[0] if locales else None)


def _page_recipients(session: Session, selectors: Sequence[Selector]) -> Iterator[Recipient]:
    query = select(FacebookPage).order_by(FacebookPage.slug)
    if not any(selector.scope == "pages" for selector in selectors):
        query = query.where(FacebookPage.slug.in_([s.value for s in selectors]))
    for page in session.scalars(query):
        facts = PageFacts(page.slug, page.token_secret, page.name_en or None)
        # Without a locale of its own, the page posts in the campaign's first locale.
        yield Recipient(page.page_id, facts, page.name, page.locale or None)


def recipient_locale(recipient: Recipient, default: str) -> str:
    return recipient.locale or default
