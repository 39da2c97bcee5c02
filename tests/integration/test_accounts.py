"""Accounts: one person, one account, whatever the spelling; passwords and tokens never kept or shown in clear."""

from __future__ import annotations

import contextlib
import re
import statistics
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.errors import AuthenticationFailed, TooManyAttempts, UserError
from broadcaster.models import Account, ApiToken, AuditEntry, LoginFailures
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


@pytest.mark.parametrize(
    ("name", "character"),
    [("lan\u3164", "U+3164"), ("\u2800", "U+2800"), ("la\u034fn", "U+034F"), ("lan\u202e", "U+202E")],
    ids=["hangul-filler", "braille-blank", "grapheme-joiner", "right-to-left-override"],
)
def test_characters_that_show_as_nothing_are_refused_in_names_and_display_names(
    sessions: sessionmaker[Session], name: str, character: str
) -> None:
    with pytest.raises(UserError, match=re.escape(character)):
        accounts.normalise_login(name)
    with transaction(sessions) as session, pytest.raises(UserError, match=f"display name .*{re.escape(character)}"):
        accounts.create_account(session, "lan", "drafter", password=None, display_name=f"Nguyễn Thị {name}")


@pytest.mark.parametrize(
    ("existing", "look_alike"),
    [("alice", "\u0430lice"), ("bob", "b\u03bfb"), ("bob", "\uff42\uff4f\uff42"), ("mai", "rnai")],
    ids=["cyrillic-a", "greek-omicron", "fullwidth", "r-n-for-m"],
)
def test_a_name_that_looks_like_an_existing_one_is_refused(
    sessions: sessionmaker[Session], existing: str, look_alike: str
) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, existing, "drafter", password=None)
    with transaction(sessions) as session, pytest.raises(UserError, match=f"'{existing}'"):
        accounts.create_account(session, look_alike, "approver", password=None)
    with transaction(sessions) as session:  # Vietnamese names that differ only by their marks stay apart
        accounts.create_account(session, "nguyễn văn an", "drafter", password=None)
        accounts.create_account(session, "nguyễn văn ân", "drafter", password=None)


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


def _sign_in(sessions: sessionmaker[Session], password: str, address: str, at: datetime = NOW) -> str:
    """'signed in', 'wrong' (the password was checked) or 'wait' (refused before any check)."""
    with transaction(sessions) as session:
        try:
            accounts.authenticate_password(session, "lan", password, address, at)
        except TooManyAttempts:
            return "wait"
        except AuthenticationFailed:
            return "wrong"
    return "signed in"


def test_one_address_guessing_at_an_account_is_slowed_but_its_owner_signs_in(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    tries = [_sign_in(sessions, f"guess {n}", "203.0.113.7") for n in range(40)]
    assert tries == ["wrong"] * accounts.PAIR_FREE + ["wait"] * (40 - accounts.PAIR_FREE)
    assert _sign_in(sessions, PASSWORD, "203.0.113.7") == "wait"  # even the right password waits there
    assert _sign_in(sessions, PASSWORD, "198.51.100.20") == "signed in"  # the owner, elsewhere, does not
    with sessions() as session:  # refused tries are not counted and do not re-arm the wait
        pair = session.get(LoginFailures, "pair:lan|203.0.113.7")
        assert pair is not None and pair.failures == accounts.PAIR_FREE
        assert pair.blocked_until == NOW + timedelta(seconds=2)


def test_guesses_from_many_addresses_hold_back_each_of_them_but_not_the_owner(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    spread = [_sign_in(sessions, "guess", f"10.0.{n // 250}.{n % 250}") for n in range(30)]
    assert spread == ["wrong"] * 30  # each address's first guess is checked, and counted
    with sessions() as session:
        account = session.get(LoginFailures, "account:lan")
        assert account is not None and account.failures == 30 and account.blocked_until is not None
    assert _sign_in(sessions, "another guess", "10.0.0.1") == "wait"  # under attack: an address that failed waits
    assert _sign_in(sessions, "guess", "10.9.9.9") == "wrong"  # a new address gets one try…
    assert _sign_in(sessions, "guess", "10.9.9.9") == "wait"  # …then waits as long as the account does
    assert _sign_in(sessions, PASSWORD, "192.0.2.44") == "signed in"  # the owner from a clean address gets in


def test_one_address_spraying_many_accounts_is_slowed(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    for attempt in range(accounts.ADDRESS_FREE):
        assert isinstance(_fail(sessions, f"nobody-{attempt}", "10.9.9.9"), AuthenticationFailed)
    with transaction(sessions) as session, pytest.raises(TooManyAttempts, match="this address"):
        accounts.authenticate_password(session, "lan", PASSWORD, "10.9.9.9", NOW)
    with transaction(sessions) as session:
        assert accounts.authenticate_password(session, "lan", PASSWORD, "10.1.1.1", NOW).login == "lan"


def test_a_wait_ends_and_a_right_password_forgets_the_addresss_failures(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    for n in range(accounts.PAIR_FREE):
        assert _sign_in(sessions, f"typo {n}", "192.0.2.1") == "wrong"
    assert _sign_in(sessions, PASSWORD, "192.0.2.1", NOW + timedelta(seconds=1)) == "wait"
    assert _sign_in(sessions, PASSWORD, "192.0.2.1", NOW + timedelta(seconds=3)) == "signed in"
    with sessions() as session:
        assert session.get(LoginFailures, "pair:lan|192.0.2.1") is None


def _guess_at_once(sessions: sessionmaker[Session], count: int) -> list[str]:
    barrier = threading.Barrier(count)

    def guess(n: int) -> str:
        barrier.wait()
        return _sign_in(sessions, f"parallel guess {n}", "203.0.113.50")

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(guess, range(count)))


def test_guesses_sent_at_once_are_each_counted_and_checked_only_within_the_allowance(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    answers = _guess_at_once(sessions, 30)
    assert answers.count("wrong") == accounts.PAIR_FREE, answers
    assert answers.count("wait") == 30 - accounts.PAIR_FREE
    with sessions() as session:
        pair = session.get(LoginFailures, "pair:lan|203.0.113.50")
        account = session.get(LoginFailures, "account:lan")
        assert pair is not None and pair.failures == accounts.PAIR_FREE  # every checked password counted
        assert account is not None and account.failures == accounts.PAIR_FREE


def _seconds(sessions: sessionmaker[Session], name: str) -> float:
    timings = []
    for n in range(5):
        with sessions() as session:
            started = time.perf_counter()
            with contextlib.suppress(AuthenticationFailed):
                accounts.authenticate_password(session, name, "wrong password", f"192.0.2.{n + 100}", NOW)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def test_an_unknown_name_takes_as_long_to_refuse_as_a_wrong_password(sessions: sessionmaker[Session]) -> None:
    """A dummy hash is checked for names that are not accounts: the time does not tell which accounts exist."""
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    known, unknown = _seconds(sessions, "lan"), _seconds(sessions, "không-có-ai")
    # Without the dummy hash an unknown name was answered about 25 times sooner; a busy machine's noise is far less.
    assert unknown > known / 4, (known, unknown)


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
    assert sneaky.exit_code == 1 and "invisible, direction or control character (U+200B)" in sneaky.stderr
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


def test_accounts_and_tokens_made_on_the_command_line_are_audited_and_need_the_permission(
    cli: Cli, database_url: str
) -> None:
    from broadcaster.db import make_engine, make_sessions

    assert cli("db", "upgrade").exit_code == 0
    # The first administrator, before any account exists: the server's own terminal makes it.
    assert cli("user", "add", "hải", "--role", "admin", input=PASSWORD + "\n").exit_code == 0
    assert cli("user", "add", "lan", "--role", "drafter", "--no-password", "--as", "hải").exit_code == 0
    created = cli("user", "token", "create", "lan", "--name", "báo cáo", "--as", "hải")
    assert created.exit_code == 0, created.output
    refused = cli("user", "add", "minh", "--role", "approver", "--no-password", "--as", "lan")
    assert refused.exit_code == 1 and "users:manage" in refused.stderr
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        hai = session.scalars(select(Account).where(Account.login == "hải")).one()
        logins = set(session.scalars(select(Account.login)))
    engine.dispose()
    assert [(entry.actor, entry.action, entry.details.get("account")) for entry in entries] == [
        (accounts.TERMINAL_LOGIN, "add-account", "hải"),
        ("hải", "add-account", "lan"),
        ("hải", "create-token", "lan"),
    ]
    assert [entry.account_id for entry in entries] == [None, hai.id, hai.id]
    assert logins == {"hải", "lan"}, "a refused account is not made"
