"""A value the database cannot hold — longer than its column, or with a NUL character — is refused
with a sentence naming the field, on PostgreSQL as on SQLite, before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.models import Agency, Area, Campaign
from broadcaster.storable import Unstorable
from tests.conftest import CONTENT, Cli, import_shipped_with_cli

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"


@pytest.mark.parametrize(
    ("row", "says"),
    [
        (
            Area(code="a", name="x" * 201, kind="province"),
            "areas.name is 201 characters long, more than the 200 it can hold: '" + "x" * 40 + "…'",
        ),
        (Area(code="a\0b", name="Tây Ninh", kind="province"), r"areas.code contains a NUL character"),
        (
            Agency(key="so-y-te", name="Sở Y tế", emails=["soyte@tayninh.example", "x\0@tayninh.example"]),
            r"agencies.emails contains a NUL character, which cannot be stored: 'x\0@tayninh.example'",
        ),
    ],
    ids=["too long", "NUL in text", "NUL in JSON"],
)
def test_a_value_the_database_cannot_hold_is_refused_naming_the_field(
    sessions: sessionmaker[Session], row: Any, says: str
) -> None:
    with pytest.raises(Unstorable) as refused, transaction(sessions) as session:
        session.add(row)
    assert says in str(refused.value)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(type(row))) == 0


def test_an_over_long_value_is_refused_when_changed_too(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        session.add(Area(code="tay-ninh", name="Tây Ninh", kind="province"))
    with (
        pytest.raises(Unstorable, match=r"areas\.kind is 40 characters long, more than the 32"),
        transaction(sessions) as session,
    ):
        session.scalars(select(Area)).one().kind = "k" * 40
    with sessions() as session:
        assert session.scalars(select(Area.kind)).one() == "province"


def test_an_import_with_an_over_long_name_says_so_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    pages = tmp_path / "pages.csv"
    long_name = "Sở Thông tin và Truyền thông" + " rất dài" * 40
    pages.write_text(
        "slug,page_id,name,token_secret\n"
        "tay-ninh,100064000000001,Sở TT&TT Tây Ninh,BROADCASTER_FACEBOOK_TOKEN_TAY_NINH\n"
        f"dai,100064000000002,{long_name},BROADCASTER_FACEBOOK_TOKEN_DAI\n",
        encoding="utf-8",
    )
    run = cli("directory", "import", "pages", pages)
    assert run.exit_code == 1
    assert f"facebook_pages.name is {len(long_name)} characters long, more than the 300 it can hold" in run.stderr
    assert "Traceback" not in run.output
    assert "tay-ninh" not in cli("directory", "list", "pages").output, "the file is imported whole or not at all"


def test_a_campaign_with_a_nul_in_its_subject_is_refused_naming_the_field(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    text = TAY_NINH.read_text(encoding="utf-8")
    subject = next(line for line in text.splitlines() if line.startswith("subject:"))
    changed = tmp_path / "nul.yaml"
    changed.write_text(text.replace(subject, 'subject: "cảnh báo\\0 lừa đảo"'), encoding="utf-8")
    run = cli("campaign", "add", changed, "--as", "lan")
    assert run.exit_code == 1, run.output
    # Refused where it comes in, as any control character in a text that becomes a header: before storing.
    assert "  - subject: holds a line break or a control character (U+0000): write it on one line" in run.stderr
    assert "Traceback" not in run.output
    with_campaigns = cli("campaign", "list")
    assert "canh-bao-goi-gia-danh-lan-2" not in with_campaigns.output


def test_nothing_is_left_half_written(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Unstorable), transaction(sessions) as session:
        session.add(Area(code="tay-ninh", name="Tây Ninh", kind="province"))
        session.flush()
        session.add(Area(code="x" * 65, name="Gò Dầu", kind="district"))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Area)) == 0
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
