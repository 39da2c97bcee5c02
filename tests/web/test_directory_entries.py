"""One agency, station or page added or edited in a form, without a CSV file: the import's own checks, upsert
and audit, a refusal as one sentence that changes nothing, and slot names in Vietnamese."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import Agency, AuditEntry, Station
from tests.web.console_helpers import form_token, marked_test_list, sign_in, staff


def signed_in_operator(client: TestClient, sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "tam", "operator")
    sign_in(client, "tam")
    return form_token(client.get("/directory/stations/entry").text)


def imports_audited(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "directory-import")
        return session.scalar(query) or 0


def test_a_station_with_vietnamese_slot_names_is_added_then_edited(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = signed_in_operator(client, sessions)
    audited = imports_audited(sessions)
    added = client.post(
        "/directory/stations/entry",
        data={
            "csrf_token": token,
            "slug": "dai-tan-bien",
            "name": "Đài truyền thanh Tân Biên",
            "area": "tan-bien",
            "slots": "sáng 05:30; chiều 17:00",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    listing = client.get(added.headers["location"])
    assert 'id="saved"' in listing.text and "sáng 05:30, chiều 17:00" in listing.text
    with sessions() as session:
        station = session.scalars(select(Station).where(Station.slug == "dai-tan-bien")).one()
        assert station.slots == {"sáng": "05:30", "chiều": "17:00"}
    assert imports_audited(sessions) == audited + 1

    form = client.get("/directory/stations/entry?key=dai-tan-bien")
    assert 'value="sáng 05:30; chiều 17:00"' in form.text
    edited = client.post(
        "/directory/stations/entry",
        data={
            "csrf_token": token,
            "editing": "dai-tan-bien",
            "slug": "something-else",  # the key is not changed by a form that edits
            "name": "Đài Tân Biên",
            "area": "tan-bien",
            "slots": "sáng 06:00",
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    with sessions() as session:
        query = select(Station).where(Station.slug.in_(["dai-tan-bien", "something-else"]))
        stations = {station.slug: station for station in session.scalars(query)}
    assert list(stations) == ["dai-tan-bien"] and stations["dai-tan-bien"].slots == {"sáng": "06:00"}


def test_an_agency_is_added_and_a_wrong_one_is_a_sentence_that_changes_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = signed_in_operator(client, sessions)
    added = client.post(
        "/directory/agencies/entry",
        data={"csrf_token": token, "name": "Công an huyện Tân Biên", "emails": "ca.tanbien@example.gov.vn"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    with sessions() as session:
        agency = session.scalars(select(Agency).where(Agency.name == "Công an huyện Tân Biên")).one()
        assert agency.emails == ["ca.tanbien@example.gov.vn"]
        before = session.scalar(select(func.count()).select_from(Agency))
    refused = client.post(
        "/directory/agencies/entry",
        data={"csrf_token": token, "name": "Sở Y tế", "emails": "không-phải-địa-chỉ"},
    )
    assert refused.status_code == 422
    assert "không phải địa chỉ e-mail" in refused.text and 'value="Sở Y tế"' in refused.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Agency)) == before


def test_a_drafter_gets_no_form(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    assert client.get("/directory/agencies/entry").status_code == 403


def test_areas_are_listed_and_found_without_diacritics(client: TestClient, sessions: sessionmaker[Session]) -> None:
    signed_in_operator(client, sessions)
    everything = client.get("/directory/areas")
    assert everything.status_code == 200 and 'id="row-tan-bien"' in everything.text
    found = client.get("/directory/areas", params={"q": "tan bien"})
    assert 'id="row-tan-bien"' in found.text and 'id="row-hoa-thanh"' not in found.text
    assert "Huyện Tân Biên" in found.text and 'id="found"' in found.text


def test_a_lists_numbers_are_shown_and_searched_as_people_type_them(
    client: TestClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    signed_in_operator(client, sessions)
    marked_test_list(sessions, tmp_path, ["0979141777", "0912000111"])
    lists = client.get("/directory/lists")
    assert 'href="/directory/lists/thu-nghiem"' in lists.text
    members = client.get("/directory/lists/thu-nghiem")
    assert "+84979141777" in members.text and "+84912000111" in members.text
    found = client.get("/directory/lists/thu-nghiem", params={"q": "0979"})
    assert "+84979141777" in found.text and "+84912000111" not in found.text
    missing = client.get("/directory/lists/khong-co")
    assert missing.status_code == 400 and "Không có danh sách thuê bao" in missing.text


def test_a_list_with_a_name_column_keeps_the_names(client: TestClient, sessions: sessionmaker[Session]) -> None:
    token = signed_in_operator(client, sessions)
    content = "Họ và tên,Số điện thoại\nNguyễn Văn An,0979141777\nTrần Thị Bình,0912000111\n".encode()
    staged = client.post(
        "/directory/import",
        data={"csrf_token": token, "kind": "subscribers", "list_slug": "to-dan-pho"},
        files={"file": ("to-dan-pho.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert staged.status_code == 303
    location = staged.headers["location"]
    page = client.get(location)
    assert client.post(location, data={"csrf_token": form_token(page.text)}).status_code == 200
    members = client.get("/directory/lists/to-dan-pho")
    assert "Nguyễn Văn An" in members.text and "Trần Thị Bình" in members.text
    # Imported again without names: the names stay.
    again = client.post(
        "/directory/import",
        data={"csrf_token": token, "kind": "subscribers", "list_slug": "to-dan-pho"},
        files={"file": ("to-dan-pho.csv", b"S\xc4\x90T\n0979141777\n", "text/csv")},
        follow_redirects=False,
    )
    page = client.get(again.headers["location"])
    assert client.post(again.headers["location"], data={"csrf_token": form_token(page.text)}).status_code == 200
    assert "Nguyễn Văn An" in client.get("/directory/lists/to-dan-pho").text


def test_a_refused_upload_keeps_the_chosen_file_for_the_next_try(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = signed_in_operator(client, sessions)
    content = "Họ và tên,Số điện thoại\nNguyễn Văn An,0979141777\n".encode()
    refused = client.post(
        "/directory/import",
        data={"csrf_token": token, "kind": "subscribers", "list_slug": "Tổ dân phố 1"},
        files={"file": ("to-1.csv", content, "text/csv")},
    )
    assert refused.status_code == 422
    assert 'id="kept-file"' in refused.text and "to-1.csv" in refused.text
    kept = re.search(r'name="kept" value="([0-9a-f]+)"', refused.text)
    assert kept
    again = client.post(
        "/directory/import",
        data={"csrf_token": token, "kind": "subscribers", "list_slug": "to-dan-pho-1", "kept": kept.group(1)},
        follow_redirects=False,
    )
    assert again.status_code == 303, again.text
    preview = client.get(again.headers["location"])
    assert 'id="count-imported">1<' in preview.text
    # Another account cannot use the token.
    staff(sessions, "hoa", "operator")
    with TestClient(client.app) as other:
        sign_in(other, "hoa")
        other_token = form_token(other.get("/directory").text)
        stolen = other.post(
            "/directory/import",
            data={"csrf_token": other_token, "kind": "subscribers", "list_slug": "x", "kept": kept.group(1)},
        )
        assert stolen.status_code == 422 and 'id="kept-file"' not in stolen.text


def test_one_number_is_added_to_a_list_in_a_form(
    client: TestClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    token = signed_in_operator(client, sessions)
    marked_test_list(sessions, tmp_path, ["0979141777"])
    form = client.get("/directory/lists/thu-nghiem/entry")
    assert form.status_code == 200 and 'id="phone"' in form.text
    added = client.post(
        "/directory/lists/thu-nghiem/entry",
        data={"csrf_token": token, "phone": "0912 000 111", "name": "Lê Văn Cường", "locale": "vi"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    members = client.get(added.headers["location"])
    assert "+84912000111" in members.text and "Lê Văn Cường" in members.text
    refused = client.post(
        "/directory/lists/thu-nghiem/entry", data={"csrf_token": token, "phone": "12345", "name": "Sai số"}
    )
    assert refused.status_code == 422 and "không phải số điện thoại Việt Nam hợp lệ" in refused.text
    nowhere = client.post("/directory/lists/khong-co/entry", data={"csrf_token": token, "phone": "0912000222"})
    assert nowhere.status_code == 422 and "Không có danh sách thuê bao" in nowhere.text
