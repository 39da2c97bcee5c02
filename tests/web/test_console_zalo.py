"""A campaign with a Zalo channel on the console: its page and the approver's preview show the Zalo message."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import draft_campaign, sign_in, staff

TEMPLATES = "Mã mẫu,Tên mẫu,Tham số,Nội dung\n2056446,Cảnh báo,ten:30; noi_dung:400,<ten> cảnh báo: <noi_dung>\n"


def test_a_zalo_campaign_has_its_page_and_preview(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        import_examples(session)
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", TEMPLATES.encode()))
    path = current(tmp_path, web_settings.today())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sms = data["channels"]["sms"]
    data["channels"]["zalo"] = {
        "to": sms["to"],
        "schedule": sms["schedule"],
        "template_id": "2056446",
        "params": {"ten": "Sở TT&TT Tây Ninh"},
        "text_param": "noi_dung",
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    staff(sessions, "lan", "admin")
    slug = draft_campaign(sessions, web_settings, "lan", path)
    sign_in(client, "lan")
    page = client.get(f"/campaigns/{slug}")
    assert page.status_code == 200 and "tin nhắn Zalo" in page.text
    preview = client.get(f"/campaigns/{slug}/preview")
    assert preview.status_code == 200
    # The approver reads the message as the recipient will: the ZNS template's text with the values given.
    bubble = '<div class="bubble" id="zalo-vi">Sở TT&amp;TT Tây Ninh cảnh báo: Kẻ gian giả danh lãnh đạo Sở'
    assert bubble in preview.text
