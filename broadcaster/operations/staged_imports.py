"""Directory imports with a preview: nothing is written until the person who saw the preview confirms.

    staged = stage_upload(session, actor, settings, kind, content, filename, list_slug=…)   # a dry run
    report = confirm(session, actor, settings, staged.token)                               # the import

The preview is a dry run of the very import that confirming performs (`operations.directory.import_upload`,
the one parser and the one set of rules), inside a savepoint that is always rolled back: the counts it
shows — imported, converted, rejected — and the columns it did and did not recognise are the import's
own. The uploaded bytes wait in the data folder under a random token, for the account that uploaded
them only, until confirmed (and a day at most); the rejected and converted rows are downloadable from
the same dry run, before and after confirming.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.csvfiles import Columns, Table, Upload, csv_bytes
from broadcaster.directory import ImportReport, NothingImported
from broadcaster.errors import NotFound
from broadcaster.operations.directory import check_kind, import_upload
from broadcaster.paths import upload_name
from broadcaster.settings import Settings

SAMPLE_ROWS = 5
KEPT_SECONDS = 24 * 3600
_TOKEN_LENGTH = 32
_KEPT_SUFFIX = ".kept"  # a file kept after a refused upload (`keep_upload`)


@dataclass(frozen=True)
class Staged:
    """An upload waiting for confirmation, and what importing it would do."""

    token: str
    kind: str
    filename: str
    list_slug: str | None
    list_name: str | None
    report: ImportReport
    sample_header: list[str]
    sample_rows: list[list[str]]
    nothing_importable: bool  # every row would be rejected: there is nothing to confirm

    @property
    def converted(self) -> int:
        return len(self.report.converted)

    @property
    def rejected(self) -> int:
        return len(self.report.rejects)


def _folder(settings: Settings) -> Path:
    folder = settings.data_dir / "staged-imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _forget_old(folder: Path, now: datetime) -> None:
    """Remove what was kept longer than a day, aged by the time written in each file's description (the
    settings' clock), never by the file system's: a file another request is writing at this moment is
    always described before it is written, so it is never taken for an old one."""
    limit = now.timestamp() - KEPT_SECONDS
    for about_path in folder.glob("*.json"):
        try:
            kept_at = float(json.loads(about_path.read_text(encoding="utf-8"))["kept_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or gone already
        if kept_at < limit:
            _content_of(about_path).unlink(missing_ok=True)  # the content first: no description left without it
            about_path.unlink(missing_ok=True)


def _content_of(about_path: Path) -> Path:
    """`<token>.json` describes `<token>.csv` (a staged import); `<token>.kept.json` describes `<token>.kept`."""
    name = about_path.name.removesuffix(".json")
    return about_path.with_name(name if name.endswith(_KEPT_SUFFIX) else f"{name}.csv")


def _keep(folder: Path, about_name: str, content_name: str, about: dict[str, object], content: bytes) -> None:
    """The description first (with the moment it was kept), then the content: see `_forget_old`."""
    (folder / about_name).write_text(json.dumps(about, ensure_ascii=False), encoding="utf-8")
    (folder / content_name).write_bytes(content)


def _columns(kind: str) -> Columns:
    from broadcaster import directory

    return {
        "areas": directory.AREA_COLUMNS,
        "agencies": directory.AGENCY_COLUMNS,
        "stations": directory.STATION_COLUMNS,
        "pages": directory.PAGE_COLUMNS,
        "subscribers": directory.SUBSCRIBER_COLUMNS,
        "zalo-templates": directory.TEMPLATE_COLUMNS,
    }[kind]


def _dry_run(
    session: Session,
    actor: Actor,
    kind: str,
    content: bytes,
    filename: str,
    list_slug: str | None,
    list_name: str | None,
) -> tuple[ImportReport, bool]:
    """The import itself, in a savepoint rolled back whatever happens: its report, and whether all was rejected."""
    savepoint = session.begin_nested()
    try:
        return import_upload(session, actor, kind, content, filename, list_slug=list_slug, list_name=list_name), False
    except NothingImported as exc:
        return exc.report, True
    finally:
        savepoint.rollback()


def _samples(kind: str, content: bytes, filename: str) -> tuple[list[str], list[list[str]]]:
    """The first rows as the import's own reader reads them."""
    table = Table(Upload.of_bytes(filename, content), _columns(kind))
    rows = []
    for row in table.rows(lambda _row, _reason: None):
        rows.append(list(row.raw))
        if len(rows) >= SAMPLE_ROWS:
            break
    return table.header, rows


def stage_upload(
    session: Session,
    actor: Actor,
    settings: Settings,
    kind: str,
    content: bytes,
    filename: str,
    *,
    list_slug: str | None = None,
    list_name: str | None = None,
) -> Staged:
    """Keep the upload for confirmation and say what importing it would do (nothing is written)."""
    actor.require("directory:manage")
    check_kind(kind, list_slug, importing=True)
    report, hopeless = _dry_run(session, actor, kind, content, filename, list_slug, list_name)
    header, rows = _samples(kind, content, report.source)
    folder = _folder(settings)
    now = settings.clock.now()
    _forget_old(folder, now)
    token = secrets.token_hex(_TOKEN_LENGTH // 2)
    about = {"account": actor.login, "kind": kind, "filename": filename, "list": list_slug, "list_name": list_name}
    _keep(folder, f"{token}.json", f"{token}.csv", {**about, "kept_at": now.timestamp()}, content)
    return Staged(token, kind, report.source, list_slug, list_name, report, header, rows, hopeless)


def _staged(actor: Actor, settings: Settings, token: str) -> tuple[dict[str, str | None], bytes]:
    folder = _folder(settings)
    about_path, content_path = folder / f"{token}.json", folder / f"{token}.csv"
    known = len(token) == _TOKEN_LENGTH and all(char in "0123456789abcdef" for char in token)
    if not known or not about_path.is_file() or not content_path.is_file():
        raise NotFound("the previewed file is no longer kept: upload it again")
    about = json.loads(about_path.read_text(encoding="utf-8"))
    if about["account"] != actor.login:
        raise NotFound("the previewed file is no longer kept: upload it again")  # another's upload is not named
    return about, content_path.read_bytes()


def preview(session: Session, actor: Actor, settings: Settings, token: str) -> Staged:
    """The preview of a kept upload, again (a dry run: nothing is written)."""
    actor.require("directory:manage")
    about, content = _staged(actor, settings, token)
    kind, filename = str(about["kind"]), str(about["filename"])
    report, hopeless = _dry_run(session, actor, kind, content, filename, about["list"], about["list_name"])
    header, rows = _samples(kind, content, report.source)
    return Staged(token, kind, report.source, about["list"], about["list_name"], report, header, rows, hopeless)


def confirm(session: Session, actor: Actor, settings: Settings, token: str) -> ImportReport:
    """Import the kept upload for real, exactly as previewed (one transaction, audited)."""
    actor.require("directory:manage")
    about, content = _staged(actor, settings, token)
    return import_upload(
        session,
        actor,
        str(about["kind"]),
        content,
        str(about["filename"]),
        list_slug=about["list"],
        list_name=about["list_name"],
    )


def download(session: Session, actor: Actor, settings: Settings, token: str, what: str) -> tuple[str, bytes]:
    """The rejected rows (`rejected`: to correct and import again), the converted numbers (`converted`) or
    every note (`notes`) as CSV."""
    staged = preview(session, actor, settings, token)
    if what == "rejected":
        header, rows = staged.report.rejects_table()
    elif what == "converted":
        header = ["line", "old number", "new number"]
        rows = [[str(line), old, new] for line, old, new in staged.report.converted]
    else:
        header, rows = staged.report.notes_table()
    stem = Path(upload_name(staged.filename, staged.kind)).stem or staged.kind
    return f"{stem}-{what}.csv", csv_bytes(header, rows)


# ---- a file kept after a refused upload, so the person does not choose it again ---------------------------------


def keep_upload(actor: Actor, settings: Settings, content: bytes, filename: str) -> str:
    """Keep an upload the form refused (a list name missing, say) for its account; the token names it."""
    folder = _folder(settings)
    now = settings.clock.now()
    _forget_old(folder, now)
    token = secrets.token_hex(_TOKEN_LENGTH // 2)
    about = {"account": actor.login, "filename": filename, "kept_at": now.timestamp()}
    _keep(folder, f"{token}{_KEPT_SUFFIX}.json", f"{token}{_KEPT_SUFFIX}", about, content)
    return token


def kept_upload(actor: Actor, settings: Settings, token: str) -> tuple[str, bytes]:
    """(file name, content) of a kept upload of this account; NotFound when it is gone or another's."""
    folder = _folder(settings)
    known = len(token) == _TOKEN_LENGTH and all(char in "0123456789abcdef" for char in token)
    content_path, about_path = folder / f"{token}{_KEPT_SUFFIX}", folder / f"{token}{_KEPT_SUFFIX}.json"
    if not known or not content_path.is_file() or not about_path.is_file():
        raise NotFound("the file chosen before is no longer kept: choose it again")
    about = json.loads(about_path.read_text(encoding="utf-8"))
    if about["account"] != actor.login:
        raise NotFound("the file chosen before is no longer kept: choose it again")
    return str(about["filename"]), content_path.read_bytes()
