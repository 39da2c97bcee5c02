"""Issuers (the departments that sign letters): their YAML profiles, hotlines and official numbers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.clock import system_now
from broadcaster.directory.areas import AreaIndex
from broadcaster.directory.imports import ImportReport, upsert
from broadcaster.locales import Locale
from broadcaster.models import (
    Issuer,
)
from broadcaster.phones import PhoneError, parse_number
from broadcaster.problems import InvalidInput, Problem, from_validation_error
from broadcaster.yaml_files import SLUG, OneLine, read_yaml


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
    upsert(session, Issuer, issuer, {"slug": profile.issuer, **values}, report)
    return report


# ---- agencies ------------------------------------------------------------------------------------
