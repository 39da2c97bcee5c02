"""The results (`broadcaster.operations.results`) laid out for people: the same tables and charts for the
console's results page, the report document (.docx, PDF) and the spreadsheet (.xlsx, CSV), in Vietnamese
or English. Every form reads its numbers from these tables, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from broadcaster import charts
from broadcaster.airing import reason_words
from broadcaster.operations.results import ChannelResult, Results, Tally, channel_kind

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo kết quả tuyên truyền",
        "channel": "Kênh",
        "channel_email": "Công văn điện tử",
        "channel_sms": "Tin nhắn SMS",
        "channel_zalo": "Tin nhắn Zalo",
        "channel_facebook": "Facebook",
        "channel_radio": "Truyền thanh cơ sở",
        "fires": "Số đợt phát",
        "fires_missed": "Đợt bị lỡ",
        "planned": "Dự kiến",
        "sent": "Đã gửi",
        "delivered": "Đã đến máy",
        "undelivered": "Không đến được",
        "unknown": "Không rõ",
        "awaiting_report": "Chờ báo cáo",
        "failed": "Lỗi, bị từ chối",
        "skipped": "Bỏ qua",
        "waiting": "Chưa gửi",
        "reached": "Đã đến nơi",
        "not_settled": "Chưa rõ kết quả",
        "by_channel": "Kết quả theo kênh",
        "by_station": "Phát thanh theo đài",
        "by_area": "Theo địa bàn",
        "by_list": "Tin nhắn theo danh sách thuê bao",
        "by_day": "Theo ngày",
        "station": "Đài",
        "slots": "Số buổi",
        "aired": "Đã phát",
        "not_aired": "Không phát",
        "unconfirmed": "Chưa xác nhận",
        "overdue": "Quá hạn xác nhận",
        "reasons": "Lý do không phát",
        "province": "Tỉnh, thành phố",
        "area": "Xã, phường (đơn vị cũ)",
        "folded_from": "Gộp từ đơn vị cũ",
        "list": "Danh sách",
        "day": "Ngày",
        "chart_days": "Tin, thư, bài đã gửi theo ngày",
        "chart_shares": "Tỉ lệ kết quả theo kênh",
        "chart_stations": "Buổi phát theo đài",
        "chart_stations_some": "Buổi phát của {shown} đài nhiều buổi không phát, chưa xác nhận nhất (trong {all} đài)",
        "summary_email": "{sent} công văn đã gửi, {failed} bị trả lại",
        "summary_sms": "{sent} tin nhắn đã gửi: {delivered} đến máy, {undelivered} không đến được, {unknown} chưa rõ",
        "summary_zalo": "{sent} tin Zalo đã gửi: {delivered} đến máy, {undelivered} không đến được, {unknown} chưa rõ",
        "summary_facebook": "{sent} bài đã đăng, {failed} không đăng được",
        "summary_radio": "{slots} buổi phát: {aired} đã phát, {not_aired} không phát, {unconfirmed} chưa xác nhận",
        "after": "{named} gửi thay {first}",
        "summary_passed_on": "{passed_on} người không nhận được tin {first} được gửi tin {fallback} thay",
    },
    "en": {
        "title": "Report on the results of the awareness campaign",
        "channel": "Channel",
        "channel_email": "Official letters by e-mail",
        "channel_sms": "SMS",
        "channel_zalo": "Zalo messages",
        "channel_facebook": "Facebook",
        "channel_radio": "Commune radio",
        "fires": "Fires",
        "fires_missed": "Fires missed",
        "planned": "Planned",
        "sent": "Sent",
        "delivered": "Delivered",
        "undelivered": "Undelivered",
        "unknown": "Unknown",
        "awaiting_report": "Awaiting report",
        "failed": "Failed or refused",
        "skipped": "Skipped",
        "waiting": "Not sent yet",
        "reached": "Reached",
        "not_settled": "Not settled",
        "by_channel": "Results by channel",
        "by_station": "Radio by station",
        "by_area": "By area",
        "by_list": "SMS by subscriber list",
        "by_day": "By day",
        "station": "Station",
        "slots": "Slots",
        "aired": "Aired",
        "not_aired": "Not aired",
        "unconfirmed": "Unconfirmed",
        "overdue": "Overdue",
        "reasons": "Why not aired",
        "province": "Province",
        "area": "Commune or ward (former unit)",
        "folded_from": "Folded from former units",
        "list": "List",
        "day": "Day",
        "chart_days": "Messages, letters and posts sent per day",
        "chart_shares": "Outcome shares per channel",
        "chart_stations": "Radio slots per station",
        "chart_stations_some": "Radio slots of the {shown} stations with most slots not aired or unconfirmed "
        "(of {all})",
        "summary_email": "{sent} letters sent, {failed} bounced",
        "summary_sms": "{sent} SMS sent: {delivered} delivered, {undelivered} undelivered, {unknown} not known",
        "summary_zalo": "{sent} Zalo messages: {delivered} delivered, {undelivered} undelivered, {unknown} not known",
        "summary_facebook": "{sent} posts published, {failed} refused",
        "summary_radio": "{slots} slots: {aired} aired, {not_aired} not aired, {unconfirmed} unconfirmed",
        "after": "{named} instead of {first}",
        "summary_passed_on": "{passed_on} people {first} could not reach were sent the {fallback} instead",
    },
}
CHARTED_STATIONS = 20  # the most bars a chart of stations draws
TALLY_COLUMNS = ("planned", "sent", "delivered", "undelivered", "unknown", "awaiting_report", "failed", "skipped")


@dataclass(frozen=True)
class Table:
    key: str  # by_channel, by_station…: the id of its table on the page and the name of its sheet
    title: str
    header: list[str]
    rows: list[list[str | int]]


@dataclass
class Layout:
    """The results as tables, charts (SVG, each drawn from one of the tables) and one sentence per channel."""

    lang: str
    tables: list[Table]
    charts: dict[str, str] = field(default_factory=dict)  # the table's key → its chart
    summaries: list[str] = field(default_factory=list)


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["vi"])


def channel_name(channel: str, kind: str, lang: str, after: str | None = None) -> str:
    """A channel as people call it; a fallback's messages ("SMS instead of Zalo") apart from its own."""
    said = words(lang)
    named = said.get(f"channel_{kind}", channel)
    named = named if channel == kind else f"{named} ({channel})"
    if after is None:
        return named
    return said["after"].format(named=named, first=short_name(after))


# Channels as a sentence names them in passing ("SMS instead of Zalo"), the same in every language.
SHORT_NAMES = {"email": "e-mail", "sms": "SMS", "zalo": "Zalo", "facebook": "Facebook", "radio": "radio"}


def short_name(channel: str) -> str:
    kind = channel_kind(channel)
    return SHORT_NAMES.get(kind, kind) if channel == kind else f"{SHORT_NAMES.get(kind, kind)} ({channel})"


def _named(item: ChannelResult, lang: str) -> str:
    return channel_name(item.channel, item.kind, lang, item.after)


def _tally(item: Tally) -> list[str | int]:
    return [getattr(item, column) for column in TALLY_COLUMNS]


def layout(results: Results, lang: str = "vi") -> Layout:
    said = words(lang)
    tally_header = [said[column] for column in TALLY_COLUMNS]
    kinds = {item.channel: item.kind for item in results.channels}
    by_channel = Table(
        "by_channel",
        said["by_channel"],
        [said["channel"], said["fires"], said["fires_missed"], *tally_header],
        [[_named(item, lang), item.fires, item.fires_missed, *_tally(item.deliveries)] for item in results.channels],
    )
    by_station = Table(
        "by_station",
        said["by_station"],
        [
            said["station"],
            said["slots"],
            said["aired"],
            said["not_aired"],
            said["unconfirmed"],
            said["overdue"],
            said["reasons"],
        ],
        [
            [
                item.station_name,
                item.airing.slots,
                item.airing.aired,
                item.airing.not_aired,
                item.airing.unconfirmed,
                item.airing.overdue,
                "; ".join(
                    f"{reason_words(key, lang)}: {n}" for key, n in sorted(item.airing.not_aired_reasons.items())
                ),
            ]
            for item in results.stations
        ],
    )
    by_area = Table(
        "by_area",
        said["by_area"],
        [said["province"], said["area"], said["channel"], *tally_header],
        [
            [
                item.province,
                item.area,
                channel_name(item.channel, kinds.get(item.channel, item.channel), lang),
                *_tally(item.deliveries),
            ]
            for item in results.areas
        ],
    )
    by_list = Table(
        "by_list",
        said["by_list"],
        [said["list"], *tally_header],
        [[item.list_name, *_tally(item.deliveries)] for item in results.lists],
    )
    by_day = Table(
        "by_day",
        said["by_day"],
        [said["day"], said["channel"], *tally_header],
        [
            [
                f"{item.day:%d/%m/%Y}",
                channel_name(item.channel, kinds.get(item.channel, item.channel), lang),
                *_tally(item.deliveries),
            ]
            for item in results.days
        ],
    )
    found = Layout(lang, [by_channel, by_station, by_area, by_list, by_day])
    found.charts = _charts(results, lang)
    found.summaries = _summaries(results, lang)
    return found


def _charts(results: Results, lang: str) -> dict[str, str]:
    said = words(lang)
    drawn: dict[str, str] = {}
    if results.channels:
        labels = [_named(item, lang) for item in results.channels]
        series = [
            charts.Series(said[key], [_share(key, item.deliveries) for item in results.channels]) for key in SHARES
        ]
        drawn["by_channel"] = charts.stacked_bars("chart-shares", said["chart_shares"], labels, series, shares=True)
    if results.stations:
        shown, title = results.stations, said["chart_stations"]
        if len(shown) > CHARTED_STATIONS:
            # One bar a station: a province's hundred stations would make a chart metres long. The ones
            # to look at are drawn; the table under it has every station.
            shown = sorted(shown, key=lambda item: -(item.airing.not_aired + item.airing.unconfirmed))
            shown = shown[:CHARTED_STATIONS]
            title = said["chart_stations_some"].format(shown=len(shown), all=len(results.stations))
        labels = [item.station_name for item in shown]
        series = [
            charts.Series(said["aired"], [item.airing.aired for item in shown]),
            charts.Series(said["not_aired"], [item.airing.not_aired for item in shown]),
            charts.Series(said["unconfirmed"], [item.airing.unconfirmed for item in shown]),
        ]
        drawn["by_station"] = charts.stacked_bars("chart-stations", title, labels, series)
    if results.days:
        days = sorted({item.day for item in results.days})
        channels = [item.channel for item in results.channels]
        sent = {(item.day, item.channel): item.deliveries.sent for item in results.days}
        series = [
            charts.Series(_named(item, lang), [sent.get((day, item.channel), 0) for day in days])
            for item in results.channels
            if item.channel in channels
        ]
        labels = [f"{day:%d/%m}" for day in days]
        drawn["by_day"] = charts.columns("chart-days", said["chart_days"], labels, series)
    return drawn


SHARES = ("reached", "undelivered", "not_settled", "failed", "skipped", "waiting")


def _share(key: str, item: Tally) -> int:
    """One part of a channel's outcomes: what reached its recipient, what did not, what is not settled…"""
    if key == "reached":
        return item.sent - item.undelivered - item.unknown - item.awaiting_report
    if key == "not_settled":
        return item.unknown + item.awaiting_report
    value: int = getattr(item, key)
    return value


def _summaries(results: Results, lang: str) -> list[str]:
    said = words(lang)
    found = []
    for item in results.channels:
        template = said.get(f"summary_{item.kind}")
        if template is None:
            continue
        numbers = item.deliveries.model_dump() | (item.airing.model_dump() if item.airing else {})
        found.append(f"{_named(item, lang)}: {template.format(**numbers)}.")
    for first in results.channels:
        for fallback in results.channels:
            if first.after is None and fallback.after == first.channel and first.passed_on:
                passed_on = said["summary_passed_on"].format(
                    passed_on=first.passed_on,
                    first=short_name(first.channel),
                    fallback=short_name(fallback.channel),
                )
                found.append(passed_on[0].upper() + passed_on[1:] + ".")
    return found
