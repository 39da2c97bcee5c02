"""Accounts: one person, one account, whatever the spelling; passwords and tokens never kept or shown in clear."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.errors import AuthenticationFailed, TooManyAttempts, UserError
from broadcaster.models import Account, ApiToken, AuditEntry
from tests.conftest import CONTENT, Cli, import_shipped_with_cli

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"
SLUG = "canh-bao-goi-gia-danh-lan-2"
PASSWORD = "đúng-mật-khẩu-2024"
NOW = datetime(2026, 12, 9, 3, 0, tzinfo=UTC)  # the moment these sign-ins happen at (10:00 in Tây Ninh)


@pytest.mark.parametrize(
    "spelling",
    ["Nguyễn Văn A", "  nguyễn văn a ", "NGUYỄN   VĂN A", unicodedata.normalize("NFD", "Nguyễn Văn A")],
)
def test_names_differing_only_by_case_spaces_or_normalisation_are_one_account(spelling: str) -> None:
    assert accounts.normalise_login(spelling) == unicodedata.normalize("NFC", "nguyễn văn a")


@pytest.mark.parametrize(
    ("name", "character"),
    [("lan\u200b", "U+200B"), ("l\u200dan", "U+200D"), ("\ufefflan", "U+FEFF"), ("lan\x07", "U+0007")],
)
def test_invisible_and_control_characters_in_a_name_are_refused(name: str, character: str) -> None:
    with pytest.raises(UserError, match=re.escape(character)):
        accounts.normalise_login(name)


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(UserError, match="empty"):
        accounts.normalise_login("   ")


def test_a_second_spelling_of_an_existing_name_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "Nguyễn Văn A", "drafter", password=None)
    with transaction(sessions) as session, pytest.raises(UserError, match="already exists"):
        accounts.create_account(session, unicodedata.normalize("NFD", " nguyễn văn a"), "approver", password=None)


def test_passwords_are_kept_as_argon2id_hashes_and_checked(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    with transaction(sessions) as session:
        stored = session.scalars(select(Account.password_hash)).one()
        assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
        assert accounts.authenticate_password(session, "LAN", PASSWORD, "127.0.0.1", NOW).login == "lan"
    with transaction(sessions) as session, pytest.raises(AuthenticationFailed, match="wrong account name or password"):
        accounts.authenticate_password(session, "lan", "not the password", "127.0.0.1", NOW)


def test_a_disabled_account_cannot_sign_in_or_act(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
        accounts.set_disabled(session, "lan", True)
    with transaction(sessions) as session:
        with pytest.raises(AuthenticationFailed, match="disabled"):
            accounts.authenticate_password(session, "lan", PASSWORD, None, NOW)
        with pytest.raises(AuthenticationFailed, match="disabled"):
            accounts.acting_account(session, "lan")


def _fail(sessions: sessionmaker[Session], login: str, address: str) -> Exception:
    with sessions() as session:
        try:
            accounts.authenticate_password(session, login, "wrong password!", address, NOW)
        except (AuthenticationFailed, TooManyAttempts) as exc:
            session.commit()  # the failure is remembered even though the login was refused
            return exc
    raise AssertionError("a wrong password was accepted")


def test_repeated_failed_logins_are_slowed_per_account(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    for attempt in range(accounts.FREE_FAILURES):
        assert isinstance(_fail(sessions, "lan", f"10.0.0.{attempt}"), AuthenticationFailed)
    # Now even the right password from a new address has to wait: the account is being guessed at.
    with transaction(sessions) as session, pytest.raises(TooManyAttempts, match="this account") as refused:
        accounts.authenticate_password(session, "lan", PASSWORD, "10.0.0.99", NOW)
    assert refused.value.retry_after > 0


def test_repeated_failed_logins_are_slowed_per_address(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    for attempt in range(accounts.FREE_FAILURES):
        _fail(sessions, f"nobody-{attempt}", "10.9.9.9")
    with transaction(sessions) as session, pytest.raises(TooManyAttempts, match="this address"):
        accounts.authenticate_password(session, "lan", PASSWORD, "10.9.9.9", NOW)
    with transaction(sessions) as session:
        assert accounts.authenticate_password(session, "lan", PASSWORD, "10.1.1.1", NOW).login == "lan"


def test_tokens_are_stored_hashed_and_stop_working_when_revoked_or_expired(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        account = accounts.create_account(session, "lan", "drafter", password=None)
        lasting = accounts.create_token(session, account, "script", NOW)
        brief = accounts.create_token(session, account, "brief", NOW, NOW + timedelta(seconds=1))
    with transaction(sessions) as session:
        digests = list(session.scalars(select(ApiToken.digest)))
        assert lasting.token not in digests and accounts.token_digest(lasting.token) in digests
        assert accounts.authenticate_token(session, lasting.token, NOW).login == "lan"
        session.execute(text("UPDATE api_tokens SET expires_at = created_at WHERE id = :id"), {"id": brief.id})
    with transaction(sessions) as session, pytest.raises(AuthenticationFailed, match="expired"):
        accounts.authenticate_token(session, brief.token, NOW)
    with transaction(sessions) as session:
        accounts.revoke_token(session, lasting.id, NOW)
    with transaction(sessions) as session, pytest.raises(AuthenticationFailed, match="revoked"):
        accounts.authenticate_token(session, lasting.token, NOW)
    with transaction(sessions) as session, pytest.raises(AuthenticationFailed, match="not known"):
        accounts.authenticate_token(session, lasting.token + "x", NOW)


# ---- the command line ---------------------------------------------------------------------------


def test_user_add_reads_the_password_from_stdin_and_never_prints_it(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    added = cli("user", "add", "Trần Thị Lan", "--role", "drafter", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "account 'trần thị lan' (Trần Thị Lan) created with the role drafter" in added.stdout
    listed = cli("user", "list")
    assert "trần thị lan" in listed.stdout and "drafter" in listed.stdout
    for run in (added, listed):
        assert PASSWORD not in run.output


def test_user_add_refuses_a_short_password_and_an_unknown_role(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    short = cli("user", "add", "lan", "--role", "drafter", input="short\n")
    assert short.exit_code == 1 and "too short" in short.stderr
    unknown = cli("user", "add", "lan", "--role", "boss", input=PASSWORD + "\n")
    assert unknown.exit_code == 1 and "'boss' is not a role" in unknown.stderr
    assert "lan" not in cli("user", "list").stdout


def test_as_must_name_an_existing_enabled_account(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    unknown = cli("campaign", "add", TAY_NINH, "--as", "lan2")
    assert unknown.exit_code == 1 and "there is no account 'lan2'" in unknown.stderr
    assert cli("user", "disable", "LAN").exit_code == 0
    disabled = cli("campaign", "add", TAY_NINH, "--as", "lan")
    assert disabled.exit_code == 1 and "the account 'lan' is disabled" in disabled.stderr


def test_the_two_person_rule_compares_accounts_not_spellings(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", TAY_NINH, "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", SLUG, "--as", "lan").exit_code == 0
    for other_spelling in ("Lan", "lan ", "  LAN"):
        refused = cli("campaign", "approve", SLUG, "--as", other_spelling)
        assert refused.exit_code == 1
        assert "'lan' submitted campaign" in refused.stderr and "two-person rule" in refused.stderr
    sneaky = cli("campaign", "approve", SLUG, "--as", "lan\u200b")
    assert sneaky.exit_code == 1 and "invisible or control character (U+200B)" in sneaky.stderr
    assert cli("campaign", "approve", SLUG, "--as", "minh").exit_code == 0


def test_the_audit_log_links_entries_to_the_account(cli: Cli, database_url: str) -> None:
    from broadcaster.db import make_engine, make_sessions

    import_shipped_with_cli(cli)
    assert cli("campaign", "add", TAY_NINH, "--as", "Lan").exit_code == 0
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        lan = session.scalars(select(Account).where(Account.login == "lan")).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "create")).one()
        assert (entry.actor, entry.account_id) == ("lan", lan.id)
    engine.dispose()


def test_tokens_from_the_cli_are_shown_once_and_can_be_revoked(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("user", "add", "minh", "--role", "approver", "--no-password").exit_code == 0
    created = cli("user", "token", "create", "minh", "--name", "báo cáo", "--expires-days", "30")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith(accounts.TOKEN_PREFIX)
    listed = cli("user", "token", "list", "minh")
    assert "báo cáo" in listed.stdout and token not in listed.output
    revoked = cli("user", "token", "revoke", "1")
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout


def test_an_account_may_do_only_what_its_role_grants_on_the_command_line(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", TAY_NINH, "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", SLUG, "--as", "lan").exit_code == 0
    assert cli("user", "add", "tram", "--role", "station", "--station", "dtt-go-dau", "--no-password").exit_code == 0
    refused = cli("campaign", "approve", SLUG, "--as", "tram")
    assert refused.exit_code == 1
    assert "'tram' may not do this: it needs the permission campaigns:approve" in refused.stderr
    reading = cli("deliveries", SLUG, "--as", "tram")
    assert reading.exit_code == 1 and "campaigns:read" in reading.stderr
    assert cli("deliveries", SLUG).exit_code == 0  # the server's own terminal, without --as, may read


def test_the_terminal_is_not_an_account_name(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    run = cli("user", "add", "Terminal", "--role", "admin", "--no-password")
    assert run.exit_code == 1 and "names commands run without --as" in run.stderr
