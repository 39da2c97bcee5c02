"""A Zalo OA's ZNS templates imported on the console's directory page as the other kinds are: the file uploaded,
the preview (templates added and changed, rejected rows with their reason in the console's language), then
confirmed; nothing is written before, nor when every row is refused. The directory page lists them."""

from __future__ import annotations

import html
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.models import AuditEntry, MessageTemplate
from tests.web.console_helpers import form_token, sign_in, staff

OA = "1397492183140006179"
# What the directory holds before: 2056446 (to be changed by the file) and 2056450 (the file repeats it as is).
BEFORE = (
    "Mã mẫu,Tên mẫu,Tham số,Nội dung,OA\n"
    f"2056446,Cảnh báo lừa đảo,ten:30; noi_dung:200,<ten> cảnh báo: <noi_dung>,{OA}\n"
    f"2056450,Thông báo ngắn,don_vi:40; ngay:10; tin:200,<don_vi> (<ngay>): <tin>,{OA}\n"
)
FILE = (
    "Mã mẫu,Tên mẫu,Tham số,Nội dung,OA,Ghi chú\n"
    f"2056446,Cảnh báo lừa đảo,ten:30; noi_dung:400,<ten> cảnh báo: <noi_dung>,{OA},dài hơn\n"
    f"2056450,Thông báo ngắn,don_vi:40; ngay:10; tin:200,<don_vi> (<ngay>): <tin>,{OA},\n"
    f"2056460,Lịch cắt điện,khu_vuc:60; gio:20,Cắt điện ở <khu_vuc> lúc <gio>,{OA},mới\n"
    f"2056447,Sai tham số,ten=abc,<ten>,{OA},\n"
    f"2056448,Tham số lạ,ten:30,<ten> <ngay>,{OA},\n"
    f"mau-1,Mã không phải số,ten:30,<ten>,{OA},\n"
    f"2056449,Quá dài,ten:5000,<ten>,{OA},\n"
).encode()


@pytest.fixture
def operator(client: TestClient, sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("truoc.csv", BEFORE.encode()))
    staff(sessions, "tam", "operator")
    sign_in(client, "tam")
    return form_token(client.get("/directory").text)


def upload(client: TestClient, token: str, content: bytes = FILE, name: str = "mau-zns.csv") -> httpx.Response:
    return client.post(
        "/directory/import",
        data={"csrf_token": token, "kind": "zalo-templates", "list_slug": "", "list_name": ""},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )


def templates(sessions: sessionmaker[Session]) -> dict[str, dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(MessageTemplate).where(MessageTemplate.channel == "zalo"))
        return {row.template_id: {"name": row.name, "params": row.params, "text": row.text} for row in rows}


def imports_audited(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "directory-import")
        return session.scalar(query) or 0


def test_the_import_form_offers_the_zns_templates_and_a_link_chooses_them(client: TestClient, operator: str) -> None:
    page = client.get("/directory").text
    assert '<option value="zalo-templates">mẫu tin Zalo (ZNS)</option>' in page
    chosen = client.get("/directory?kind=zalo-templates").text
    assert '<option value="zalo-templates" selected>mẫu tin Zalo (ZNS)</option>' in chosen
    assert '<option value="subscribers" selected>' not in chosen
    english = client.get("/directory?kind=zalo-templates&lang=en").text
    assert '<option value="zalo-templates" selected>Zalo ZNS templates</option>' in english
    client.get("/directory?lang=vi")
    unknown = client.get("/directory?kind=nothing").text  # a kind it does not know: the usual first one
    assert '<option value="subscribers" selected>' in unknown


def test_upload_preview_confirm_adds_and_changes_templates_and_says_why_rows_are_refused(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    before, audited = templates(sessions), imports_audited(sessions)
    staged = upload(client, operator)
    assert staged.status_code == 303, html.unescape(staged.text)[:2000]
    location = staged.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert templates(sessions) == before and imports_audited(sessions) == audited  # the preview wrote nothing
    assert 'id="count-imported">3<' in text and 'id="count-rejected">4<' in text
    assert 'id="count-new">1<' in text and 'id="count-updated">1<' in text and 'id="count-unchanged">1<' in text
    assert 'id="count-converted"' not in text  # no phone numbers in a templates file
    assert "“Tham số” đọc là <strong>params</strong>" in text and "“OA” đọc là <strong>account</strong>" in text
    assert "“Ghi chú”" in text.split('id="columns-not-read">', 1)[1].split("</ul>", 1)[0]
    rejects = text.split('id="rejects"', 1)[1]
    assert "Mẫu 2056447: 'ten=abc' không phải tham số dạng tên:số ký tự tối đa (ví dụ ten:30)." in rejects
    assert "Nội dung mẫu 2056448 có <ngay>, mà <ngay> không phải là tham số của mẫu." in rejects
    assert "Mã mẫu 'mau-1' phải là mã số của mẫu ZNS." in rejects
    assert "Mẫu 2056449: Số ký tự tối đa 5000 của tham số ten phải từ 1 đến 4000." in rejects
    assert "is not a parameter" not in rejects and "must be" not in rejects  # no English left on the page
    english = html.unescape(client.get(location + "?lang=en").text)
    assert "Template 2056447: 'ten=abc' is not a parameter as name:maximum length (ten:30)." in english
    client.get("/directory?lang=vi")

    confirmed = client.post(location, data={"csrf_token": form_token(page.text)})
    assert confirmed.status_code == 200
    assert "3 imported (1 new, 1 updated, 1 unchanged)" in confirmed.text and "4 rejected" in confirmed.text
    after = templates(sessions)
    assert set(after) == {"2056446", "2056450", "2056460"}
    assert after["2056446"]["params"] == [["ten", 30], ["noi_dung", 400]]  # changed: 200 before
    assert after["2056460"] == {
        "name": "Lịch cắt điện",
        "params": [["khu_vuc", 60], ["gio", 20]],
        "text": "Cắt điện ở <khu_vuc> lúc <gio>",
    }
    assert imports_audited(sessions) == audited + 1
    rejected = client.get(location + "/rejected.csv").content.decode("utf-8-sig").splitlines()
    assert rejected[0] == "line,reason,Mã mẫu,Tên mẫu,Tham số,Nội dung,OA,Ghi chú"
    assert len(rejected) == 5 and rejected[3].startswith("7,template id 'mau-1' must be the ZNS template's")


def test_the_directory_lists_the_templates_with_their_parameters_lengths_text_and_oa(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    page = client.get("/directory/zalo-templates")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<a href="/directory/zalo-templates" id="nav-zalo-templates">Mẫu tin Zalo (ZNS)</a>' in text
    assert "<th>Mã mẫu</th><th>Tên</th><th>Tham số (số ký tự tối đa)</th><th>Nội dung</th><th>OA</th>" in text
    row = text.split('<tr id="row-2056446">', 1)[1].split("</tr>", 1)[0]
    cells = [cell.split(">", 1)[1].split("</td>", 1)[0].strip() for cell in row.split("<td")[1:]]
    assert cells == ["2056446", "Cảnh báo lừa đảo", "ten (30), noi_dung (200)", "<ten> cảnh báo: <noi_dung>", OA]
    assert "<ten> cảnh báo" not in page.text  # the text's parameters are escaped, not taken for tags
    assert '<td data-label="Tham số (số ký tự tối đa)">ten (30), noi_dung (200)</td>' in text  # labelled on a phone
    assert 'href="/directory?kind=zalo-templates" id="import-templates"' in text
    english = html.unescape(client.get("/directory/zalo-templates?lang=en").text)
    assert "<th>Template</th><th>Name</th><th>Parameters (maximum length)</th><th>Text</th><th>OA</th>" in english


def test_with_no_template_the_listing_says_so_and_a_drafter_reads_it_but_cannot_import(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    page = client.get("/directory/zalo-templates")
    assert page.status_code == 200
    assert "Danh bạ chưa có mẫu ZNS nào." in page.text and 'id="import-templates"' not in page.text
    answer = upload(client, form_token(client.get("/compose").text))
    assert answer.status_code == 403
    assert templates(sessions) == {}


def test_a_file_whose_every_row_is_refused_cannot_be_confirmed_and_writes_nothing(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    before, audited = templates(sessions), imports_audited(sessions)
    bad = "Mã mẫu,Tên mẫu,Tham số,Nội dung\n2056447,Sai,ten=abc,<ten>\n2056446,Lặp,ten:30; ten:40,<ten>\n".encode()
    location = upload(client, operator, bad).headers["location"]
    page = client.get(location)
    text = html.unescape(page.text)
    assert 'id="count-imported">0<' in text and 'id="count-rejected">2<' in text
    assert "Mẫu 2056446: Tham số ten được ghi hai lần." in text
    assert 'id="confirm"' not in text
    refused = client.post(location, data={"csrf_token": form_token(page.text)})
    assert refused.status_code == 422
    assert templates(sessions) == before and imports_audited(sessions) == audited


def test_a_file_without_the_parameters_column_is_one_sentence_beside_the_file_field(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    before = templates(sessions)
    answer = upload(client, operator, "Mã mẫu,Tên mẫu,Nội dung\n2056460,Lịch cắt điện,<gio>\n".encode())
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    error = text.split('id="file-error"', 1)[1].split("</", 1)[0]
    assert "Dòng 1: không có cột 'params' (hoặc Tham số); các cột có trong tệp: Mã mẫu, Tên mẫu, Nội dung." in error
    assert '<option value="zalo-templates" selected>' in text  # the form keeps the kind chosen
    assert 'id="kept-file"' in text  # and the file: sent again without choosing it
    unknown = upload(client, operator, "Mã mẫu,Tên mẫu,Tham số,Mô tả\n2056460,Lịch cắt điện,gio:20,x\n".encode())
    assert unknown.status_code == 422
    error = html.unescape(unknown.text).split('id="file-error"', 1)[1].split("</", 1)[0]
    assert "Dòng 1: cột 'Mô tả' không dùng cho tệp mẫu tin Zalo (ZNS); các cột được nhận: template_id (" in error
    assert "; và các cột được bỏ qua: STT, " in error and "not read" not in error
    empty = upload(client, operator, b"", name="")
    assert empty.status_code == 422
    assert "Hãy chọn một tệp." in html.unescape(empty.text).split('id="file-error"', 1)[1].split("</", 1)[0]
    assert templates(sessions) == before
