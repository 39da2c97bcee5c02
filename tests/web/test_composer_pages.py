"""The composer's pages through the real app: forms that say what is wrong beside the field, live checks,
a campaign file in and out of the form, and saving through the same operation as a file."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.store import find_campaign
from broadcaster.campaigns.texts import starting_texts
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.operations.composer import CampaignForm, form_of, texts_of
from broadcaster.settings import Settings
from tests.conftest import CONTENT
from tests.web.console_helpers import form_token, sign_in, staff

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"
SHIPPED = sorted((CONTENT / "campaigns").glob("*.yaml"))

# The composer writes templates: into a copy of the content folder, never into the package.
pytestmark = pytest.mark.own_content


@pytest.fixture
def drafter(client: TestClient, sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    return form_token(client.get("/compose").text)


def fields_of(form: CampaignForm, token: str) -> dict[str, Any]:
    """The form's fields as the page names them (what a browser posts)."""
    fields: dict[str, Any] = {
        "csrf_token": token,
        "campaign": form.campaign,
        "issuer": form.issuer,
        "number": form.number,
        "subject": form.subject,
        "priority": form.priority,
        "valid_from": str(form.valid_from or ""),
        "valid_until": str(form.valid_until or ""),
        "dated": str(form.dated or ""),
        "template": form.template,
        "locales": form.locales,
    }
    for index, (name, value) in enumerate(form.variables.items()):
        if isinstance(value, str):
            shape, shown = "text", value
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            shape, shown = "lines", "\n".join(value)
        else:
            shape, shown = "json", json.dumps(value, ensure_ascii=False)
        fields.setdefault("var_name", []).append(name)
        fields.setdefault("var_shape", []).append(shape)
        fields[f"var.{index}"] = shown
    for name, channel in form.channels.items():
        fields[f"{name}.on"] = "on"
        fields[f"{name}.to"] = channel.audience
        fields[f"{name}.areas"] = ", ".join(channel.areas)
        fields[f"{name}.opt_present"] = list(channel.options)
        for option, value in channel.options.items():
            if value is True:
                fields[f"{name}.opt.{option}"] = "on"
            elif value is not False:
                fields[f"{name}.opt.{option}"] = str(value)
        for index, rule in enumerate(channel.rules):
            prefix = f"{name}.rule.{index}"
            fields[f"{prefix}.kind"] = rule.kind
            fields[f"{prefix}.once_day"] = str(rule.on or "")
            fields[f"{prefix}.{'once' if rule.kind == 'once' else 'weekly'}_time"] = (
                f"{rule.at:%H:%M}" if rule.at else ""
            )
            fields[f"{prefix}.weekday"] = [str(day) for day in rule.weekdays]
            fields[f"{prefix}.slot"] = rule.slots
            fields[f"{prefix}.from"] = str(rule.starts or "")
            fields[f"{prefix}.until"] = str(rule.ends or "")
            fields[f"{prefix}.cron"] = rule.cron
    for (channel_name, locale), text in form.texts.items():
        fields[f"text.{channel_name}.{locale}"] = text
    return fields


def tay_ninh(web_settings: Settings, path: Path = TAY_NINH) -> CampaignForm:
    form = form_of(load_campaign_file(path).normalised())
    form.texts = texts_of(starting_texts(web_settings, form.template), form.template, list(form.channels), form.locales)
    return form


def test_a_form_without_the_token_is_refused(client: TestClient, drafter: str, web_settings: Settings) -> None:
    fields = fields_of(tay_ninh(web_settings), drafter)
    del fields["csrf_token"]
    answer = client.post("/compose", data=fields)
    assert answer.status_code == 403
    assert "Traceback" not in answer.text


def test_an_approver_has_no_composer(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "minh", "approver")
    sign_in(client, "minh")
    answer = client.get("/compose")
    assert answer.status_code == 403 and "campaigns:draft" in answer.text


@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_a_campaign_file_imported_into_the_form_exports_unchanged(
    client: TestClient, drafter: str, web_settings: Settings, path: Path
) -> None:
    page = client.post("/compose/import", data={"csrf_token": drafter}, files={"file": (path.name, path.read_bytes())})
    assert page.status_code == 200
    spec = load_campaign_file(path)
    assert f'value="{spec.number}"' in page.text
    assert "Thứ Hai" in page.text and "hằng tuần, lúc 19:00" in page.text  # the files' cron, read back
    exported = client.post("/compose/export", data=fields_of(tay_ninh(web_settings, path), drafter))
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == f'attachment; filename="{spec.campaign}.yaml"'
    assert yaml.safe_load(exported.text) == spec.normalised()


def test_a_broken_file_is_a_sentence_beside_the_import_field(client: TestClient, drafter: str) -> None:
    page = client.post("/compose/import", data={"csrf_token": drafter}, files={"file": ("x.yaml", b"campaign: [")})
    assert page.status_code == 422
    assert 'id="import-error"' in page.text and "Traceback" not in page.text


def test_problems_are_sentences_beside_their_fields(client: TestClient, drafter: str, web_settings: Settings) -> None:
    form = tay_ninh(web_settings)
    fields = fields_of(form, drafter)
    fields["number"] = ""
    fields["valid_until"] = "2024-13-40"
    fields["sms.rule.0.kind"] = "weekly"  # no weekday chosen
    fields["radio.to"] = ["list:thue-bao-tay-ninh"]
    answer = client.post("/compose", data=fields)
    assert answer.status_code == 422 and "Traceback" not in answer.text
    assert 'id="valid-error"' in answer.text and "&#39;2024-13-40&#39; không phải là ngày hợp lệ" in answer.text
    fields["valid_until"] = "2024-06-14"
    answer = client.post("/compose", data=fields)
    assert answer.status_code == 422
    assert 'id="number-error"' in answer.text
    assert 'id="channels.sms.schedule[0]-error"' in answer.text
    assert 'id="channels.radio.to-error"' in answer.text and "sends to stations" in answer.text


def test_a_campaign_saved_from_the_form_is_stored_as_a_file_would_be(
    client: TestClient, drafter: str, web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    form = tay_ninh(web_settings)
    answer = client.post("/compose", data=fields_of(form, drafter), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/compose/canh-bao-goi-gia-danh-lan-2?saved=1"
    with sessions() as session:
        campaign = find_campaign(session, form.campaign)
        assert campaign.spec == load_campaign_file(TAY_NINH).normalised()
        assert campaign.template == "goi-gia-danh"  # texts unchanged: the shared template stays
    page = client.get(answer.headers["location"])
    assert "Đã lưu bản nháp." in page.text and 'id="submit"' in page.text


def sms(words: int) -> str:
    return "Sở TT&TT cảnh báo: " + " ".join(["lừa đảo"] * words) + ". Báo tin: {{ issuer.hotline.number }}"


def test_the_sms_counter_answers_as_one_types(client: TestClient, drafter: str, web_settings: Settings) -> None:
    fields = fields_of(tay_ninh(web_settings), drafter)
    counts = []
    for words in (2, 6, 2):
        fields["text.sms.vi"] = sms(words)
        answer = client.post("/compose/check/sms/vi", data=fields)
        assert answer.status_code == 200
        accented = answer.text.split('id="sms-vi-accented">', 1)[1].split("</td>", 1)[0]
        counts.append(accented.rsplit("·", 1)[1].strip())
    assert counts == ["1 phần", "2 phần", "1 phần"]


def test_the_audience_is_counted_and_the_timetable_read_back_as_one_chooses(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    fields = fields_of(tay_ninh(web_settings), drafter)
    counted = client.post("/compose/count/facebook", data=fields)
    assert 'id="facebook-recipients">1 người nhận' in counted.text
    fields |= {"valid_from": "2030-01-01", "valid_until": "2030-02-28", "facebook.rule.0.weekday": ["0", "3"]}
    echoed = client.post("/compose/timetable/facebook", data=fields)
    assert "Thứ Hai và Thứ Năm hằng tuần, lúc 19:00, từ ngày 01/01/2030 đến ngày 28/02/2030." in echoed.text
    assert echoed.text.count("<li>") == 10
    shown = echoed.text.count('"weekday">Thứ Hai<') + echoed.text.count('"weekday">Thứ Năm<')
    assert shown == 10 and '"weekday">Thứ Hai</span> 03/01/2030' not in echoed.text


def test_the_values_put_into_the_template_are_fields_not_json(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    page = client.post(
        "/compose/import", data={"csrf_token": drafter}, files={"file": (TAY_NINH.name, TAY_NINH.read_bytes())}
    )
    addressees = page.text.split('name="var.1"', 1)[1].split("</textarea>", 1)[0]
    assert "Các Sở, ban, ngành tỉnh\nCông an tỉnh Tây Ninh" in addressees  # one addressee a line
    fields = fields_of(tay_ninh(web_settings), drafter)
    fields["var_name"] = [*fields["var_name"], "signed_by"]
    fields["var_shape"] = [*fields["var_shape"], "text"]
    fields[f"var.{len(fields['var_name']) - 1}"] = "Nguyễn Văn A"
    exported = client.post("/compose/export", data=fields)
    assert yaml.safe_load(exported.text)["variables"]["signed_by"] == "Nguyễn Văn A"


def test_choosing_another_shared_template_brings_its_texts(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    fields = fields_of(tay_ninh(web_settings), drafter) | {"template": "moi-lam-viec", "text.sms.vi": "đang viết dở"}
    page = client.post("/compose/template", data=fields)
    assert page.status_code == 200
    # The shipped moi-lam-viec SMS, shown in plain words with its fields named.
    sms_text = page.text.split('id="plain-sms-vi"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert "gọi điện mạo danh lãnh đạo Sở mời làm việc" in sms_text
    assert sms_text.startswith("[Tên viết tắt của đơn vị]:") and sms_text.endswith("Báo: [Đường dây nóng]")
    assert "đang viết dở" not in page.text


def test_a_text_for_a_locale_that_is_a_path_is_refused(web_settings: Settings) -> None:
    from broadcaster.errors import UserError
    from broadcaster.operations.composer import with_edits

    base = starting_texts(web_settings, "goi-gia-danh")
    with pytest.raises(UserError, match=re.escape("no sms text in '../../x'")):
        with_edits(base, "goi-gia-danh", {("sms", "../../x"): "văn bản"})


def test_a_refused_save_is_said_in_the_consoles_language(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    """The core refuses in English; the page says it in Vietnamese, and in English once English is chosen."""
    fields = fields_of(tay_ninh(web_settings), drafter)
    channel = next(name for name in ("sms", "email", "facebook", "radio") if f"{name}.areas" in fields)
    fields[f"{channel}.areas"] = "khong-co-khu-nay"
    answer = client.post("/compose", data=fields, follow_redirects=False)
    shown = html.unescape(answer.text)
    assert answer.status_code == 422
    assert "Khu vực 'khong-co-khu-nay' không có trong danh sách khu vực." in shown
    assert "is not in the area list" not in shown
    client.get("/compose?lang=en")
    answer = client.post("/compose", data=fields, follow_redirects=False)
    shown = html.unescape(answer.text)
    assert answer.status_code == 422
    assert "Area 'khong-co-khu-nay' is not in the area list." in shown
    assert "không có trong danh sách khu vực" not in shown
