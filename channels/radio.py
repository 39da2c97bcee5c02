"""Scripts for district and commune radio stations, written into each station's delivery folder.

Each script is a UTF-8 text file and a printable .docx, named by air date, slot and campaign,
written atomically; a manifest per folder lists the scripts with slot, priority, checksum and
reading time. Nothing is ever written outside the configured root.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from broadcaster.errors import ConfigurationError, UserError
from broadcaster.paths import safe_folder
from broadcaster.speech import AudioMaker, SpeechFailed, speech_backend
from broadcaster.text import reading_seconds, unreadable_words
from channels.base import Bulletin, ChannelAdapter, Limits, Outcome, Recipient, RecipientKind, Result
from channels.files import safe_name, write_atomically


class RadioOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADCASTER_RADIO_", extra="ignore")

    root: Path | None = None  # default: <output folder>/radio
    docx: bool = True
    audio: bool = True  # a draft reading beside each script, made once per distinct text
    speech: str = "espeak-ng"  # the engine, a `broadcaster.speech` entry point
    audio_seconds: float = 120.0  # the engine is stopped after this long for one text
    audio_bytes: int = 20_000_000  # and a reading larger than this is dropped


class RadioChannel(ChannelAdapter):
    name = "radio"
    recipient_kind = RecipientKind.STATION
    default_limits = Limits(max_batch=50, rate_per_second=100.0, links_allowed=False)
    Options = RadioOptions

    options: RadioOptions

    @property
    def root(self) -> Path:
        return (self.options.root or self.output_dir / "radio").resolve()

    def kept_facts(self, written: str) -> Mapping[str, Any] | None:
        return script_entry(self.root, written)

    def kept_file(self, written: str, kind: str) -> Path | None:
        return script_file(self.root, written, kind)

    def media_type(self, kind: str) -> str:
        return SCRIPT_FILES.get(kind) or DOCX

    def folder_of(self, recipient: Recipient) -> Path:
        """The station's folder; ValueError when its name would leave the root (`../../etc`)."""
        named = recipient.station.folder
        folder = (self.root / safe_folder(named or recipient.address)).resolve()
        if not folder.is_relative_to(self.root):
            raise ValueError(f"station folder '{named}' leaves the radio output folder")
        return folder

    def check_recipient(self, recipient: Recipient) -> str | None:
        try:
            self.folder_of(recipient)
        except ValueError as exc:
            return str(exc)
        return None

    @classmethod
    def left_to_decode(cls, parts: Mapping[str, str]) -> list[str]:
        """What the announcer would have to decode in the script as read aloud: not a word (DOMAIN §15)."""
        return unreadable_words(_read_aloud(parts.get("txt", "")))

    @classmethod
    def check_read_aloud(cls, parts: Mapping[str, str]) -> list[str]:
        """The announcer reads the script as written: anything that is not a word must be decoded (DOMAIN §15)."""
        left = cls.left_to_decode(parts)
        if not left:
            return []
        quoted = ", ".join(f"'{word}'" for word in left)
        return [
            f"the radio script leaves {quoted} for the announcer to decode; write it out in words or add the "
            "abbreviation to the issuer's reading dictionary (readings: in its profile)"
        ]

    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        written: list[tuple[Bulletin, Path, dict[str, Any]]] = []
        results = [self._deliver(bulletin, written) for bulletin in batch]
        # Every text of the batch is written and listed before any audio is made: the engine never holds up a
        # script, and whatever happens to the audio, the delivery's outcome is the text's.
        if self.options.audio:
            for bulletin, folder, entry in written:
                # The text's outcome stands; a link planted since is reported by the folder's next delivery.
                with contextlib.suppress(StationFolderProblem):
                    self._add_audio(bulletin, folder, entry)
        return results

    def _deliver(self, bulletin: Bulletin, written: list[tuple[Bulletin, Path, dict[str, Any]]]) -> Result:
        try:
            folder = self.folder_of(bulletin.recipient)
        except ValueError as exc:
            return Result(bulletin.key, Outcome.INVALID_RECIPIENT, reason=str(exc))
        when = bulletin.fire_at
        slot = bulletin.script.slot or "slot"
        stem = f"{when:%Y-%m-%d_%H%M}_{safe_name(slot)}_{safe_name(bulletin.campaign)}"
        script = bulletin.parts.get("txt", "")
        data = script.encode("utf-8")
        folder.mkdir(parents=True, exist_ok=True)
        group = folder.stat().st_gid
        write_atomically(folder / f"{stem}.txt", data, mode=SHARED, group=group)
        if self.options.docx:
            document = script_docx(script, bulletin, self.clock.now())
            write_atomically(folder / f"{stem}.docx", document, mode=SHARED, group=group)
        entry = {
            "key": bulletin.key,
            "file": f"{stem}.txt",
            "docx": f"{stem}.docx" if self.options.docx else None,
            "campaign": bulletin.campaign,
            "slot": slot,
            "airs_at": when.isoformat(),
            "priority": bulletin.priority,
            "sha256": hashlib.sha256(data).hexdigest(),
            "reading_seconds": reading_seconds(_read_aloud(script), bulletin.script.reading_rate),
        }
        try:
            update_manifest(folder, bulletin.recipient.address, entry)
        except StationFolderProblem as exc:
            # Only this station's folder is wrong: the others still get their scripts.
            return Result.failed(bulletin.key, str(exc), retryable=True)
        written.append((bulletin, folder, entry))
        return Result(bulletin.key, Outcome.SENT, provider_id=str((folder / f"{stem}.txt").relative_to(self.root)))

    def audio_maker(self, syllables_per_second: float) -> AudioMaker:
        """Readings are made once per distinct text into `<root>/.audio` and linked into station folders."""
        return AudioMaker(
            speech_backend(self.options.speech),
            self.root / ".audio",
            syllables_per_second,
            timeout=self.options.audio_seconds,
            max_bytes=self.options.audio_bytes,
        )

    def _add_audio(self, bulletin: Bulletin, folder: Path, entry: dict[str, Any]) -> None:
        """The script's draft reading beside it, or the sentence saying why there is none, in the manifest."""
        stem = Path(entry["file"]).stem
        try:
            maker = self.audio_maker(bulletin.script.reading_rate)
            audio = maker.audio(_read_aloud(bulletin.parts.get("txt", "")), bulletin.script.region)
            files = {"wav": audio.wav, **audio.compressed}
            for suffix, source in files.items():
                _place(source, folder / f"{stem}.{suffix}")
            entry["audio"] = {suffix: f"{stem}.{suffix}" for suffix in files} | {"seconds": round(audio.seconds, 1)}
            entry.pop("audio_problem", None)
        except (SpeechFailed, UserError, ConfigurationError, OSError) as exc:
            # A draft only: the script went out whatever became of its reading; the manifest says why there is
            # none (an engine that fails, or one the settings name that is not installed).
            entry["audio"] = None
            entry["audio_problem"] = str(exc)
        update_manifest(folder, bulletin.recipient.address, entry)


def _place(source: Path, target: Path) -> None:
    """`source` at `target` as a hard link (the same reading for every station costs its bytes once)."""
    temporary = target.with_name(f".{target.name}.part")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:  # another file system, or one without links
        shutil.copyfile(source, temporary)
    os.chmod(temporary, SHARED)  # the station folder's group plays it, as it reads the script
    os.replace(temporary, target)


def _read_aloud(script: str) -> str:
    """The part an announcer reads: everything after the heading lines."""
    _, _, body = script.partition("\n\n")
    return body or script


SHARED = 0o640  # scripts and manifests: the station folder's group reads them, nobody else


class StationFolderProblem(Exception):
    """Something in a station's folder that the channel will not touch; the message says what to do."""


def _open_no_links(path: Path, flags: int) -> int:
    """Open a file in a station folder, refusing a symbolic link in its place.

    Station folders are shared with station staff: a link planted as `.manifest.lock` or
    `manifest.json` must not make us truncate or read a file elsewhere.
    """
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, SHARED)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StationFolderProblem(
                f"{path} is a symbolic link; remove it (the radio channel follows none)"
            ) from None
        raise


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    # Workers on one machine may write to the same station at once: the manifest is updated under a lock.
    folder.mkdir(parents=True, exist_ok=True)
    with os.fdopen(_open_no_links(folder / ".manifest.lock", os.O_WRONLY | os.O_CREAT), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        descriptor = _open_no_links(path, os.O_RDONLY)
    except FileNotFoundError:
        return {"scripts": []}
    with os.fdopen(descriptor, encoding="utf-8") as stream:
        try:
            manifest = json.load(stream)
        except ValueError:
            raise StationFolderProblem(
                f"{path} is not a manifest this channel wrote (not JSON); move it aside"
            ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scripts", []), list):
        raise StationFolderProblem(f"{path} is not a manifest this channel wrote; move it aside")
    return manifest


def update_manifest(folder: Path, station: str, entry: dict[str, Any]) -> None:
    """Add or replace (same delivery key) one script in the folder's manifest.json, atomically."""
    path = folder / "manifest.json"
    with _locked(folder):
        manifest = _read_manifest(path)
        scripts = [script for script in manifest.get("scripts", []) if script.get("key") != entry["key"]]
        scripts.append(entry)
        scripts.sort(key=lambda script: (script["airs_at"], script["file"]))
        body = {"station": station, "scripts": scripts}
        data = json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
        write_atomically(path, data, mode=SHARED, group=folder.stat().st_gid)


NOT_READ_STYLE = "Dòng không đọc"  # the lines about the script (slot, priority, reading time): not read on air
TO_READ_HEADING = "Nội dung đọc"


def script_docx(script: str, bulletin: Bulletin, now: datetime) -> bytes:
    """The script as a Word document an announcer can print: A4, Vietnamese, the station's name as its
    heading, the lines that are not read (slot, priority, reading time) small and grey in a box apart, then
    under the heading "Nội dung đọc" the text to read, large.

    The language is vi-VN in the styles, so Word checks the spelling in Vietnamese; the campaign and the
    issuer are the document's properties, so a folder of scripts can be searched by them; it was made `now`,
    by this program (none of the template document's own dates, program or thumbnail is left in it).
    """
    from docx import Document
    from docx.shared import Mm

    document = Document()
    _vietnamese(document)
    section = document.sections[0]
    # A4 with the margins of Decree 30/2020 (DOMAIN §7): a station prints on the paper it has.
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    _styles(document)
    heading, _, body = script.partition("\n\n")
    title, *about = heading.splitlines() or [""]
    document.add_heading(title, level=1)
    for index, line in enumerate(about):
        written = document.add_paragraph(line, style=NOT_READ_STYLE)
        if index == len(about) - 1:
            _rule_below(written)
    document.add_heading(TO_READ_HEADING, level=2)
    for paragraph in body.split("\n\n"):
        if paragraph.strip():
            document.add_paragraph(paragraph.strip())
    _properties(document, bulletin, now, words=len(body.split()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _styles(document: Any) -> None:
    """Times New Roman throughout (the headings too, in black, not the template's blue), the text to read at
    14 pt with room between lines, and a style of its own for the lines that are not read."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14)
    normal.paragraph_format.line_spacing = 1.3
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Heading 1", 16), ("Heading 2", 13)):
        style = document.styles[name]
        style.font.name = "Times New Roman"
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
    aside = document.styles.add_style(NOT_READ_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    aside.base_style = normal
    aside.font.size = Pt(11)
    aside.font.italic = True
    aside.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    aside.paragraph_format.space_after = Pt(0)
    aside.paragraph_format.line_spacing = 1.0


def _rule_below(paragraph: Any) -> None:
    """A line under the last paragraph that is not read: the text to read starts below it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "8"), ("w:space", "4"), ("w:color", "808080")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _vietnamese(document: Any) -> None:
    """vi-VN as the language of every run (the defaults and each style that names one) and of the theme."""
    from docx.oxml.ns import qn

    for lang in document.styles.element.iter(qn("w:lang")):
        lang.set(qn("w:val"), "vi-VN")
    for lang in document.settings.element.iter(qn("w:themeFontLang")):
        lang.set(qn("w:val"), "vi-VN")


def _properties(document: Any, bulletin: Bulletin, now: datetime, words: int) -> None:
    letter = bulletin.letter
    properties = document.core_properties
    properties.title = f"V/v {letter.subject}" if letter.subject else bulletin.campaign
    properties.subject = f"Số {letter.number.strip()}" if letter.number else bulletin.campaign
    properties.author = letter.sender_name or letter.issuer
    properties.last_modified_by = properties.author
    properties.category = "Kịch bản phát thanh"
    keywords = (bulletin.campaign, letter.issuer, bulletin.script.slot)
    properties.keywords = "; ".join(str(keyword) for keyword in keywords if keyword)
    properties.comments = f"{bulletin.campaign} · {bulletin.recipient.name or bulletin.recipient.address}"
    properties.language = "vi-VN"
    stamp = now.astimezone(UTC).replace(microsecond=0, tzinfo=None)  # core.xml holds UTC, to the second
    properties.created = properties.modified = stamp
    properties.revision = 1
    _application_properties(document, properties.author, words)


def _application_properties(document: Any, company: str, words: int) -> None:
    """docProps/app.xml said "Microsoft Macintosh Word" and a blank thumbnail came along: this program's own
    name instead, and no thumbnail."""
    from xml.sax.saxutils import escape

    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype in (RT.THUMBNAIL, RT.EXTENDED_PROPERTIES):
            package.rels.pop(rel_id)
    xml = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        f"<Application>broadcaster</Application><Words>{words}</Words>"
        f"<Company>{escape(company)}</Company><DocSecurity>0</DocSecurity></Properties>"
    )
    content_type = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
    part = Part(PackURI("/docProps/app.xml"), content_type, xml.encode("utf-8"), package)
    package.relate_to(part, RT.EXTENDED_PROPERTIES)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SCRIPT_FILES = {
    "txt": "text/plain; charset=utf-8",
    "docx": DOCX,
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
}


def script_entry(root: Path, written: str) -> dict[str, Any] | None:
    """The manifest entry of a script written at `written` (a delivery's provider id, relative to the root)."""
    path = (root / written).resolve()
    if not path.is_relative_to(root.resolve()):
        return None
    manifest = path.parent / "manifest.json"
    try:
        scripts = json.loads(manifest.read_text(encoding="utf-8")).get("scripts", [])
    except (OSError, ValueError):
        return None
    return next((entry for entry in scripts if entry.get("file") == path.name), None)


def script_file(root: Path, written: str, kind: str) -> Path | None:
    """The script's file of one kind (txt, docx, wav, mp3, ogg) beside the written text, if it exists."""
    entry = script_entry(root, written)
    if entry is None or kind not in SCRIPT_FILES:
        return None
    name = entry.get(kind) if kind in ("docx",) else (entry.get("audio") or {}).get(kind)
    name = entry["file"] if kind == "txt" else name
    if not name:
        return None
    path = ((root / written).resolve().parent / str(name)).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None
