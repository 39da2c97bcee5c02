"""Secrets carried in URLs never reach the terminal, stored reasons or the audit log (issue: a gateway
that redirects to an address echoing its key, a database URL with a password)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Response

from broadcaster import directory
from broadcaster.db import transaction
from broadcaster.models import AuditEntry, CampaignChannel, Delivery, FacebookPage
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from channels.base import PageFacts, PermanentError, RecipientKind
from channels.facebook import FacebookChannel, FacebookOptions
from tests.conftest import Cli
from tests.helpers import bulletin, free_port
from tests.scenario import phones, urgent_sms

KEY, PASSWORD, ECHOED = "K3yInTheQuery", "PassInTheUrl", "K3yInTheRedirect"


def test_a_redirect_echoing_the_gateway_key_pauses_the_channel_with_every_secret_masked(
    shipped: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpserver.expect_request("/send").respond_with_response(
        Response(status=302, headers={"Location": f"https://sms.example/v2/send?api_key={ECHOED}&to=x"})
    )
    url = httpserver.url_for(f"/send?apikey={KEY}").replace("http://", f"http://sms:{PASSWORD}@")
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "generic-json")
    monkeypatch.setenv("BROADCASTER_SMS_URL", url)
    urgent_sms(shipped, settings, tmp_path, phones(3))

    Worker(shipped, settings, ["sms"], "test-worker").drain(timeout=10)

    with shipped() as session:
        channel = session.scalars(select(CampaignChannel).where(CampaignChannel.channel == "sms")).one()
        reasons = list(session.scalars(select(Delivery.reason)))
        audit = {entry.action: json.dumps(entry.details) for entry in session.scalars(select(AuditEntry))}
    assert channel.paused and channel.pause_reason
    assert "a redirect to https://sms.example/v2/send?api_key=***&to=x" in channel.pause_reason
    assert f"sms:***@localhost:{httpserver.port}/send?apikey=***" in channel.pause_reason
    assert "api_key=***" in audit["pause-channel"]
    everything = " ".join([channel.pause_reason, *filter(None, reasons), *audit.values()])
    for secret in (KEY, PASSWORD, ECHOED):
        assert secret not in everything


def test_channels_check_masks_the_secrets_in_a_gateway_url(cli: Cli) -> None:
    cli.env.update(
        {
            "BROADCASTER_SMS_DIALECT": "generic-json",
            "BROADCASTER_SMS_URL": f"https://sms:{PASSWORD}@gw.example/send?token={KEY}",
            "BROADCASTER_SMS_API_KEY": "the-api-key",
        }
    )
    run = cli("channels", "check")
    assert run.exit_code == 0, run.output
    assert "url=https://sms:***@gw.example/send?token=***" in run.stdout
    for secret in (KEY, PASSWORD, "the-api-key"):
        assert secret not in run.output


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://broadcaster:{PASSWORD}@127.0.0.1:{free_port()}/broadcaster",
        f"postgresql://broadcaster@127.0.0.1:{free_port()}/broadcaster?password={PASSWORD}",
    ],
    ids=["in-the-address", "in-the-query"],  # the ports differ from one test process to another
)
def test_a_database_url_with_a_password_is_masked_in_errors(cli: Cli, url: str) -> None:
    cli.env["BROADCASTER_DATABASE_URL"] = url
    for command in (("status",), ("db", "upgrade")):
        run = cli(*command)
        assert run.exit_code == 1
        assert "cannot reach the database at postgresql+psycopg://broadcaster" in run.stderr
        assert PASSWORD not in run.output and "Traceback" not in run.output


def test_a_page_token_may_only_come_from_a_page_token_variable_at_import(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    pages = tmp_path / "pages.csv"
    pages.write_text(
        "slug,page_id,name,token_secret\n"
        "tay-ninh,100064000000001,Sở TT&TT Tây Ninh,BROADCASTER_FACEBOOK_TOKEN_TAY_NINH\n"
        "mat-khau,100064000000002,Trang lạ,BROADCASTER_EMAIL_PASSWORD\n"
        "nha,100064000000003,Trang lạ,HOME\n",
        encoding="utf-8",
    )
    with transaction(sessions) as session:
        report = directory.import_pages(session, pages)
    with sessions() as session:
        imported = list(session.scalars(select(FacebookPage.slug)))
    assert imported == ["tay-ninh"]
    assert [(line, reason) for line, reason, _ in report.rejects] == [
        (
            3,
            "token_secret 'BROADCASTER_EMAIL_PASSWORD' must name an environment variable starting with "
            "BROADCASTER_FACEBOOK_TOKEN_ (like BROADCASTER_FACEBOOK_TOKEN_TAY_NINH)",
        ),
        (
            4,
            "token_secret 'HOME' must name an environment variable starting with BROADCASTER_FACEBOOK_TOKEN_ "
            "(like BROADCASTER_FACEBOOK_TOKEN_TAY_NINH)",
        ),
    ]


@pytest.mark.parametrize("variable", ["BROADCASTER_EMAIL_PASSWORD", "HOME"])
def test_a_page_token_may_only_come_from_a_page_token_variable_at_send(
    variable: str, httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page stored before the rule (or written to the database by hand) is refused before anything is sent."""
    monkeypatch.setenv("BROADCASTER_EMAIL_PASSWORD", "the-smtp-password")
    post = bulletin(
        "o1:page",
        RecipientKind.PAGE,
        "100064000000001",
        name="Trang lạ",
        facts=PageFacts(slug="la", token_secret=variable),
    )
    for mode in ("graph", "file"):
        options = FacebookOptions(mode=mode, graph_url=httpserver.url_for("/"))
        with pytest.raises(PermanentError, match=f"token_secret '{variable}' must name an environment variable"):
            FacebookChannel(options, output_dir=tmp_path).send([post])
    assert httpserver.log == []
    assert not (tmp_path / "facebook").exists()


def test_a_redirect_carrying_the_request_body_is_masked_everywhere_it_is_kept(
    shipped: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gateway answering 302 with our JSON body (ApiKey, SecretKey) in Location, plain and percent-encoded."""
    body = json.dumps({"ApiKey": "AK-in-body", "SecretKey": "SK-in-body", "Phone": "0912000000"})
    encoded = body.replace('"', "%22").replace(":", "%3A").replace(" ", "%20")
    location = f"https://sms.example/v2/send?{encoded}#{body}"
    httpserver.expect_request("/send").respond_with_response(Response(status=302, headers={"Location": location}))
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "esms")
    monkeypatch.setenv("BROADCASTER_SMS_URL", httpserver.url_for("/send"))
    monkeypatch.setenv("BROADCASTER_SMS_API_KEY", "AK-in-body")
    monkeypatch.setenv("BROADCASTER_SMS_SECRET_KEY", "SK-in-body")
    monkeypatch.setenv("BROADCASTER_SMS_BRANDNAME", "STTTT")
    urgent_sms(shipped, settings, tmp_path, phones(2))

    Worker(shipped, settings, ["sms"], "test-worker").drain(timeout=10)

    with shipped() as session:
        channel = session.scalars(select(CampaignChannel).where(CampaignChannel.channel == "sms")).one()
        kept = [str(value) for row in session.execute(select(Delivery.reason, Delivery.response)) for value in row]
        audit = [json.dumps(entry.details, ensure_ascii=False) for entry in session.scalars(select(AuditEntry))]
    assert channel.paused and channel.pause_reason
    assert "%22ApiKey%22%3A%20%22***%22" in channel.pause_reason
    assert "%22SecretKey%22:%20%22***%22" in channel.pause_reason
    everything = " ".join([channel.pause_reason, *kept, *audit])
    assert "AK-in-body" not in everything and "SK-in-body" not in everything


def test_a_misspelt_database_url_is_shown_without_its_password(cli: Cli) -> None:
    cli.env["BROADCASTER_DATABASE_URL"] = f"postgresql//broadcaster:{PASSWORD}@127.0.0.1/broadcaster"
    run = cli("campaign", "list")
    assert run.exit_code == 1
    assert "is not a database URL: 'postgresql//broadcaster:***@127.0.0.1/broadcaster'" in run.stderr
    assert PASSWORD not in run.output
