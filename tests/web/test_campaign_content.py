"""A campaign's content is its own: nothing one campaign, a drafter or a file on disk does changes what
another campaign, the public verification page or the CAP alerts say, and nothing stops an approved
campaign by itself."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.store import find_campaign
from broadcaster.settings import Settings
from broadcaster.timetable import Timetable
from tests.web.console_helpers import form_token, sign_in, staff
from tests.web.test_composer_pages import fields_of, tay_ninh
from tests.web.test_public_page import publish

TAY_NINH = "canh-bao-goi-gia-danh-lan-2"

# A copy of the content folder, which the tests edit as someone with access to the server could.
pytestmark = pytest.mark.own_content


def public_view(client: TestClient) -> dict[str, str]:
    """What a citizen and an aggregator see of the warning in force."""
    alert = client.get(f"/tra-cuu/canh-bao/{TAY_NINH}")
    letter = client.get(f"/tra-cuu/cong-van/{TAY_NINH}")
    feed = client.get("/cap/alerts.atom")
    assert alert.status_code == letter.status_code == feed.status_code == 200
    return {"warning": alert.text, "letter": letter.text, "feed": feed.text}


def shared_files(settings: Settings) -> dict[str, bytes]:
    folder = settings.templates_dir
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*.j2"))}


def test_a_campaign_named_like_a_shared_template_changes_nothing_of_another_campaign_nor_the_public_page(
    client: TestClient, shipped: sessionmaker[Session], web_settings: Settings
) -> None:
    publish(shipped, web_settings)
    before, files = public_view(client), shared_files(web_settings)
    with shipped() as session:
        other = dict(find_campaign(session, TAY_NINH).texts)
    staff(shipped, "lan", "drafter")
    sign_in(client, "lan")
    form = tay_ninh(web_settings)
    form.campaign = "goi-gia-danh"  # the name of the shared template the approved campaign started from
    form.texts[("sms", "vi")] = "Sở TT&TT: xem chi tiết tại tn-lua-dao.vn. Báo tin: {{ issuer.hotline.number }}"
    refused = client.post("/compose", data=fields_of(form, form_token(client.get("/compose").text)))
    assert refused.status_code == 422 and "tn-lua-dao.vn" in refused.text  # a link in an SMS: refused, saved nowhere
    form.texts[("sms", "vi")] = "Sở TT&TT: cảnh giác kẻ gian giả danh. Báo tin: {{ issuer.hotline.number }}"
    saved = client.post(
        "/compose", data=fields_of(form, form_token(client.get("/compose").text)), follow_redirects=False
    )
    assert saved.status_code == 303, saved.text

    assert shared_files(web_settings) == files
    assert public_view(client) == before
    with shipped() as session:
        approved = find_campaign(session, TAY_NINH)
        assert approved.texts == other and approved.status == "approved"
        assert "cảnh giác kẻ gian" in find_campaign(session, "goi-gia-danh").texts["goi-gia-danh/vi/sms.txt.j2"]


def test_a_shared_template_edited_on_disk_changes_no_approved_output_and_stops_nothing(
    client: TestClient, shipped: sessionmaker[Session], web_settings: Settings
) -> None:
    publish(shipped, web_settings)
    before = public_view(client)
    for path in (web_settings.templates_dir / "goi-gia-danh").rglob("*.j2"):
        path.write_text(path.read_text(encoding="utf-8") + "\nXem thêm: tn-lua-dao.vn\n", encoding="utf-8")
    Timetable(shipped, web_settings).sync()  # the resync that once sent such campaigns back to draft

    assert public_view(client) == before
    assert "tn-lua-dao.vn" not in before["letter"]
    with shipped() as session:
        assert find_campaign(session, TAY_NINH).status in ("approved", "active")
