"""Subscriber lists: phone numbers with area, language and opt-out, imported in chunks from a CSV file."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from broadcaster.clock import system_now
from broadcaster.csvfiles import Columns, Row, Table
from broadcaster.directory.areas import AreaIndex
from broadcaster.directory.imports import CHUNK, ImportReport, Source, chunks, read_locale
from broadcaster.errors import UserError
from broadcaster.models import (
    Subscriber,
    SubscriberList,
)
from broadcaster.phones import normalise_mobile
from broadcaster.text import one_line, strip_diacritics
from broadcaster.yaml_files import SLUG

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
    for chunk in chunks((s for s in parsed if s is not None), CHUNK):
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
