"""The Zalo OA's token pair kept in the database: sealed, shared by workers, renewed once however many ask."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import FixedClock
from broadcaster.credentials import DatabaseCredentials
from broadcaster.db import make_engine, make_sessions
from broadcaster.errors import ConfigurationError
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from channels.base import Credential, Outcome, RecipientKind
from channels.zalo import ZaloCampaignOptions, ZaloChannel, ZaloOptions
from tests.helpers import bulletin
from tests.zalo_server import OAUTH_PATH, TEMPLATE_PATH, ZaloServer

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
SECRET = b"a-secret-key-of-at-least-thirty-two-characters"
OPTIONS = ZaloCampaignOptions(template_id="2056446", params={"ten": "Sở TT&TT"}, text_param="noi_dung")


def channel(server: ZaloServer, tmp_path: Path, grant: tuple[str, str], clock: FixedClock | None = None) -> ZaloChannel:
    settings = ZaloOptions(
        dialect="direct",
        url=server.url(TEMPLATE_PATH),
        oauth_url=server.url(OAUTH_PATH),
        app_id=server.app_id,
        app_secret=server.app_secret,
        access_token=grant[0],
        refresh_token=grant[1],
    )
    return ZaloChannel(settings, output_dir=tmp_path, clock=clock or FixedClock(NOW))


def test_the_pair_is_kept_sealed(sessions: sessionmaker[Session]) -> None:
    store = DatabaseCredentials(sessions, SECRET, FixedClock(NOW))
    seed = Credential("at-readable-access", "rt-readable-refresh", NOW)
    assert store.current("zalo-oa:1", seed) == seed
    assert store.current("zalo-oa:1", Credential("other", "other")) == seed  # the kept one, not a new seed
    with sessions() as session:
        [sealed] = session.execute(text("SELECT sealed FROM credentials")).scalars()
    assert "readable" not in sealed
    with pytest.raises(ConfigurationError, match="cannot be opened with this secret key"):
        DatabaseCredentials(sessions, b"another-secret-key-of-thirty-two-chars", FixedClock(NOW)).current("zalo-oa:1")


def test_a_renewal_that_fails_keeps_the_pair_it_had(sessions: sessionmaker[Session]) -> None:
    store = DatabaseCredentials(sessions, SECRET, FixedClock(NOW))
    stale = store.current("zalo-oa:1", Credential("at-1", "rt-1", NOW))
    assert stale is not None

    def refused(_: Credential) -> Credential:
        raise RuntimeError("the token endpoint went away")

    with pytest.raises(RuntimeError):
        store.renew("zalo-oa:1", stale, refused)
    assert store.current("zalo-oa:1") == stale
    fresh = store.renew("zalo-oa:1", stale, lambda _: Credential("at-2", "rt-2", NOW))
    assert store.current("zalo-oa:1") == fresh
    # A worker still holding the stale pair gets the new one, and nothing is exchanged again.
    assert store.renew("zalo-oa:1", stale, lambda _: pytest.fail("renewed twice")) == fresh


def test_workers_renew_the_expired_token_once_and_keep_the_one_valid_refresh_token(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    engines = [make_engine(database_url) for _ in range(4)]  # one per worker, as separate processes have
    try:
        with ZaloServer() as zalo:
            grant = zalo.grant()
            workers = [channel(zalo, tmp_path, grant) for _ in engines]
            for worker, engine in zip(workers, engines, strict=True):
                worker.credentials = DatabaseCredentials(make_sessions(engine), SECRET, FixedClock(NOW))
            zalo.expire_access_tokens()
            zalo.delay = 0.3  # a slow token endpoint: every worker meets -124 while the first renews
            results: list[Any] = []

            def send(worker: ZaloChannel, index: int) -> None:
                item = bulletin(
                    f"a1b2.o{index}:+84912345678", RecipientKind.SUBSCRIBER, "+84912345678", options=OPTIONS
                )
                results.extend(worker.send([item]))

            threads = [threading.Thread(target=send, args=(worker, i)) for i, worker in enumerate(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert [result.outcome for result in results] == [Outcome.ACCEPTED] * 4
            assert zalo.ledger.refreshes == 1 and zalo.ledger.refused_refreshes == 0
            kept = DatabaseCredentials(sessions, SECRET).current(f"zalo-oa:{zalo.app_id}")
            assert kept is not None and zalo.refresh_tokens == {kept.refresh_token}
            assert kept.expires_at is not None and (kept.expires_at - NOW).total_seconds() == 90000
            for worker in workers:
                worker.close()
    finally:
        for engine in engines:
            engine.dispose()


def test_a_worker_gives_the_direct_dialect_the_database_store(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=database_url, output_dir=tmp_path / "out", data_dir=tmp_path / "data")
    worker = Worker(sessions, settings, ["zalo"], "test-worker")
    assert not isinstance(worker.adapters["zalo"].credentials, DatabaseCredentials)  # type: ignore[attr-defined]
    assert not (tmp_path / "data").exists()  # the file dialect needs no token, nor the secret key it is sealed with
    for name, value in {"DIALECT": "direct", "APP_ID": "1", "APP_SECRET": "s", "REFRESH_TOKEN": "rt"}.items():
        monkeypatch.setenv(f"BROADCASTER_ZALO_{name}", value)
    worker = Worker(sessions, settings, ["zalo"], "test-worker")
    assert isinstance(worker.adapters["zalo"].credentials, DatabaseCredentials)  # type: ignore[attr-defined]


def test_one_workers_used_up_daily_quota_holds_every_worker_back_until_vietnams_midnight(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Zalo answers -144 to one worker: the hold is kept with the OA's credential, so another worker (its own
    connection, as a separate process has) asks Zalo nothing until the quota starts again."""
    clock = FixedClock(NOW)  # 09:00 in Vietnam
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        with ZaloServer(daily_quota=0) as zalo:
            grant = zalo.grant()
            first, second = (channel(zalo, tmp_path, grant, clock) for _ in engines)
            for worker, engine in zip((first, second), engines, strict=True):
                worker.credentials = DatabaseCredentials(make_sessions(engine), SECRET, clock)

            def send(worker: ZaloChannel, index: int) -> Any:
                item = bulletin(
                    f"a1b2.o{index}:+84912345678", RecipientKind.SUBSCRIBER, "+84912345678", options=OPTIONS
                )
                [result] = worker.send([item])
                return result

            told = send(first, 1)
            held = send(second, 2)
            asked_today = zalo.ledger.tried["84912345678"]
            clock.advance(timedelta(hours=15))  # midnight in Vietnam: the quota starts again
            zalo.daily_quota = 1
            tomorrow = send(second, 3)
            first.close()
            second.close()
    finally:
        for engine in engines:
            engine.dispose()
    assert told.outcome is Outcome.FAILED and "quota" in told.reason and "resumes tomorrow" in told.reason
    assert held.outcome is Outcome.FAILED and held.retryable and "resumes tomorrow" in held.reason
    assert asked_today == 1  # the second worker did not ask
    assert tomorrow.outcome is Outcome.ACCEPTED
    kept = DatabaseCredentials(sessions, SECRET).current(f"zalo-oa:{zalo.app_id}")
    assert kept is not None and kept.held_until == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
