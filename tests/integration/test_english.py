"""English that is English: the English renderings of both shipped letters and posts hold no Vietnamese
word but the proper names listed below (issue 24).

Vietnamese is found two ways: a word with Vietnamese marks (diacritics, đ), and the common Vietnamese words
a text keeps when its marks are stripped (an SMS, a hashtag, "UBND", "Noi nhan"). What may stay is named:
places, people and the documents' own numbers (DOMAIN §1, §7), and the departments' hashtags, which are
their pages' tags in every language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.campaigns.store import find_campaign
from broadcaster.db import transaction
from broadcaster.directory.audience import parse_selector, recipients
from broadcaster.rendering import Composer
from broadcaster.settings import Settings
from broadcaster.text import strip_diacritics
from channels.base import Bulletin
from tests.conftest import CONTENT

CAMPAIGNS = {
    "canh-bao-goi-gia-danh-lan-2": CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml",
    "canh-giac-goi-dien-moi-lam-viec": CONTENT / "campaigns" / "canh-giac-goi-dien-moi-lam-viec.yaml",
}

# Proper names an English text keeps as they are written: provinces and their towns (with and without marks,
# as an SMS strips them), the signer and the contact the letters name, the letters' numbers and symbols, the
# country's own spelling of its name, and the departments' hashtags.
ALLOWED_NAMES = (
    "Tây Ninh",
    "Tay Ninh",
    "Bình Phước",
    "Binh Phuoc",
    "Nguyễn Tấn Đức",
    "Lê Nguyên Tánh",
    "Viet Nam",
    "STTTT-TTra",
    "STTTT-TTr",
    "#CanhGiacLuaDao",
    "#SoTTTTTayNinh",
    "#SoTTTTBinhPhuoc",
    "Zalo",
)

# Vietnamese words a text keeps once its marks are gone, that are not English words: what the letters, their
# lists and their hotline labels are made of ("Noi nhan", "Nhu tren", "Luu: VT", "Thanh tra", "UBND tinh").
# Words that are English too (so, van, tin, ban, can, lam, dan) are left out.
UNACCENTED_VIETNAMESE = frozenset(
    [
        "ubnd",
        "uy",
        "nhan",
        "tinh",
        "huyen",
        "xa",
        "thi",
        "thanh",
        "phuong",
        "cong",
        "thong",
        "truyen",
        "hinh",
        "phat",
        "dai",
        "bao",
        "kinh",
        "gui",
        "noi",
        "nhu",
        "tren",
        "luu",
        "vt",
        "bgd",
        "ttr",
        "ttra",
        "cntt",
        "bcvt",
        "tt",
        "tra",
        "phong",
        "dong",
        "chi",
        "gap",
        "ngay",
        "thang",
        "cac",
        "cua",
        "nhung",
        "duoc",
        "khong",
        "nguoi",
        "va",
        "voi",
        "de",
        "ve",
        "viec",
        "vv",
        "canh",
        "giac",
        "lua",
        "dao",
        "goi",
        "gia",
        "danh",
        "moi",
        "vien",
        "chuc",
        "lanh",
        "doi",
        "tuong",
        "thue",
        "dien",
        "thoai",
        "quy",
        "dinh",
        "bien",
        "phap",
        "xu",
        "ly",
        "tran",
        "trong",
        "giam",
        "doc",
        "truong",
    ]
)

_MARKED = re.compile(r"[^\x00-\x7f]")


def vietnamese_words(text: str) -> list[str]:
    """The Vietnamese words in an English text, proper names aside."""
    for name in ALLOWED_NAMES:
        text = text.replace(name, " ")
    found = []
    for word in re.findall(r"[^\W\d_]+", text):
        marked = strip_diacritics(word) != word or _MARKED.search(word) is not None
        if marked or word.lower() in UNACCENTED_VIETNAMESE:
            found.append(word)
    return found


def html_text(document: str) -> str:
    """What a reader sees of an HTML part: no styles, no tags."""
    document = re.sub(r"<style.*?</style>", " ", document, flags=re.S)
    document = re.sub(r"<title>.*?</title>", " ", document, flags=re.S)  # the subject: checked on its own
    return html.unescape(re.sub(r"<[^>]+>", " ", document))


Render = Callable[[str, str], Bulletin]


@pytest.fixture
def render_english(shipped: sessionmaker[Session], settings: Settings) -> Render:
    """A shipped campaign's channel as its first recipient would get it in English."""
    with transaction(shipped) as session:
        for path in CAMPAIGNS.values():
            save_campaign(session, load_campaign_file(path), "lan", settings)

    def rendered(slug: str, channel: str) -> Bulletin:
        with shipped() as session:
            campaign = find_campaign(session, slug)
            campaign_channel = next(c for c in campaign.channels if c.channel == channel)
            composer = Composer.for_campaign(campaign, campaign_channel, settings)
            selectors = [parse_selector(text) for text in campaign_channel.audience]
            kind = composer.adapter.recipient_kind
            first = next(recipients(session, kind, selectors, campaign_channel.areas, settings.today()))
            english = replace(first, locale="en")
            rule = campaign_channel.rules[0]
            at = rule.at or datetime.combine(rule.starts or campaign.valid_from, time(19), settings.zone)
            return composer.compose("preview", english, at.astimezone(settings.zone))

    return rendered


def english_texts(render: Render, slug: str) -> Iterator[tuple[str, str]]:
    letter = render(slug, "email")
    assert letter.locale == "en"
    yield "e-mail subject", letter.parts["subject"]
    yield "e-mail sender", letter.letter.sender_name
    yield "letter (text)", letter.parts["txt"]
    yield "letter (HTML)", html_text(letter.parts["html"])
    yield "Facebook post", render(slug, "facebook").parts["txt"]
    yield "SMS", render(slug, "sms").parts["txt"]


def test_the_detector_finds_vietnamese_with_and_without_marks() -> None:
    assert vietnamese_words("Recipients: Như trên; UBND tỉnh (đề b/c)") == ["Như", "trên", "UBND", "tỉnh", "đề"]
    assert vietnamese_words("Noi nhan: Luu VT") == ["Noi", "nhan", "Luu", "VT"]
    assert vietnamese_words("The Tây Ninh Department of Information and Communications, 881/STTTT-TTr") == []


@pytest.mark.parametrize("slug", list(CAMPAIGNS))
def test_the_english_letter_post_and_sms_hold_no_vietnamese_but_names(render_english: Render, slug: str) -> None:
    for what, text in english_texts(render_english, slug):
        assert vietnamese_words(text) == [], f"{what}: {text}"


def test_the_english_letterhead_lists_and_hotlines_are_english(render_english: Render) -> None:
    letter = render_english("canh-bao-goi-gia-danh-lan-2", "email")
    text = [line.strip() for line in letter.parts["txt"].splitlines() if line.strip()]
    assert text[:4] == [
        "TAY NINH PROVINCIAL PEOPLE'S COMMITTEE",
        "DEPARTMENT OF INFORMATION AND COMMUNICATIONS",
        "No.: 881/STTTT-TTr",
        "Re: Continued warning about scam calls from people posing as officials (second warning)",
    ]
    assert "- Tây Ninh Provincial Police;" in text and "- Telecommunications companies in the province." in text
    assert "1. Department Inspectorate: 02763631168;" in text  # DOMAIN §1: the two reporting lines
    assert "2. Office of Information Technology and Posts and Telecommunications: 02763813111." in text
    assert "- Archived: Clerical Office, Inspectorate." in text
    assert letter.letter.sender_name == "Tây Ninh Department of Information and Communications"


def test_the_english_mail_subject_is_the_letters_own_form_not_a_reply(render_english: Render) -> None:
    numbered = render_english("canh-bao-goi-gia-danh-lan-2", "email").parts["subject"].strip()
    assert (
        numbered
        == "No. 881/STTTT-TTr — Continued warning about scam calls from people posing as officials (second warning)"
    )
    draft = render_english("canh-giac-goi-dien-moi-lam-viec", "email").parts["subject"].strip()
    assert draft.startswith('Beware of scam calls "inviting" subscribers')  # DOMAIN §7: a draft has no number yet
    assert not re.match(r"(?i)re:", numbered) and not re.match(r"(?i)re:", draft)


def test_the_binh_phuoc_letter_says_what_the_seed_says(render_english: Render) -> None:
    text = " ".join(render_english("canh-giac-goi-dien-moi-lam-viec", "email").parts["txt"].split())
    # DOMAIN §1: the seed's "tham gia lập website", and the hotline at the Department's Inspectorate.
    assert "by taking part in setting up websites with reactionary content" in text
    assert "through the Department Inspectorate on 0888596677 (ask for Lê Nguyên Tánh)" in text
    assert "so that measures can be taken to monitor and deal with them" in text


def test_the_english_sms_names_the_department_in_one_gsm7_part(render_english: Render) -> None:
    from broadcaster.text import sms_info

    for slug, start in (
        ("canh-bao-goi-gia-danh-lan-2", "Tay Ninh Dept. of Information and Communications: "),
        ("canh-giac-goi-dien-moi-lam-viec", "Binh Phuoc Dept. of Information and Communications: "),
    ):
        text = render_english(slug, "sms").parts["txt"]
        assert text.startswith(start)
        assert (sms_info(text).encoding, sms_info(text).parts) == ("GSM-7", 1)


def test_the_english_post_dates_itself_in_words(render_english: Render) -> None:
    post = render_english("canh-bao-goi-gia-danh-lan-2", "facebook").parts["txt"]
    assert re.search(
        r"📅 Updated \d{1,2} (January|February|March|April|May|June|July|August|September|October|"
        r"November|December) 20\d\d\n",
        post,
    )
    assert "(Official letter No. 881/STTTT-TTr of 14 May 2024.)" in post
