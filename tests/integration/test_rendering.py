"""What recipients read or hear: the four renderings of both shipped campaigns, the sandbox, the checks.

The letters must read like the seed letters (DOMAIN §1, §7): the sentences below are theirs.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.campaigns.store import check_campaign, find_campaign
from broadcaster.db import transaction
from broadcaster.directory.audience import parse_selector, recipients
from broadcaster.rendering import COMPILED, Composer
from broadcaster.settings import Settings
from broadcaster.text import read_phone, sms_info, unreadable_words
from channels.base import Bulletin
from tests.conftest import CONTENT

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"
BINH_PHUOC = CONTENT / "campaigns" / "canh-giac-goi-dien-moi-lam-viec.yaml"

Render = Callable[..., Bulletin]


@pytest.fixture
def render(shipped: sessionmaker[Session], settings: Settings) -> Render:
    """Render a shipped campaign's channel for its first recipient (or the one whose address is given)."""
    with transaction(shipped) as session:
        for path in (TAY_NINH, BINH_PHUOC):
            save_campaign(session, load_campaign_file(path), "lan", settings)

    def rendered(slug: str, channel: str, address: str | None = None, locale: str | None = None) -> Bulletin:
        with shipped() as session:
            campaign = find_campaign(session, slug)
            campaign_channel = next(c for c in campaign.channels if c.channel == channel)
            composer = Composer.for_campaign(campaign, campaign_channel, settings)
            selectors = [parse_selector(text) for text in campaign_channel.audience]
            found = recipients(
                session, composer.adapter.recipient_kind, selectors, campaign_channel.areas, settings.today()
            )
            recipient = next(r for r in found if address is None or r.address == address)
            if locale:
                recipient = replace(recipient, locale=locale)
            rule = campaign_channel.rules[0]
            from datetime import datetime, time

            at = rule.at or datetime.combine(rule.starts or campaign.valid_from, time(5, 30), settings.zone)
            return composer.compose("preview", recipient, at.astimezone(settings.zone), (rule.slots or [None])[0])

    return rendered


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class TestTheLetter:
    def test_tay_ninh_881_reads_like_the_seed_letter(self, render: Render) -> None:
        letter = render("canh-bao-goi-gia-danh-lan-2", "email")
        text = lines(letter.parts["txt"])
        assert (
            letter.parts["subject"].strip()
            == "881/STTTT-TTr V/v tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)"
        )
        assert text[:4] == [
            "UBND TỈNH TÂY NINH",
            "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
            "Số: 881/STTTT-TTr",
            "V/v tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)",
        ]
        assert "Độc lập - Tự do - Hạnh phúc" in text
        assert "Tây Ninh, ngày 14 tháng 5 năm 2024" in text
        kinh_gui = text.index("Kính gửi:")
        assert text[kinh_gui + 1] == "- Các cơ quan tham mưu giúp việc Tỉnh ủy;"
        assert text[kinh_gui + 10] == "- Các doanh nghiệp viễn thông trên địa bàn tỉnh."
        assert (
            "Ngày 17/4/2024, Sở Thông tin và Truyền thông đã ban hành Công văn số 720/STTTT-TTr về việc cảnh báo "
            "các cuộc gọi giả danh với mục đích lừa đảo gửi các cơ quan, đơn vị trên địa bàn tỉnh."
        ) in text
        assert text[text.index("Danh sách Số điện thoại tiếp nhận thông tin:") + 1 :][:2] == [
            "1. Thanh tra Sở: 02763631168;",
            "2. Phòng CNTT-BCVT: 02763813111.",
        ]
        noi_nhan = text.index("Nơi nhận:")
        assert text[noi_nhan : noi_nhan + 6] == [
            "Nơi nhận:",
            "- Như trên;",
            "- UBND tỉnh (đề b/c);",
            "- Ban Giám đốc Sở;",
            "- Các phòng, đơn vị thuộc Sở;",
            "- Lưu: VT, Thanh tra.",
        ]
        assert text[-2:] == ["GIÁM ĐỐC", "Nguyễn Tấn Đức"]
        assert text[text.index("Trân trọng./.") - 1].endswith("02763813111.")

    def test_binh_phuoc_reads_like_the_seed_letter(self, render: Render) -> None:
        letter = render("canh-giac-goi-dien-moi-lam-viec", "email")
        text = lines(letter.parts["txt"])
        assert letter.parts["subject"].startswith("V/v cảnh giác lừa đảo"), "a draft has no number to show"
        assert "Bình Phước, ngày      tháng 9 năm 2024" in text, "an unnumbered draft keeps its day blank (DOMAIN §7)"
        assert "Số:      /STTTT-TTra".strip() in [line.strip() for line in text]
        assert (
            "Đồng thời thông báo và cung cấp số điện thoại của đối tượng về Sở Thông tin và Truyền thông, qua "
            "Phòng Thanh tra Sở số điện thoại: 0888596677 (gặp đồng chí Lê Nguyên Tánh) để có biện pháp theo dõi, "
            "xử lý theo quy định."
        ) in text
        assert [line for line in text if line.startswith("- Không")] == [
            "- Không kết bạn zalo với các đối tượng;",
            "- Không thực hiện các bước theo hướng dẫn của các đối tượng;",
            "- Không Click vào các đường Link lạ do các đối tượng cung cấp;",
        ]
        assert text[-1] == "GIÁM ĐỐC"

    def test_the_html_part_looks_like_the_paper_letter_and_escapes_what_it_prints(self, render: Render) -> None:
        html = render("canh-bao-goi-gia-danh-lan-2", "email").parts["html"]
        assert "font-family:'Times New Roman'" in html
        assert ">Độc lập - Tự do - Hạnh phúc</span>" in html
        assert 'font-style:italic">Tây Ninh, ngày 14 tháng 5 năm 2024</div>' in html
        assert (
            "<p>Danh sách Số điện thoại tiếp nhận thông tin:<br>1. Thanh tra Sở: 02763631168;<br>"
            "2. Phòng CNTT-BCVT: 02763813111.</p>"
        ) in html
        assert "Sở TT&amp;TT" not in html or "&amp;" in html  # ampersands, if any, are escaped


class TestSms:
    @pytest.mark.parametrize("slug", ["canh-bao-goi-gia-danh-lan-2", "canh-giac-goi-dien-moi-lam-viec"])
    def test_the_unaccented_sms_is_one_gsm7_part_with_the_official_hotline(self, render: Render, slug: str) -> None:
        text = render(slug, "sms").parts["txt"]
        info = sms_info(text)
        assert (info.encoding, info.parts) == ("GSM-7", 1)
        assert re.search(r"0888596677|02763631168", text)

    def test_an_english_speaking_subscriber_gets_the_english_sms(self, render: Render) -> None:
        text = render("canh-bao-goi-gia-danh-lan-2", "sms", locale="en").parts["txt"]
        assert text.startswith("Tay Ninh Dept. of Information and Communications:") and "SCAMS" in text

    def test_an_english_speaking_agency_gets_the_letter_in_english_in_the_same_layout(self, render: Render) -> None:
        letter = render("canh-bao-goi-gia-danh-lan-2", "email", locale="en")
        assert letter.locale == "en"
        assert letter.parts["subject"].startswith("No. 881/STTTT-TTr — Continued warning about scam calls")
        text = lines(letter.parts["txt"])
        assert text[:4] == [
            "TAY NINH PROVINCIAL PEOPLE'S COMMITTEE",
            "DEPARTMENT OF INFORMATION AND COMMUNICATIONS",
            "No.: 881/STTTT-TTr",
            "Re: Continued warning about scam calls from people posing as officials (second warning)",
        ]
        assert "SOCIALIST REPUBLIC OF VIET NAM" in text and "Tây Ninh, 14 May 2024" in text
        assert "Kính gửi:" not in text and "To:" in text
        assert text[-8:] == [
            "Recipients:",
            "- As above;",
            "- Provincial People's Committee (for reporting);",
            "- The Department's Board of Directors;",
            "- Offices and units of the Department;",
            "- Archived: Clerical Office, Inspectorate.",
            "DIRECTOR",
            "Nguyễn Tấn Đức",
        ]
        assert "1. Department Inspectorate: 02763631168;" in text
        assert '<html lang="en">' in letter.parts["html"] and "Yours sincerely," in letter.parts["html"]


class TestRadio:
    def test_the_script_is_spoken_text_with_a_header_and_the_hotline_repeated(self, render: Render) -> None:
        script = render("canh-bao-goi-gia-danh-lan-2", "radio").parts["txt"]
        header, _, body = script.partition("\n\n")
        assert header.splitlines()[0] == "ĐÀI TRUYỀN THANH HUYỆN GÒ DẦU"
        assert "Chương trình buổi sáng 05:30 ngày 15/5/2024" in header
        assert "Mức ưu tiên: ưu tiên (phát đầu chương trình)" in header
        assert re.search(r"Thời lượng đọc ước tính: 1 phút \d\d giây", header)
        assert not re.search(r"\d", body), "every number in the read text is written out"
        assert "Ngày mười bốn tháng năm năm hai ngàn không trăm hai mươi bốn" in body
        # DOMAIN §9, §15: the department was just named, so the number is read alone; no "Thanh tra" left over.
        assert "đã ban hành Công văn số tám trăm tám mươi mốt, tiếp tục cảnh báo" in body
        last = body.strip().split("\n\n")[-1]
        assert read_phone("02763631168") in last and read_phone("02763813111") in last  # every hotline repeated
        assert "Da-lô" in body and "Phây-búc" in body and "đường dẫn lạ" in body  # the shipped dictionary

    def test_the_issuers_choice_of_reading_document_numbers_reaches_the_script(
        self, shipped: sessionmaker[Session], render: Render
    ) -> None:
        """DOMAIN §9, §15: a station reads "số 881 của Sở …" or, when the issuer prefers, the number alone."""
        from sqlalchemy import select

        from broadcaster.models import Issuer

        with transaction(shipped) as session:
            issuer = session.scalars(select(Issuer).where(Issuer.slug == "tay-ninh-stttt")).one()
            assert issuer.symbol_reading == "brief"
            issuer.unit_name = "Sở"  # the body is no longer named in full before the number
        body = render("canh-bao-goi-gia-danh-lan-2", "radio").parts["txt"].partition("\n\n")[2]
        assert "Công văn số tám trăm tám mươi mốt của Sở Thông tin và Truyền thông, tiếp tục" in body
        with transaction(shipped) as session:
            session.scalars(select(Issuer).where(Issuer.slug == "tay-ninh-stttt")).one().symbol_reading = "none"
        body = render("canh-bao-goi-gia-danh-lan-2", "radio").parts["txt"].partition("\n\n")[2]
        assert "Công văn số tám trăm tám mươi mốt, tiếp tục" in body

    def test_the_reading_time_follows_the_configured_rate(self, render: Render, settings: Settings) -> None:
        from broadcaster.text import reading_seconds

        bulletin = render("canh-giac-goi-dien-moi-lam-viec", "radio")
        header, _, body = bulletin.parts["txt"].partition("\n\n")
        seconds = reading_seconds(body, settings.reading_rate)
        assert seconds == round(len(re.findall(r"[^\W\d_]+", body)) / settings.reading_rate)
        assert f"Thời lượng đọc ước tính: 1 phút {seconds - 60:02d} giây" in header

    @pytest.mark.parametrize("slug", ["canh-bao-goi-gia-danh-lan-2", "canh-giac-goi-dien-moi-lam-viec"])
    def test_a_shipped_script_has_nothing_an_announcer_must_decode(self, render: Render, slug: str) -> None:
        # DOMAIN §15: no digit, slash, percent sign or abbreviation in what is read over the loudspeakers.
        script = render(slug, "radio").parts["txt"]
        _, _, read = script.partition("\n\n")
        assert not re.search(r"[\d/%&]", read)
        assert unreadable_words(read) == []
        for abbreviation in ("STTTT", "TTr", "CNTT", "BCVT", "UBND", "TT&TT", "V/v"):
            assert not re.search(rf"(?<!\w){re.escape(abbreviation)}(?!\w)", read)

    @pytest.mark.usefixtures("espeak_ng")
    @pytest.mark.parametrize("slug", ["canh-bao-goi-gia-danh-lan-2", "canh-giac-goi-dien-moi-lam-viec"])
    def test_a_shipped_scripts_audio_lasts_its_stated_reading_time(
        self, render: Render, slug: str, tmp_path: Path
    ) -> None:
        from channels.radio import RadioChannel, RadioOptions

        bulletin = render(slug, "radio")
        RadioChannel(RadioOptions(root=tmp_path), output_dir=tmp_path).send([bulletin])
        (manifest,) = tmp_path.rglob("manifest.json")
        (entry,) = json.loads(manifest.read_text(encoding="utf-8"))["scripts"]
        assert (manifest.parent / entry["audio"]["wav"]).stat().st_size > 0
        stated = entry["reading_seconds"]
        assert re.search(rf"Thời lượng đọc ước tính: 1 phút {stated - 60:02d} giây", bulletin.parts["txt"])
        assert abs(entry["audio"]["seconds"] - stated) <= 0.25 * stated, (entry["audio"]["seconds"], stated)

    def test_the_tay_ninh_hotline_office_is_read_in_words(self, render: Render) -> None:
        script = render("canh-bao-goi-gia-danh-lan-2", "radio").parts["txt"]
        assert "Phòng Công nghệ thông tin và Bưu chính viễn thông, số điện thoại không hai bảy sáu" in script

    def test_a_script_leaving_an_abbreviation_fails_validation(
        self, shipped: sessionmaker[Session], own_content: Settings
    ) -> None:
        template = "{{ ('Gọi ' ~ issuer.hotline.number ~ ', mã CVV, 3/4 số vụ.') | spoken }}"
        found = problems_with(shipped, own_content, "radio.txt.j2", template)
        assert any("leaves 'CVV', '3/4' for the announcer to decode" in problem for problem in found)


def test_facebook_post_has_headline_hotlines_and_hashtags(render: Render) -> None:
    post = render("canh-bao-goi-gia-danh-lan-2", "facebook").parts["txt"]
    assert post.startswith("⚠️ CẢNH BÁO:")
    assert "• Thanh tra Sở: 0276 3631 168" in post
    assert post.strip().endswith("#CanhGiacLuaDao #SoTTTTTayNinh")


def test_templates_are_compiled_once_per_composer(
    shipped: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(shipped) as session:
        campaign, _ = save_campaign(session, load_campaign_file(TAY_NINH), "lan", settings)
        sms = next(c for c in campaign.channels if c.channel == "sms")
        composer = Composer.for_campaign(campaign, sms, settings)
        loads: list[str] = []
        environment = composer.templates.environment
        original = environment.compile
        monkeypatch.setattr(
            environment, "compile", lambda source, name=None, *args: loads.append(name) or original(source, name, *args)
        )
        audience = list(
            recipients(
                session,
                composer.adapter.recipient_kind,
                [parse_selector("list:thue-bao-tay-ninh")],
                [],
                settings.today(),
            )
        )

        COMPILED[False].codes.clear()  # what the campaign's save compiled is kept too: start from nothing
        for recipient in audience:
            composer.compose(recipient.address, recipient, settings.local_now())
        assert len(audience) > 30
        assert sorted(loads) == ["goi-gia-danh/en/sms.txt.j2", "goi-gia-danh/vi/sms.txt.j2"]
        # Another composer over the same texts (a page, a preview, a check) compiles nothing again.
        again = Composer.for_campaign(campaign, sms, settings)
        monkeypatch.setattr(again.templates.environment, "compile", lambda *args: loads.append("again"))
        again.compose(audience[0].address, audience[0], settings.local_now())
    assert "again" not in loads


# ---- validation of staff-written templates and content --------------------------------------------


@pytest.fixture
def own_content(settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the shipped content that a test may change."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return settings.model_copy(update={"content_dir": folder})


def problems_with(shipped: sessionmaker[Session], settings: Settings, template_file: str, text: str) -> list[str]:
    (settings.templates_dir / "goi-gia-danh" / "vi" / template_file).write_text(text, encoding="utf-8")
    with shipped() as session:
        return [str(p) for p in check_campaign(session, load_campaign_file(TAY_NINH), settings)]


def test_a_template_reaching_for_python_internals_is_refused_naming_file_and_line(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    found = problems_with(
        shipped, own_content, "sms.txt.j2", "Báo tin: {{ issuer.hotline.number }}\n{{ ''.__class__.__mro__ }}\n"
    )
    assert found == [
        "template: template goi-gia-danh/vi/sms.txt.j2 line 2 is refused by the sandbox: "
        "access to attribute '__class__' of 'str' object is unsafe."
    ]


def test_a_template_reading_an_undefined_variable_is_refused_naming_file_and_line(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    found = problems_with(
        shipped, own_content, "sms.txt.j2", "Báo tin: {{ issuer.hotline.number }}\nHạn: {{ deadline }}\n"
    )
    assert found == [
        "template: template goi-gia-danh/vi/sms.txt.j2 line 2 uses 'deadline', which is not defined "
        "(add it to the campaign's variables)"
    ]


def test_a_template_with_a_syntax_error_names_file_and_line(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    found = problems_with(shipped, own_content, "sms.txt.j2", "Báo tin {{ issuer.hotline.number }\n")
    assert len(found) == 1 and found[0].startswith("template: template goi-gia-danh/vi/sms.txt.j2 line 1: ")


def test_an_sms_with_a_link_fails_validation_with_that_reason(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    found = problems_with(
        shipped,
        own_content,
        "sms.txt.j2",
        "Xem chi tiết tại https://stttt.tayninh.gov.vn/canh-bao. Báo tin: {{ issuer.hotline.number }}",
    )
    assert "the text has a link (https://stttt.tayninh.gov.vn/canh-bao.); sms bulletins must not contain links" in (
        " ".join(found)
    )


def test_an_sms_with_a_number_that_is_not_an_official_hotline_fails_validation(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    found = problems_with(
        shipped, own_content, "sms.txt.j2", "Lừa đảo! Gọi ngay 0912 345 678 hoặc {{ issuer.hotline.number }}"
    )
    assert any(
        "the text has the phone number 0912345678, which is not one of the issuer's official hotlines "
        "(02763631168, 02763813111)" in problem
        for problem in found
    )


def test_a_radio_script_without_a_hotline_fails_validation(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    found = problems_with(shipped, own_content, "radio.txt.j2", "Bà con hãy cảnh giác với lừa đảo.")
    assert any("the radio text does not give an official hotline" in problem for problem in found)


def test_an_sms_over_budget_shows_both_counts(
    shipped: sessionmaker[Session], own_content: Settings, tmp_path: Path
) -> None:
    campaign = tmp_path / "long.yaml"
    campaign.write_text(TAY_NINH.read_text(encoding="utf-8").replace("    unaccented: true\n", ""), encoding="utf-8")
    with shipped() as session:
        found = [str(p) for p in check_campaign(session, load_campaign_file(campaign), own_content)]
    assert any(
        re.search(
            r"the SMS is 3 parts \(\d+ characters, UCS-2\) but max_parts is 1; unaccented it would be "
            r"1 parts \(\d+ characters, GSM-7\)",
            problem,
        )
        for problem in found
    )


def test_a_campaign_variable_no_template_uses_is_reported(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    campaign = tmp_path / "typo.yaml"
    campaign.write_text(TAY_NINH.read_text(encoding="utf-8").replace("  archive:", "  archve:"), encoding="utf-8")
    with shipped() as session:
        found = [str(p) for p in check_campaign(session, load_campaign_file(campaign), settings)]
    assert found == ["variables.archve: 'archve' is not used by template 'goi-gia-danh' (a misspelt name?)"]


def test_preview_prints_what_would_be_sent(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import import_shipped_with_cli

    import_shipped_with_cli(cli)
    assert cli("campaign", "add", TAY_NINH, "--as", "lan").exit_code == 0
    run = cli("campaign", "preview", "canh-bao-goi-gia-danh-lan-2", "--channel", "email")
    assert run.exit_code == 0, run.output
    assert "Subject: 881/STTTT-TTr V/v tiếp tục cảnh báo" in run.stdout and "Kính gửi:" in run.stdout
    html = Path(tmp_path / run.stdout.strip().splitlines()[-1].removeprefix("HTML part: "))
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    pdf = Path(tmp_path / run.stdout.strip().splitlines()[-2].removeprefix("PDF attached: "))
    assert pdf.name == "881-STTTT-TTr-2024-05-14.pdf" and pdf.read_bytes().startswith(b"%PDF-")

    everything = cli("campaign", "preview", "canh-bao-goi-gia-danh-lan-2", "--all", tmp_path / "review")
    assert everything.exit_code == 0, everything.output
    written = sorted(str(p.relative_to(tmp_path / "review")) for p in (tmp_path / "review").rglob("*.*"))
    assert "sms/en.txt" in written and "email/vi.html" in written and "radio/vi.txt" in written
    assert "email/vi.pdf" in written


def test_the_binh_phuoc_post_asks_for_the_number_so_that_measures_are_taken(render: Render) -> None:
    # DOMAIN §1, the seed letter: "để có biện pháp theo dõi, xử lý"; "để được theo dõi, xử lý" read as if
    # the citizen who reports the number were to be watched and dealt with.
    post = render("canh-giac-goi-dien-moi-lam-viec", "facebook").parts["txt"]
    assert "(gặp đồng chí Lê Nguyên Tánh) để có biện pháp theo dõi, xử lý theo quy định." in post
    assert "để được theo dõi" not in post


@pytest.mark.parametrize("listed", [True, False])
def test_a_letter_is_rendered_once_when_its_text_names_no_agency_and_per_agency_when_it_does(
    shipped: sessionmaker[Session], settings: Settings, listed: bool
) -> None:
    """Tây Ninh's letter lists its addressees, so every agency gets the same parts, rendered once; without
    the list, the letter is addressed to each agency by name."""
    spec = load_campaign_file(TAY_NINH)
    if not listed:
        kept = {k: v for k, v in spec.variables.items() if not k.startswith("addressees")}
        spec = spec.model_copy(update={"variables": kept})
    with transaction(shipped) as session:
        campaign, _ = save_campaign(session, spec, "lan", settings)
        email = next(c for c in campaign.channels if c.channel == "email")
        composer = Composer.for_campaign(campaign, email, settings)
        selectors = [parse_selector(text) for text in email.audience]
        found = recipients(session, composer.adapter.recipient_kind, selectors, [], settings.today())
        agencies = [recipient for recipient in found if composer.locale_for(recipient) == "vi"][:2]
        assert len(agencies) == 2
        at = settings.local_now()
        first, second = (composer.compose(agency.address, agency, at) for agency in agencies)
    if listed:
        assert first.parts is second.parts
        assert agencies[0].name not in first.parts["txt"]
        assert "Các cơ quan tham mưu giúp việc Tỉnh ủy" in first.parts["txt"]
    else:
        assert first.parts is not second.parts
        assert [agencies[0].name in first.parts["txt"], agencies[1].name in second.parts["txt"]] == [True, True]
