"""Files and paths named in campaign data stay where they belong: images and templates inside the
content folder, locales that are language tags, radio files that never follow a planted link."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.store import check_campaign
from broadcaster.db import transaction
from broadcaster.directory import import_issuer, import_subscribers
from broadcaster.locales import normalise_locale
from broadcaster.models import Subscriber
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from channels.base import Outcome, PageFacts, PermanentError, RecipientKind, StationFacts
from channels.facebook import FacebookCampaignOptions, FacebookChannel, FacebookOptions
from channels.radio import RadioChannel, RadioOptions
from tests.conftest import CONFIG, CONTENT
from tests.helpers import bulletin

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"


def png() -> bytes:
    """A real one-pixel PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def own_content(settings: Settings, tmp_path: Path) -> Settings:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return settings.model_copy(update={"content_dir": folder})


def tay_ninh(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TAY_NINH.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def problems(shipped: sessionmaker[Session], settings: Settings, data: dict[str, Any]) -> list[str]:
    with shipped() as session:
        return [str(problem) for problem in check_campaign(session, parse_campaign(data, "test.yaml"), settings)]


def with_image(image: str) -> dict[str, Any]:
    data = tay_ninh()
    data["channels"]["facebook"]["image"] = image
    return data


# ---- Facebook images ----------------------------------------------------------------------------


def test_a_picture_inside_the_content_folder_passes_validation(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    (own_content.content_dir / "images").mkdir()
    (own_content.content_dir / "images" / "canh-bao.png").write_bytes(png())
    assert problems(shipped, own_content, with_image("images/canh-bao.png")) == []


@pytest.mark.parametrize(
    ("image", "sentence"),
    [
        ("/etc/passwd", "the image '/etc/passwd' must be a path inside the content folder, not an absolute path"),
        ("../../../../../../etc/passwd", "the image '../../../../../../etc/passwd' leads outside the content folder"),
        ("linked.png", "the image 'linked.png' leads outside the content folder"),
        ("missing.png", "the image 'missing.png' does not exist in the content folder"),
        ("not-a-picture.png", "the image 'not-a-picture.png' is not a JPEG, PNG, GIF, BMP or TIFF picture"),
        ("huge.jpg", "the image 'huge.jpg' is larger than 4 MB, the most Facebook takes for a photo"),
        ("templates", "the image 'templates' is not a file"),
    ],
)
def test_an_image_outside_the_content_folder_or_not_a_picture_fails_validation(
    shipped: sessionmaker[Session], own_content: Settings, tmp_path: Path, image: str, sentence: str
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    (own_content.content_dir / "linked.png").symlink_to(secret)
    (own_content.content_dir / "not-a-picture.png").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (own_content.content_dir / "huge.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(4 * 1024 * 1024))
    assert problems(shipped, own_content, with_image(image)) == [f"channels.facebook.image: {sentence}"]


def test_an_image_swapped_after_validation_is_not_posted(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "canh-bao.png").symlink_to("/etc/passwd")
    post = bulletin(
        "occ-1:facebook:page",
        RecipientKind.PAGE,
        "100064000000001",
        options=FacebookCampaignOptions(image="canh-bao.png"),
        content_dir=content,
        facts=PageFacts(token_secret="BROADCASTER_FACEBOOK_TOKEN_TAY_NINH"),
    )
    facebook = FacebookChannel(FacebookOptions(), output_dir=tmp_path / "out")
    with pytest.raises(PermanentError, match=r"the image 'canh-bao\.png' leads outside the content folder"):
        facebook.send([post])
    assert not (tmp_path / "out").exists()


# ---- locales ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"), [("vi", "vi"), ("EN", "en"), ("vi_vn", "vi-VN"), ("zh-hant-tw", "zh-Hant-TW")]
)
def test_a_locale_is_a_language_tag_in_its_standard_spelling(given: str, stored: str) -> None:
    assert normalise_locale(given) == stored


@pytest.mark.parametrize("locale", ["../../../../etc", "=1+1", "xx", "und", "x-private", "vi/../en", ""])
def test_a_path_or_an_unknown_language_is_not_a_locale(locale: str) -> None:
    with pytest.raises(ValueError, match="language tag"):
        normalise_locale(locale)


def test_a_campaign_with_a_path_for_a_locale_fails_validation(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_campaign(tay_ninh(locales=["vi", "../../../../etc"]), "test.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "locales[1]: '../../../../etc' is not a language tag (write one such as vi, en or vi-VN)"
    ]
    assert parse_campaign(tay_ninh(locales=["VI", "En"]), "test.yaml").locales == ["vi", "en"]


def test_an_issuer_whose_locale_is_a_path_is_not_imported(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    profile = yaml.safe_load((CONFIG / "issuers" / "tay-ninh-stttt.yaml").read_text(encoding="utf-8"))
    profile["locale"] = "../../etc"
    path = tmp_path / "issuer.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught, transaction(sessions) as session:
        import_issuer(session, path)
    assert [str(p) for p in caught.value.problems] == [
        "locale: '../../etc' is not a language tag (write one such as vi, en or vi-VN)"
    ]


def test_a_subscriber_whose_locale_is_not_a_language_is_rejected_by_line(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "subscribers.csv"
    path.write_text("phone,locale\n0912345678,=1+1\n0912345679,EN\n", encoding="utf-8")
    with transaction(sessions) as session:
        report = import_subscribers(session, path, "thu", None)
        stored = {row.phone: row.locale for row in session.query(Subscriber)}
    assert [(line, reason) for line, reason, _ in report.rejects] == [
        (2, "'=1+1' is not a language tag (write one such as vi, en or vi-VN)")
    ]
    assert stored == {"+84912345679": "en"}


# ---- templates ----------------------------------------------------------------------------------


def test_a_template_linked_to_a_file_outside_the_content_folder_is_refused(
    shipped: sessionmaker[Session], own_content: Settings, tmp_path: Path
) -> None:
    outside = tmp_path / "hostname"
    outside.write_text("may-chu-noi-bo\n")
    folder = own_content.templates_dir / "goi-gia-danh" / "vi"
    (folder / "chu-ky.j2").symlink_to(outside)
    sms = folder / "sms.txt.j2"
    sms.write_text(sms.read_text(encoding="utf-8") + '{% include "goi-gia-danh/vi/chu-ky.j2" %}\n', encoding="utf-8")
    found = problems(shipped, own_content, tay_ninh())
    assert len(found) == 1, found
    assert found[0].startswith("template: shared template 'goi-gia-danh' cannot be copied: it reads")
    assert "leads outside the templates folder" in found[0] and "goi-gia-danh/vi/chu-ky.j2" in found[0]
    assert "may-chu-noi-bo" not in found[0]


def test_a_template_folder_linked_out_of_the_content_folder_is_refused(
    shipped: sessionmaker[Session], own_content: Settings, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(own_content.templates_dir / "goi-gia-danh", elsewhere)
    (own_content.templates_dir / "goi-gia-danh").symlink_to(elsewhere)
    found = problems(shipped, own_content, tay_ninh())
    # The linked folder is not followed: its templates are not there for the campaign.
    assert found == [
        "template: shared template 'goi-gia-danh' has no texts (a folder linked from elsewhere is not followed)"
    ]


# ---- radio files --------------------------------------------------------------------------------


def script(folder: str = "go-dau") -> Any:
    return bulletin(
        "occ-9:radio:dtt-go-dau",
        RecipientKind.STATION,
        "dtt-go-dau",
        text="Kính thưa bà con!\n\nXin cảnh giác.\n",
        facts=StationFacts(folder=folder),
    )


@pytest.mark.parametrize("planted", [".manifest.lock", "manifest.json"])
def test_a_link_planted_in_a_station_folder_is_never_followed(tmp_path: Path, planted: str) -> None:
    victim = tmp_path / "important.txt"
    victim.write_text("nothing may change this\n")
    folder = tmp_path / "radio" / "go-dau"
    folder.mkdir(parents=True)
    (folder / planted).symlink_to(victim)
    result = RadioChannel(RadioOptions(root=tmp_path / "radio"), output_dir=tmp_path).send([script()])[0]
    assert victim.read_text() == "nothing may change this\n"
    assert result.outcome == Outcome.FAILED
    assert result.reason == f"{folder / planted} is a symbolic link; remove it (the radio channel follows none)"


def test_scripts_and_manifest_are_readable_by_the_station_folders_group(tmp_path: Path) -> None:
    folder = tmp_path / "radio" / "go-dau"
    folder.mkdir(parents=True)
    result = RadioChannel(RadioOptions(root=tmp_path / "radio"), output_dir=tmp_path).send([script()])[0]
    assert result.outcome == Outcome.SENT
    for name in os.listdir(folder):
        if name != ".manifest.lock":
            mode = stat.S_IMODE((folder / name).stat().st_mode)
            assert mode == 0o640, f"{name}: {oct(mode)}"
            assert (folder / name).stat().st_gid == folder.stat().st_gid
