"""The e-mail adapter against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.base import Outcome, RecipientKind, TransientError
from channels.email import EmailChannel, EmailOptions, UnsafeHeader
from tests.helpers import NO_LETTER, bulletin, free_port


@dataclass
class Mailbox:
    """A real SMTP server's handler: keeps what it received, refuses and drops where told."""

    messages: list[Envelope] = field(default_factory=list)
    connections: int = 0
    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    drop_on: set[str] = field(default_factory=set)
    port: int = field(default_factory=free_port)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.defer:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if set(envelope.rcpt_tos) & self.drop_on:
            assert server.transport is not None
            server.transport.close()  # the connection drops in the middle of the transaction
            return "421 closing"
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def adapter(mailbox: Mailbox, tmp_path: Path, connections: int = 1) -> EmailChannel:
    options = EmailOptions(
        mode="smtp",
        host="127.0.0.1",
        port=mailbox.port,
        security="plain",
        sender="vanthu@stttt.tayninh.example",
        reply_to="thanhtra@stttt.tayninh.example",
        connections=connections,
    )
    return EmailChannel(options, output_dir=tmp_path)


def letter(key: str, address: str, name: str = "Sở Y tế") -> Any:
    return bulletin(
        key,
        RecipientKind.AGENCY,
        address,
        name=name,
        parts={
            "subject": "V/v tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)\n",
            "txt": "Kính gửi: Sở Y tế\n\nĐề nghị nâng cao cảnh giác.\n",
            "html": "<p>Kính gửi: Sở Y tế</p>\n",
        },
        letter=replace(NO_LETTER, sender_name="Sở Thông tin và Truyền thông Tây Ninh"),
    )


def test_a_letter_arrives_with_vietnamese_headers_and_both_parts(mailbox: Mailbox, tmp_path: Path) -> None:
    with adapter(mailbox, tmp_path) as channel:
        results = channel.send([letter("k1", "soyte@tayninh.example")])

    assert [(r.key, r.outcome) for r in results] == [("k1", Outcome.SENT)]
    message = email.message_from_bytes(mailbox.messages[0].content, policy=email.policy.default)  # type: ignore[arg-type]
    assert str(make_header(decode_header(message["Subject"]))) == (
        "V/v tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)"
    )
    assert str(message["From"]) == "Sở Thông tin và Truyền thông Tây Ninh <vanthu@stttt.tayninh.example>"
    assert str(message["To"]) == "Sở Y tế <soyte@tayninh.example>"
    assert str(message["Reply-To"]) == "thanhtra@stttt.tayninh.example"
    assert message["Message-ID"] == results[0].provider_id and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text, html = (part.get_content() for part in message.iter_parts())
    assert "Đề nghị nâng cao cảnh giác." in text
    assert "<p>Kính gửi: Sở Y tế</p>" in html


def test_a_batch_uses_one_connection_and_a_refused_recipient_does_not_sink_it(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.refuse.add("khongton@tayninh.example")
    mailbox.defer.add("bantin@tayninh.example")
    batch = [
        letter("a", "soyte@tayninh.example"),
        letter("b", "khongton@tayninh.example"),
        letter("c", "bantin@tayninh.example"),
        letter("d", "sotuphap@tayninh.example"),
    ]

    with adapter(mailbox, tmp_path) as channel:
        results = channel.send(batch)

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.INVALID_RECIPIENT, Outcome.FAILED, Outcome.SENT]
    assert "550" in results[1].reason and not results[1].retryable
    assert results[2].retryable and "451" in results[2].reason
    assert mailbox.connections == 1
    assert len(mailbox.messages) == 2


def test_a_batch_is_spread_over_the_sessions_and_its_results_keep_the_batch_order(
    mailbox: Mailbox, tmp_path: Path
) -> None:
    mailbox.refuse.add("khongton@tayninh.example")
    addresses = [f"donvi{index}@tayninh.example" for index in range(7)] + ["khongton@tayninh.example"]
    batch = [letter(f"k{index}", address) for index, address in enumerate(addresses)]

    with adapter(mailbox, tmp_path, connections=3) as channel:
        results = channel.send(batch)

    assert [r.key for r in results] == [f"k{index}" for index in range(8)]
    assert [r.outcome for r in results] == [Outcome.SENT] * 7 + [Outcome.INVALID_RECIPIENT]
    assert mailbox.connections == 3
    assert sorted(rcpt for m in mailbox.messages for rcpt in m.rcpt_tos) == sorted(addresses[:7])


def test_a_dropped_connection_is_retryable_and_the_next_letter_reconnects(mailbox: Mailbox, tmp_path: Path) -> None:
    mailbox.drop_on.add("drop@tayninh.example")
    with adapter(mailbox, tmp_path) as channel:
        results = channel.send([letter("a", "drop@tayninh.example"), letter("b", "soyte@tayninh.example")])
    assert results[0].outcome == Outcome.FAILED and results[0].retryable
    assert "connection dropped" in results[0].reason
    assert results[1].outcome == Outcome.SENT
    assert mailbox.connections == 2


def test_an_unreachable_server_is_a_transient_error(tmp_path: Path) -> None:
    options = EmailOptions(mode="smtp", host="127.0.0.1", port=1, security="plain", sender="a@b.example")
    with pytest.raises(TransientError, match=r"cannot connect to the SMTP server 127.0.0.1:1"):
        EmailChannel(options, output_dir=tmp_path).open()


def test_the_same_delivery_gets_the_same_message_id(mailbox: Mailbox, tmp_path: Path) -> None:
    with adapter(mailbox, tmp_path) as channel:
        first = channel.send([letter("same-key", "soyte@tayninh.example")])
        again = channel.send([letter("same-key", "soyte@tayninh.example")])
    assert first[0].provider_id == again[0].provider_id


def test_the_embedded_default_writes_eml_files(tmp_path: Path) -> None:
    channel = EmailChannel(EmailOptions(), output_dir=tmp_path)
    results = channel.send([letter("occ-1:soyte", "soyte@tayninh.example")])
    path = tmp_path / results[0].provider_id  # type: ignore[operator]
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert str(message["To"]) == "Sở Y tế <soyte@tayninh.example>"
    assert path.parent.name == "canh-bao"


# ---- the letter as agencies file it (issue: PDF, subject, sender) ---------------------------------

LETTER_HTML = "<!DOCTYPE html><html lang='vi'><body><p>Kính gửi: Sở Y tế</p><p>Đề nghị cảnh giác.</p></body></html>"


def numbered_letter(key: str, address: str, sender_name: str = "Sở Thông tin và Truyền thông Tây Ninh") -> Any:
    return bulletin(
        key,
        RecipientKind.AGENCY,
        address,
        name="Sở Y tế",
        parts={"subject": "881/STTTT-TTr V/v cảnh báo\n", "txt": "Kính gửi: Sở Y tế\n", "html": LETTER_HTML},
        letter=replace(NO_LETTER, sender_name=sender_name, number="881/STTTT-TTr", dated=date(2024, 5, 14)),
    )


def test_each_letter_carries_its_a4_pdf_named_by_number_and_date(mailbox: Mailbox, tmp_path: Path) -> None:
    with adapter(mailbox, tmp_path, connections=2) as channel:
        channel.send([numbered_letter("a", "soyte@tayninh.example"), numbered_letter("b", "sotp@tayninh.example")])

    attachments = []
    for envelope in mailbox.messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        assert message.get_content_type() == "multipart/mixed"
        body, pdf = message.iter_parts()
        assert body.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in body.iter_parts()] == ["text/plain", "text/html"]
        assert pdf.get_content_type() == "application/pdf" and pdf.get_content_disposition() == "attachment"
        assert pdf.get_filename() == "881-STTTT-TTr-2024-05-14.pdf"
        attachments.append(pdf.get_content())
    assert attachments[0].startswith(b"%PDF-") and attachments[0] == attachments[1]


def test_the_pdf_is_laid_out_once_per_distinct_letter_text_not_per_recipient(tmp_path: Path) -> None:
    from channels.email import letter_body

    letter_body.cache_clear()
    channel = EmailChannel(EmailOptions(), output_dir=tmp_path)
    channel.send([numbered_letter(f"k{index}", f"donvi{index}@tayninh.example") for index in range(20)])
    info = letter_body.cache_info()
    assert (info.misses, info.hits) == (1, 19)


@pytest.mark.parametrize(
    "name", ["Sở Thông tin và Truyền thông Bình Phước", "Sở Thông tin và Truyền thông Tây Ninh", "Sở Y tế"]
)
def test_a_vietnamese_sender_name_reads_whole_in_the_raw_message(mailbox: Mailbox, tmp_path: Path, name: str) -> None:
    with adapter(mailbox, tmp_path) as channel:
        channel.send([numbered_letter("a", "soyte@tayninh.example", sender_name=name)])

    raw = mailbox.messages[0].content
    assert isinstance(raw, bytes)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"].addresses[0].display_name == name  # the modern parser
    assert str(make_header(decode_header(message["From"]))).startswith(f"{name} <")  # RFC 2047 as readers decode it
    assert str(message["Subject"]) == "881/STTTT-TTr V/v cảnh báo"
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(line) <= 76 for line in headers.split("\r\n") if "=?" in line)
    words = re.findall(r"=\?utf-8\?b\?([^?]*)\?=", headers.split("\r\nTo:")[0].split("From:")[1])
    for word in words:  # each encoded-word holds whole words: none ends inside "Phước"
        decoded = base64.b64decode(word).decode()
        assert f" {decoded.strip()} " in f" {name} "


@pytest.mark.parametrize("sender", ["broadcaster@localhost", "root@mailserver", "vanthu@so.local", "x@10.0.0.1"])
def test_smtp_mode_refuses_a_local_sender_address(sender: str) -> None:
    with pytest.raises(ValueError, match=r"is a local address that mail servers refuse or bin"):
        EmailOptions(mode="smtp", host="127.0.0.1", sender=sender)


def test_channels_check_names_the_missing_sender(cli) -> None:  # type: ignore[no-untyped-def]
    cli.env.update({"BROADCASTER_EMAIL_MODE": "smtp", "BROADCASTER_EMAIL_HOST": "smtp.tayninh.gov.vn"})
    run = cli("channels", "check")
    assert run.exit_code != 0
    assert "BROADCASTER_EMAIL_SENDER is not set: SMTP needs the department's real From address" in run.output
    assert "Traceback" not in run.output


def test_no_text_of_a_letter_can_add_a_header_to_it(mailbox: Mailbox, tmp_path: Path) -> None:
    """A subject rendered with a line break stays one Subject; a name or an address with one is not sent."""
    injected = letter("k1", "soyte@tayninh.example")
    injected.parts["subject"] = "V/v cảnh báo\r\nBcc: attacker@evil.example\nReply-To: attacker@evil.example"
    ascii_injected = letter("k2", "soyte@tayninh.example")
    ascii_injected.parts["subject"] = "Warning\r\nBcc: attacker@evil.example"
    named = letter("k3", "soyte@tayninh.example", name="Sở Y tế\r\nBcc: attacker@evil.example")
    with adapter(mailbox, tmp_path) as channel:
        results = channel.send([injected, ascii_injected, named])
        sender = bulletin(
            "k4",
            RecipientKind.AGENCY,
            "soyte@tayninh.example",
            parts={"subject": "V/v", "txt": "x"},
            letter=replace(NO_LETTER, sender_name="Sở TT&TT\nReply-To: attacker@evil.example"),
        )
        with pytest.raises(UnsafeHeader, match="From would hold a line break"):
            channel.build(sender)
    assert [result.outcome for result in results[:2]] == [Outcome.SENT, Outcome.SENT]
    assert results[2].outcome == Outcome.REJECTED and "To would hold a line break" in results[2].reason
    for received in mailbox.messages:
        message = email.message_from_bytes(received.content, policy=email.policy.default)  # type: ignore[arg-type]
        assert message["Bcc"] is None and message["Reply-To"] == "thanhtra@stttt.tayninh.example"
        assert received.rcpt_tos == ["soyte@tayninh.example"]
