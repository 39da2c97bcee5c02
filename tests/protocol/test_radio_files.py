"""Radio scripts as real files in a temporary folder: text, .docx, manifest, and the folder boundary."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from docx import Document

from channels.base import Letter, Outcome, RecipientKind, StationFacts
from channels.radio import RadioChannel, RadioOptions
from tests.helpers import MORNING, NO_LETTER, bulletin

SCRIPT = (
    "ĐÀI TRUYỀN THANH HUYỆN GÒ DẦU\nChương trình buổi sáng 05:30 ngày 15/5/2024\n\n"
    "Kính thưa quý vị và bà con!\n\nXin nhắc lại: số điện thoại là không hai bảy sáu, ba sáu ba, một một sáu tám.\n"
)


def script(key: str = "occ-9:radio:dtt-go-dau", folder: str = "tay-ninh/go-dau", **given: Any) -> Any:
    return bulletin(
        key,
        RecipientKind.STATION,
        "dtt-go-dau",
        name="Đài Truyền thanh huyện Gò Dầu",
        text=SCRIPT,
        facts=StationFacts(folder=folder),
        **given,
    )


def test_a_script_is_written_as_text_and_docx_with_a_manifest(tmp_path: Path) -> None:
    # The draft audio beside it has its own tests (test_radio_audio.py); here the text alone is pinned.
    radio = RadioChannel(RadioOptions(root=tmp_path / "radio", audio=False), output_dir=tmp_path)

    result = radio.send([script()])[0]

    folder = tmp_path / "radio" / "tay-ninh" / "go-dau"
    assert result.outcome == Outcome.SENT
    assert result.provider_id == "tay-ninh/go-dau/2024-05-15_0530_morning_canh-bao.txt"
    text = (folder / "2024-05-15_0530_morning_canh-bao.txt").read_text(encoding="utf-8")
    assert text == SCRIPT
    paragraphs = [p.text for p in Document(str(folder / "2024-05-15_0530_morning_canh-bao.docx")).paragraphs]
    assert paragraphs[0] == "ĐÀI TRUYỀN THANH HUYỆN GÒ DẦU"
    assert "Kính thưa quý vị và bà con!" in paragraphs
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["station"] == "dtt-go-dau"
    assert manifest["scripts"] == [
        {
            "key": "occ-9:radio:dtt-go-dau",
            "file": "2024-05-15_0530_morning_canh-bao.txt",
            "docx": "2024-05-15_0530_morning_canh-bao.docx",
            "campaign": "canh-bao",
            "slot": "morning",
            "airs_at": "2024-05-15T05:30:00+07:00",
            "priority": "priority",
            "sha256": hashlib.sha256(SCRIPT.encode()).hexdigest(),
            "reading_seconds": 7,  # 25 syllables read at 3.5 a second
        }
    ]
    assert not [path for path in folder.iterdir() if path.name.endswith(".part")]


def test_sending_the_same_delivery_again_replaces_its_manifest_entry(tmp_path: Path) -> None:
    radio = RadioChannel(RadioOptions(root=tmp_path), output_dir=tmp_path)
    radio.send([script()])
    radio.send([script()])
    radio.send([script(key="occ-10:radio:dtt-go-dau", script=replace(MORNING, slot="evening"))])
    manifest = json.loads((tmp_path / "tay-ninh" / "go-dau" / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["key"] for entry in manifest["scripts"]] == ["occ-10:radio:dtt-go-dau", "occ-9:radio:dtt-go-dau"]


def test_a_station_folder_outside_the_root_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "radio"
    radio = RadioChannel(RadioOptions(root=root), output_dir=tmp_path)
    for folder in ("../../etc", "/etc", "a/../../b"):
        result = radio.send([script(folder=folder)])[0]
        assert result.outcome == Outcome.INVALID_RECIPIENT
        assert radio.check_recipient(script(folder=folder).recipient) is not None
    assert not (tmp_path / "etc").exists() and not root.exists()


def test_without_docx_only_text_is_written(tmp_path: Path) -> None:
    RadioChannel(RadioOptions(root=tmp_path, docx=False, audio=False), output_dir=tmp_path).send([script()])
    assert sorted(p.suffix for p in (tmp_path / "tay-ninh" / "go-dau").iterdir()) == [".json", ".lock", ".txt"]


def test_the_docx_is_a4_in_vietnamese_with_the_campaign_and_issuer_as_properties(tmp_path: Path) -> None:
    from docx.oxml.ns import qn

    letter = Letter(
        issuer="tay-ninh-stttt",
        sender_name="Sở Thông tin và Truyền thông Tây Ninh",
        sender_email=None,
        number="881/STTTT-TTr",
        subject="tiếp tục cảnh báo các cuộc gọi giả danh",
        dated=None,
    )
    RadioChannel(RadioOptions(root=tmp_path), output_dir=tmp_path).send([script(letter=letter)])

    document = Document(str(tmp_path / "tay-ninh" / "go-dau" / "2024-05-15_0530_morning_canh-bao.docx"))
    section = document.sections[0]
    size = (round(section.page_width.mm), round(section.page_height.mm))  # stored in twentieths of a point
    assert size == (210, 297)  # A4, not US Letter (DOMAIN §7)
    languages = {lang.get(qn("w:val")) for lang in document.styles.element.iter(qn("w:lang"))}
    assert languages == {"vi-VN"}  # Word checks the spelling in Vietnamese, not English
    assert "en-US" not in document.settings.element.xml
    properties = document.core_properties
    assert properties.title == "V/v tiếp tục cảnh báo các cuộc gọi giả danh"
    assert properties.subject == "Số 881/STTTT-TTr"
    assert properties.author == "Sở Thông tin và Truyền thông Tây Ninh"
    assert properties.language == "vi-VN"
    assert "canh-bao" in properties.keywords and "tay-ninh-stttt" in properties.keywords


def test_the_docx_is_made_now_by_this_program_with_no_leftover_of_the_template_document(tmp_path: Path) -> None:
    import zipfile
    from datetime import UTC, datetime

    from broadcaster.clock import FixedClock

    made = datetime(2026, 12, 9, 3, 15, 42, tzinfo=UTC)
    radio = RadioChannel(RadioOptions(root=tmp_path, audio=False), output_dir=tmp_path, clock=FixedClock(made))
    radio.send([script(letter=replace(NO_LETTER, sender_name="Sở Thông tin và Truyền thông Tây Ninh"))])
    path = tmp_path / "tay-ninh" / "go-dau" / "2024-05-15_0530_morning_canh-bao.docx"

    properties = Document(str(path)).core_properties
    assert properties.created == properties.modified == made  # not 2013-12-23
    assert properties.last_modified_by == "Sở Thông tin và Truyền thông Tây Ninh"
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        application = package.read("docProps/app.xml").decode("utf-8")
        types = package.read("[Content_Types].xml").decode("utf-8")
        relations = package.read("_rels/.rels").decode("utf-8")
    assert "<Application>broadcaster</Application>" in application and "Macintosh" not in application
    assert not [name for name in names if "thumbnail" in name]
    assert "thumbnail" not in types and "thumbnail" not in relations


def test_the_docx_sets_the_lines_not_read_apart_from_the_text_to_read_under_headings(tmp_path: Path) -> None:
    RadioChannel(RadioOptions(root=tmp_path, audio=False), output_dir=tmp_path).send([script()])
    document = Document(str(tmp_path / "tay-ninh" / "go-dau" / "2024-05-15_0530_morning_canh-bao.docx"))
    shown = [(paragraph.style.name, paragraph.text) for paragraph in document.paragraphs]
    assert shown[:3] == [
        ("Heading 1", "ĐÀI TRUYỀN THANH HUYỆN GÒ DẦU"),
        ("Dòng không đọc", "Chương trình buổi sáng 05:30 ngày 15/5/2024"),
        ("Heading 2", "Nội dung đọc"),
    ]
    assert all(style == "Normal" for style, _ in shown[3:]) and shown[3][1] == "Kính thưa quý vị và bà con!"
    aside = document.styles["Dòng không đọc"]
    assert aside.font.italic and aside.font.size.pt < document.styles["Normal"].font.size.pt
    assert document.styles["Heading 1"].font.name == "Times New Roman"
    assert "w:pBdr" in document.paragraphs[1]._p.xml  # a rule under the last line that is not read
