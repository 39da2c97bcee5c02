"""E-mail to agencies: the official letter as text and HTML with its A4 PDF attached, over SMTP
(plain, STARTTLS or SSL).

Embedded default (`BROADCASTER_EMAIL_MODE=file`): each message is written as an .eml file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import date
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32, strict
from email.utils import formataddr, formatdate
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broadcaster.clock import Clock
from broadcaster.letters import letter_file
from channels.base import (
    Bulletin,
    ChannelAdapter,
    Limits,
    Outcome,
    PermanentError,
    RecipientKind,
    Result,
    TransientError,
)
from channels.files import safe_name, write_atomically


class EmailOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADCASTER_EMAIL_", extra="ignore")

    mode: Literal["file", "smtp"] = "file"
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["plain", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = None  # the From address; the display name is the issuing unit
    reply_to: str | None = None
    timeout: float = 30.0
    # SMTP sessions a worker keeps open; a batch's letters are spread over them, so one letter's
    # rendering and our side of the exchange overlap the server's handling of another.
    connections: int = Field(2, ge=1, le=10)

    @model_validator(mode="after")
    def _smtp_needs_host_and_sender(self) -> EmailOptions:
        if self.mode == "smtp":
            if not self.host:
                raise ValueError("BROADCASTER_EMAIL_HOST is not set (needed when BROADCASTER_EMAIL_MODE=smtp)")
            if problem := sender_problem(self.sender):
                raise ValueError(problem)
            if self.username and self.password is None:
                raise ValueError("BROADCASTER_EMAIL_PASSWORD is not set but BROADCASTER_EMAIL_USERNAME is")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"plain": 25, "starttls": 587, "ssl": 465}[self.security]


# Domains no mail server on the Internet accepts mail from (RFC 2606, RFC 6761, mDNS, home networks):
# a From address there is a machine's default, not the department's address, and is bounced or binned.
_UNROUTABLE = re.compile(r"(^|\.)(localhost|localdomain|local|invalid|internal|lan|home\.arpa)$")
_ADDRESS = re.compile(r"^[^@\s<>\"]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)$")


def sender_problem(sender: str | None) -> str | None:
    """Why an address cannot be the From of an official letter sent over SMTP; None when it can."""
    example = "like vanthu@stttt.tayninh.gov.vn"
    if not sender:
        return f"BROADCASTER_EMAIL_SENDER is not set: SMTP needs the department's real From address, {example}"
    match = _ADDRESS.match(sender.strip())
    if match is None:
        return f"BROADCASTER_EMAIL_SENDER '{sender}' is not an e-mail address; give the From address, {example}"
    domain = match[1].lower()
    if "." not in domain or _UNROUTABLE.search(domain) or _is_ip(domain):
        return (
            f"BROADCASTER_EMAIL_SENDER '{sender}' is a local address that mail servers refuse or bin; "
            f"give the department's real From address, {example}"
        )
    return None


def _is_ip(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return False
    return True


# Headers are encoded when set (below), so writing the message must not parse and fold them again.
WIRE = compat32.clone(linesep="\r\n")
# RFC 2047 §2: a line holding encoded-words is at most 76 characters; one encoded-word at most 75.
_LINE = 76


def _encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def encoded_words(value: str, room: int = _LINE) -> list[str]:
    """RFC 2047 encoded-words that each hold whole words, so that no reader sees "Bình Ph ước".

    A reader drops the folding between encoded-words, so each one after the first carries the space
    before its first word. `room` is what the first line has left after the header's name.
    """
    words: list[str] = []
    current = ""
    for index, word in enumerate(value.split(" ")):
        piece = word if index == 0 else f" {word}"
        limit = room if not words else _LINE - 1
        if current and len(_encoded_word(current + piece)) > limit:
            words.append(_encoded_word(current))
            current = piece
        else:
            current += piece
    words.append(_encoded_word(current))
    return words


class UnsafeHeader(ValueError):
    """A text of the letter would break out of its header: that letter is refused, not sent."""


def _one_header(name: str, value: str) -> str:
    """`value` as the standard library's strict policy takes a header: a line break in it, which would start a
    header of the content's choosing (`Bcc:`), is refused. The texts are checked when they come in; this is
    the last guard, where the letter is written."""
    try:
        strict.header_store_parse(name, value)
    except ValueError:
        raise UnsafeHeader(
            f"the letter's {name} would hold a line break, which could add headers to it; it was not sent"
        ) from None
    return value


# Every letter of a campaign carries the same subject and sender: their encoding is done once, not
# once per letter.
@lru_cache(maxsize=256)
def encoded_header(value: str, name: str = "Subject") -> str:
    """The header's value, RFC 2047 encoded where it is not ASCII, folded so that no line passes 76 characters."""
    _one_header(name, value)
    if value.isascii():
        return value
    return "\n ".join(encoded_words(value, _LINE - len(name) - 2))


# A word that may stand unencoded in a display name (RFC 5322 atext).
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$")


def _phrase(name: str) -> list[str]:
    """A display name as header words: plain words stay plain, each run of the others is encoded.

    "Sở Thông tin và Truyền thông Bình Phước" becomes "=?…Sở Thông?= tin =?…và Truyền thông Bình Phước?=":
    no two encoded-words meet, so readers that keep the space between encoded-words in a name (as
    Python's own parser does) and readers that drop it (as RFC 2047 asks) both show the name whole.
    """
    words: list[str] = []
    run: list[str] = []
    for word in name.split():
        if _ATOM.match(word):
            if run:
                words += encoded_words(" ".join(run), _LINE - 1)
                run = []
            words.append(word)
        else:
            run.append(word)
    if run:
        words += encoded_words(" ".join(run), _LINE - 1)
    return words


def _fold(words: list[str], room: int) -> str:
    """Words joined by spaces, a line break before any word that would pass 76 characters."""
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) > (room if len(lines) == 1 else _LINE - 1):
            lines.append(word)
        else:
            lines[-1] += f" {word}"
    return "\n ".join(lines)


@lru_cache(maxsize=4096)
def encoded_address(name: str, address: str, header: str = "To") -> str:
    """`Name <address>`, a Vietnamese name encoded so that mail readers show it whole."""
    _one_header(header, name)
    _one_header(header, address)
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return _fold([*_phrase(name), f"<{address}>"], _LINE - len(header) - 2)


@lru_cache(maxsize=64)
def letter_body(text: str, html: str, number: str = "", dated: date | None = None) -> bytes:
    """MIME-Version, the multipart Content-Type, the text and HTML parts (base64 in UTF-8) and the
    letter's A4 PDF as an attachment named `<number>-<date>.pdf`, as wire bytes.

    Encoding a letter's parts and laying out its PDF are most of the cost of building it, and a
    campaign's letters share their text (the addressees are in the headers), so both are done once
    per distinct text.
    """
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(text, "plain", "utf-8"))
    if html:
        alternative.attach(MIMEText(html, "html", "utf-8"))
    attachment = letter_file(html, number, dated)
    if attachment is None:
        return alternative.as_bytes(policy=WIRE)
    body = MIMEMultipart("mixed")
    body.attach(alternative)
    pdf = MIMEApplication(attachment.pdf, "pdf", name=attachment.name)
    pdf.add_header("Content-Disposition", "attachment", filename=attachment.name)
    body.attach(pdf)
    return body.as_bytes(policy=WIRE)


def _crlf(value: str) -> str:
    """A folded header value with the wire's line ends."""
    return "\r\n".join(value.splitlines())


def message_id(key: str, sender: str) -> str:
    """The same delivery always gets the same Message-ID, so a resent letter is recognisably the same."""
    domain = sender.rpartition("@")[2] or "broadcaster.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailChannel(ChannelAdapter):
    name = "email"
    recipient_kind = RecipientKind.AGENCY
    default_limits = Limits(max_batch=50, rate_per_second=20.0, links_allowed=True)
    Options = EmailOptions

    options: EmailOptions

    def __init__(self, options: EmailOptions, *, output_dir: Path, clock: Clock | None = None) -> None:
        super().__init__(options, output_dir=output_dir, clock=clock)
        self._sessions: list[smtplib.SMTP | None] = [None] * options.connections
        self._lanes: ThreadPoolExecutor | None = None

    def build(self, bulletin: Bulletin) -> bytes:
        """The letter as it goes on the wire (CRLF line ends): its own headers, then the text and HTML
        parts, which are encoded once per distinct text and shared by every letter that carries it."""
        letter = bulletin.letter
        sender = self._sender(bulletin)
        headers = {
            # A subject rendered over two lines is still one subject line.
            "Subject": encoded_header(" ".join(bulletin.parts.get("subject", "").split()) or bulletin.campaign),
            "From": encoded_address(letter.sender_name, sender, "From"),
            "To": encoded_address(bulletin.recipient.name, bulletin.recipient.address),
        }
        if reply_to := self.options.reply_to or letter.sender_email:
            headers["Reply-To"] = _one_header("Reply-To", reply_to)
        headers["Date"] = formatdate(localtime=True)
        headers["Message-ID"] = message_id(bulletin.key, sender)
        headers["X-Broadcaster-Key"] = bulletin.key
        lines = "".join(f"{name}: {_crlf(value)}\r\n" for name, value in headers.items())
        return lines.encode() + letter_body(
            bulletin.parts.get("txt", ""), bulletin.parts.get("html") or "", letter.number, letter.dated
        )

    # ---- connection -----------------------------------------------------------------------------

    def open(self) -> None:
        """Connect the first session now, so that a wrong host or login shows at start; the others
        connect when first used."""
        if self.options.mode == "smtp" and self._sessions[0] is None:
            self._sessions[0] = self._connect()

    def _connect(self) -> smtplib.SMTP:
        options = self.options
        host, port = str(options.host), options.effective_port
        try:
            if options.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=options.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=options.timeout)
                if options.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if options.username and options.password is not None:
                smtp.login(options.username, options.password.get_secret_value())
        except smtplib.SMTPAuthenticationError:
            raise PermanentError(
                f"the SMTP server {host}:{port} refused the login of '{options.username}'; "
                "check BROADCASTER_EMAIL_USERNAME and BROADCASTER_EMAIL_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentError(
                f"the SMTP server {host}:{port} does not offer STARTTLS; set BROADCASTER_EMAIL_SECURITY"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"cannot connect to the SMTP server {host}:{port}: {exc}") from None
        return smtp

    def close(self) -> None:
        if self._lanes is not None:
            self._lanes.shutdown()
            self._lanes = None
        for lane, smtp in enumerate(self._sessions):
            if smtp is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):  # the server may have left first
                    smtp.quit()
                self._sessions[lane] = None

    # ---- sending ------------------------------------------------------------------------------------

    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        if self.options.mode == "file":
            return [self._write(bulletin) for bulletin in batch]
        self.open()
        lanes = min(len(self._sessions), len(batch))
        if lanes <= 1:
            return self._send_on(0, batch)
        if self._lanes is None:
            self._lanes = ThreadPoolExecutor(len(self._sessions), thread_name_prefix="smtp")
        shares = [self._lanes.submit(self._send_on, lane, batch[lane::lanes]) for lane in range(lanes)]
        wait(shares)  # every session is idle again before anything is raised
        results: list[Result] = [None] * len(batch)  # type: ignore[list-item]
        for lane, share in enumerate(shares):
            results[lane::lanes] = share.result()  # a PermanentError in any share is the batch's
        return results

    def _send_on(self, lane: int, letters: Sequence[Bulletin]) -> list[Result]:
        """Letters over one session, in order; a session the server dropped is opened again."""
        results = []
        for bulletin in letters:
            if self._sessions[lane] is None:
                try:
                    self._sessions[lane] = self._connect()
                except TransientError as exc:
                    results.append(Result.failed(bulletin.key, exc.reason, retryable=True))
                    continue
            results.append(self._deliver(lane, bulletin))
        return results

    def _write(self, bulletin: Bulletin) -> Result:
        folder = self.output_dir / "email" / safe_name(bulletin.campaign)
        path = folder / f"{safe_name(bulletin.key)}.eml"
        try:
            write_atomically(path, self.build(bulletin))
        except UnsafeHeader as exc:
            return Result(bulletin.key, Outcome.REJECTED, reason=str(exc))
        return Result(bulletin.key, Outcome.SENT, provider_id=str(path.relative_to(self.output_dir)))

    def _sender(self, bulletin: Bulletin) -> str:
        return self.options.sender or bulletin.letter.sender_email or "broadcaster@localhost"

    def _deliver(self, lane: int, bulletin: Bulletin) -> Result:
        smtp = self._sessions[lane]
        assert smtp is not None
        address, sender = bulletin.recipient.address, self._sender(bulletin)
        try:
            letter = self.build(bulletin)
        except UnsafeHeader as exc:
            return Result(bulletin.key, Outcome.REJECTED, reason=str(exc))
        try:
            smtp.sendmail(sender, [address], letter)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(address, (550, b"refused"))
            return _refused(bulletin.key, code, reply, invalid=True)
        except smtplib.SMTPSenderRefused as exc:
            raise PermanentError(
                f"the SMTP server refused the sender {exc.sender}: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPDataError as exc:
            return _refused(bulletin.key, exc.smtp_code, exc.smtp_error, invalid=False)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._sessions[lane] = None
            return Result.failed(bulletin.key, f"the SMTP connection dropped: {exc}", retryable=True)
        return Result(bulletin.key, Outcome.SENT, provider_id=message_id(bulletin.key, sender))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _refused(key: str, code: int, reply: bytes | str, *, invalid: bool) -> Result:
    reason = f"{code} {_text(reply)}"
    if 400 <= code < 500:
        return Result.failed(key, f"the server deferred it: {reason}", retryable=True)
    outcome = Outcome.INVALID_RECIPIENT if invalid else Outcome.REJECTED
    return Result(key, outcome, reason=f"the server refused it: {reason}")
