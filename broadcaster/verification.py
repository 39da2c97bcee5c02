"""What the public verification page answers: is this number the department's, which warnings are in
force, is this letter genuine. Read-only, and only about content that was approved as it stands: no
draft, submitted, returned or changed-since-approval campaign, and no recipient, audience or personal
data, is ever part of an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.campaigns.versions import composer_for, published_content
from broadcaster.cap.alerts import APPROVED_CONTENT, current_alerts, latest_alert
from broadcaster.cap.export import alert_document_url
from broadcaster.cap.texts import render_cap_texts
from broadcaster.errors import NotFound
from broadcaster.letters import LetterFile, letter_file
from broadcaster.models import AuditEntry, Campaign, Issuer, Status
from broadcaster.phones import PhoneError, national_digits, parse_number, same_number
from broadcaster.rendering import CampaignView, TemplateProblem
from broadcaster.settings import Settings
from channels.base import AgencyFacts, Bulletin, Recipient

MAX_INPUT = 60  # longer than any way of writing a phone number or a letter number


@dataclass(frozen=True)
class OfficialLine:
    issuer: str  # "Sở Thông tin và Truyền thông Tây Ninh"
    number: str  # as people write it: 0276 3631 168
    purpose: str
    hotline: bool  # a line to report scams to


@dataclass(frozen=True)
class NumberAnswer:
    asked: str
    is_number: bool  # the text is a Vietnamese phone number at all
    matches: list[OfficialLine]
    report_to: list[OfficialLine]  # where to report a number that is not official


@dataclass(frozen=True)
class Warning:
    slug: str
    number: str
    dated: date
    subject: str
    issuer: str
    valid_from: date
    valid_until: date
    url: str
    state: str  # in-force, expired or withdrawn
    has_letter: bool


@dataclass(frozen=True)
class Letter:
    warning: Warning
    text: str
    html: str


def printed(number: str) -> str:
    """A number as people write it: 0276 3631 168, 0888 596 677."""
    digits = national_digits(number)
    if len(digits) == 11:
        return f"{digits[:4]} {digits[4:8]} {digits[8:]}"
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}" if len(digits) == 10 else number


def _issuer_name(issuer: Issuer) -> str:
    return f"{issuer.unit_name} {issuer.place}"


def official_lines(session: Session) -> list[OfficialLine]:
    """Every issuer's hotlines and registered official numbers, with what each is for."""
    lines = []
    for issuer in session.scalars(select(Issuer).order_by(Issuer.slug)):
        name = _issuer_name(issuer)
        lines += [OfficialLine(name, printed(h["number"]), h.get("label") or "", True) for h in issuer.hotlines]
        lines += [OfficialLine(name, printed(o["number"]), o["purpose"], False) for o in issuer.official_numbers]
    return lines


def check_number(session: Session, asked: str) -> NumberAnswer:
    """Whether a number written any usual way (0276 3631 168, +84 276…, 0276.3631.168) is official."""
    asked = asked.strip()[:MAX_INPUT]
    try:
        parse_number(national_digits(asked))
        is_number = True
    except PhoneError:
        is_number = False
    lines = official_lines(session)
    matches = [line for line in lines if is_number and same_number(asked, line.number)]
    return NumberAnswer(asked, is_number, matches, [line for line in lines if line.hotline])


def is_published(session: Session, campaign: Campaign) -> bool:
    """Approved content as it stands, or approved content that was then cancelled (withdrawn)."""
    status = Status(campaign.status)
    if status in APPROVED_CONTENT:
        return True
    if status != Status.CANCELLED:
        return False
    cancel = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.campaign_id == campaign.id, AuditEntry.action == "cancel")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return cancel is not None and cancel.details.get("from") in {s.value for s in APPROVED_CONTENT}


def _state(campaign: Campaign, today: date) -> str:
    if campaign.status == Status.CANCELLED:
        return "withdrawn"
    return "in-force" if campaign.valid_from <= today <= campaign.valid_until else "expired"


def warning_of(campaign: Campaign, settings: Settings, today: date) -> Warning:
    return Warning(
        slug=campaign.slug,
        number=campaign.number.strip(),
        dated=CampaignView.of(campaign).dated,
        subject=campaign.subject,
        issuer=_issuer_name(campaign.issuer),
        valid_from=campaign.valid_from,
        valid_until=campaign.valid_until,
        url=settings.warning_page_url(campaign.slug),
        state=_state(campaign, today),
        has_letter=any(channel.channel == "email" for channel in campaign.channels),
    )


def current_warnings(session: Session, settings: Settings, today: date) -> list[Warning]:
    """The warnings in force today (approved, within validity, not a test), newest first."""
    return [warning_of(alert.campaign, settings, today) for alert in current_alerts(session, settings, today)]


def published_campaign(session: Session, slug: str) -> Campaign | None:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug[:MAX_INPUT]))
    return campaign if campaign is not None and is_published(session, campaign) else None


def _number_key(number: str) -> str:
    return re.sub(r"\s+", "", number).casefold()


def _same_letter_number(asked: str, number: str) -> bool:
    """ "881/STTTT-TTr", "881/sttt-ttr" and "881" name the same letter; an unnumbered draft matches nothing."""
    key, ours = _number_key(asked), _number_key(number)
    numeral = ours.partition("/")[0]
    return bool(key) and bool(numeral) and key in (ours, numeral)


def find_letter(session: Session, settings: Settings, number: str, dated: date, today: date) -> Letter | None:
    """The published letter with this number and date, with its text; None when there is no such letter."""
    candidates = session.scalars(
        select(Campaign).where(Campaign.status.in_([*(s.value for s in APPROVED_CONTENT), Status.CANCELLED.value]))
    )
    for campaign in candidates:
        if (
            _same_letter_number(number[:MAX_INPUT], campaign.number)
            and CampaignView.of(campaign).dated == dated
            and is_published(session, campaign)
        ):
            return letter_of(session, campaign, settings, today)
    return None


def _letter_bulletin(session: Session, campaign: Campaign, settings: Settings) -> Bulletin | None:
    """The letter as its approved e-mail part renders it, addressed as printed (never to one recipient)."""
    content = published_content(session, campaign)
    if "email" not in content["channels"]:
        return None
    composer = composer_for(content, "email", settings)
    reader = Recipient("", AgencyFacts(), "Các cơ quan, đơn vị")
    moment = datetime.combine(CampaignView.of(campaign).dated, time(8), settings.zone)
    return composer.compose("verification", reader, moment)


def letter_of(session: Session, campaign: Campaign, settings: Settings, today: date) -> Letter | None:
    bulletin = _letter_bulletin(session, campaign, settings)
    if bulletin is None:
        return None
    parts = bulletin.parts
    return Letter(warning_of(campaign, settings, today), parts.get("txt", ""), parts.get("html", ""))


def letter_document(session: Session, campaign: Campaign, settings: Settings) -> LetterFile | None:
    """The approved letter as the A4 PDF agencies receive (`broadcaster.letters`)."""
    bulletin = _letter_bulletin(session, campaign, settings)
    if bulletin is None:
        return None
    return letter_file(bulletin.parts.get("html"), bulletin.letter.number, bulletin.letter.dated)


def public_texts(session: Session, campaign: Campaign, settings: Settings, lang: str) -> dict[str, str]:
    """The warning's CAP texts in the visitor's language (else Vietnamese, else the first written)."""
    try:
        texts = render_cap_texts(published_content(session, campaign), settings)
    except TemplateProblem:
        return {"headline": campaign.subject[:1].upper() + campaign.subject[1:], "description": "", "instruction": ""}
    chosen = texts.get(lang) or texts.get("vi") or next(iter(texts.values()))
    return {"instruction": "", **chosen}


def alert_link(session: Session, campaign: Campaign, settings: Settings) -> str | None:
    try:
        alert = latest_alert(session, campaign, settings)
    except NotFound:
        return None
    return alert_document_url(settings, alert.ref.identifier)
