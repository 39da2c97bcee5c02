"""E-mail to agencies: the official letter as text and HTML, over SMTP (plain, STARTTLS or SSL).

Embedded default (`BROADCASTER_EMAIL_MODE=file`): each message is written as an .eml file.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
from collections.abc import Sequence
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate
from functools import lru_cache
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    port: int | None = None
    security: Literal["plain", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = None  # the From address; the display name is the issuing unit
    reply_to: str | None = None
    timeout: float = 30.0

    @model_validator(mode="after")
    def _smtp_needs_host_and_sender(self) -> EmailOptions:
        if self.mode == "smtp":
            if not self.host:
                raise ValueError("BROADCASTER_EMAIL_HOST is not set (needed when BROADCASTER_EMAIL_MODE=smtp)")
            if not self.sender or "@" not in self.sender:
                raise ValueError("BROADCASTER_EMAIL_SENDER must be the From address, like vanthu@stttt.tayninh.gov.vn")
            if self.username and self.password is None:
                raise ValueError("BROADCASTER_EMAIL_PASSWORD is not set but BROADCASTER_EMAIL_USERNAME is")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"plain": 25, "starttls": 587, "ssl": 465}[self.security]


# Headers are encoded when set (below), so writing the message must not parse and fold them again.
WIRE = compat32.clone(linesep="\r\n")


# Every letter of a campaign carries the same subject and sender: their RFC 2047 encoding is done
# once, not once per letter (the email package's folding of a long Vietnamese subject costs ~10 ms).
@lru_cache(maxsize=256)
def encoded_header(value: str, name: str = "Subject") -> str:
    """RFC 2047 encoded and folded so that its first line fits after `Name: `."""
    return Header(value, "utf-8", header_name=name).encode() if not value.isascii() else value


@lru_cache(maxsize=4096)
def encoded_address(name: str, address: str, header: str = "To") -> str:
    if not name:
        return address
    return f"{encoded_header(name, header)} <{address}>" if not name.isascii() else formataddr((name, address))


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
    _smtp: smtplib.SMTP | None = None

    def build(self, bulletin: Bulletin) -> Message:
        details = bulletin.details
        sender = self._sender(bulletin)
        message = MIMEMultipart("alternative")
        message["Subject"] = encoded_header(bulletin.parts.get("subject", "").strip() or bulletin.campaign)
        message["From"] = encoded_address(str(details.get("sender_name", "")), sender, "From")
        message["To"] = encoded_address(bulletin.recipient.name, bulletin.recipient.address)
        if reply_to := self.options.reply_to or details.get("sender_email"):
            message["Reply-To"] = str(reply_to)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id(bulletin.key, sender)
        message["X-Broadcaster-Key"] = bulletin.key
        message.attach(MIMEText(bulletin.parts.get("txt", ""), "plain", "utf-8"))
        if html := bulletin.parts.get("html"):
            message.attach(MIMEText(html, "html", "utf-8"))
        return message

    # ---- connection -----------------------------------------------------------------------------

    def open(self) -> None:
        if self.options.mode == "smtp" and self._smtp is None:
            self._smtp = self._connect()

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
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):  # the server may have left first
                self._smtp.quit()
            self._smtp = None

    # ---- sending ------------------------------------------------------------------------------------

    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        if self.options.mode == "file":
            return [self._write(bulletin) for bulletin in batch]
        self.open()
        results = []
        for bulletin in batch:
            if self._smtp is None:
                try:
                    self._smtp = self._connect()  # re-opened after the server dropped us
                except TransientError as exc:
                    results.append(Result.failed(bulletin.key, exc.reason, retryable=True))
                    continue
            results.append(self._deliver(bulletin))
        return results

    def _write(self, bulletin: Bulletin) -> Result:
        folder = self.output_dir / "email" / safe_name(bulletin.campaign)
        path = folder / f"{safe_name(bulletin.key)}.eml"
        write_atomically(path, self.build(bulletin).as_bytes(policy=WIRE))
        return Result(bulletin.key, Outcome.SENT, provider_id=str(path.relative_to(self.output_dir)))

    def _sender(self, bulletin: Bulletin) -> str:
        return self.options.sender or str(bulletin.details.get("sender_email") or "broadcaster@localhost")

    def _deliver(self, bulletin: Bulletin) -> Result:
        assert self._smtp is not None
        message = self.build(bulletin)
        address = bulletin.recipient.address
        try:
            self._smtp.sendmail(self._sender(bulletin), [address], message.as_bytes(policy=WIRE))
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
            self._smtp = None
            return Result.failed(bulletin.key, f"the SMTP connection dropped: {exc}", retryable=True)
        return Result(bulletin.key, Outcome.SENT, provider_id=message["Message-ID"])


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _refused(key: str, code: int, reply: bytes | str, *, invalid: bool) -> Result:
    reason = f"{code} {_text(reply)}"
    if 400 <= code < 500:
        return Result.failed(key, f"the server deferred it: {reason}", retryable=True)
    outcome = Outcome.INVALID_RECIPIENT if invalid else Outcome.REJECTED
    return Result(key, outcome, reason=f"the server refused it: {reason}")
