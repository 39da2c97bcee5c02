"""Zalo in the composer: the ZNS template chosen from the directory, a field per parameter, the SMS fallback;
a campaign with Zalo and its fallback opened and saved unchanged, its problems beside their fields."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.store import find_campaign
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.operations.composer import export_yaml, field_of, form_of
from broadcaster.operations.composer_live import template_values
from broadcaster.settings import Settings
from channels.base import ProviderTemplate
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import draft_campaign, sign_in, staff
from tests.web.test_console_sentences import python_values_in

TEMPLATES = (
    "Mã mẫu,Tên mẫu,Tham số,Nội dung\n"
    "2056446,Cảnh báo lừa đảo,ten:30; noi_dung:400,<ten> cảnh báo: <noi_dung>\n"
    "2056450,Thông báo ngắn,don_vi:40; ngay:10; tin:200,<don_vi> (<ngay>): <tin>\n"
)
ZALO = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}
FALLBACK = {"channel": "sms", "wait_minutes": 90, "when_unknown": False}

# The composer writes templates: into a copy of the content folder, never into the package.
pytestmark = pytest.mark.own_content


def with_zalo(data: dict[str, Any]) -> dict[str, Any]:
    """The campaign sent through Zalo to the SMS's audience on the SMS's timetable, its SMS for whom Zalo could not
    reach (with no audience or timetable of its own)."""
    sms = data["channels"]["sms"]
    data["channels"]["zalo"] = {
        "to": sms["to"],
        "schedule": sms["schedule"],
        "areas": sms.get("areas", []),
        **ZALO,
        "fallback": FALLBACK,
    }
    data["channels"]["sms"] = {**sms, "to": [], "schedule": []}
    return data


def zalo_file(tmp_path: Path, today: Any) -> Path:
    path = current(tmp_path, today)
    path.write_text(yaml.safe_dump(with_zalo(yaml.safe_load(path.read_text("utf-8"))), allow_unicode=True), "utf-8")
    return path


@pytest.fixture
def drafter(client: TestClient, sessions: sessionmaker[Session]) -> str:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    return "lan"


def templates_imported(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", TEMPLATES.encode()))


class _Posted(HTMLParser):
    """What a browser posts of the composer's form: its named fields as the page has them (a checkbox only when
    checked, a select's chosen option, a textarea's text), disabled ones left out."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = named.get("id") == "composer"
        if not self._in_form or "disabled" in named:
            return
        name = named.get("name")
        if tag == "input" and name and named.get("type") not in ("submit", "button", "file"):
            if named.get("type") not in ("checkbox", "radio") or "checked" in named:
                self.fields.append((name, named.get("value", "on" if named.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((named.get("value", ""), "selected" in named))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields += [(self._select, value) for value in chosen[:1]]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def posted(page: str) -> dict[str, list[str]]:
    found = _Posted()
    found.feed(page)
    fields: dict[str, list[str]] = {}
    for name, value in found.fields:
        fields.setdefault(name, []).append(value)
    return fields


def stored_spec(sessions: sessionmaker[Session], slug: str) -> dict[str, Any]:
    with sessions() as session:
        return dict(find_campaign(session, slug).spec)


# ---- the form holds Zalo and its fallback as the file has them ---------------------------------------------------


def test_zalo_and_its_fallback_go_through_the_form_unchanged(tmp_path: Path, web_settings: Settings) -> None:
    spec = parse_campaign(yaml.safe_load(zalo_file(tmp_path, web_settings.today()).read_text("utf-8")), "file")
    form = form_of(spec.normalised())
    assert form.channels["zalo"].fallback == FALLBACK
    assert "fallback" not in form.channels["zalo"].options  # its own field, not one of the adapter's options
    assert form.data() == spec.normalised()
    assert yaml.safe_load(export_yaml(form)) == spec.normalised()


def test_a_stored_zalo_campaign_opened_and_saved_in_the_page_is_unchanged(
    client: TestClient, drafter: str, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    templates_imported(sessions)
    slug = draft_campaign(sessions, web_settings, drafter, zalo_file(tmp_path, web_settings.today()))
    before = stored_spec(sessions, slug)
    assert before["channels"]["zalo"]["fallback"] == FALLBACK
    page = client.get(f"/compose/{slug}")
    assert page.status_code == 200
    fields = posted(page.text)
    assert fields["zalo.on"] == ["on"] and fields["zalo.fallback.on"] == ["on"]
    answer = client.post("/compose", data=fields, follow_redirects=False)
    assert answer.status_code == 303, html.unescape(answer.text)[:3000]
    assert stored_spec(sessions, slug) == before


def test_the_page_shows_the_template_its_parameters_and_the_fallback(
    client: TestClient, drafter: str, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    templates_imported(sessions)
    slug = draft_campaign(sessions, web_settings, drafter, zalo_file(tmp_path, web_settings.today()))
    page = html.unescape(client.get(f"/compose/{slug}").text)
    assert 'id="zalo-no-templates"' not in page
    assert '<option value="2056446" selected>2056446 — Cảnh báo lừa đảo</option>' in page
    assert '<option value="2056450">2056450 — Thông báo ngắn</option>' in page
    assert 'id="zalo-param-ten" name="zalo.opt.params.0.value" value="Sở TT&TT Tây Ninh"' in page
    assert "tối đa 30 ký tự" in page
    assert "lấy nội dung Zalo viết ở ô nội dung (tối đa 400 ký tự)" in page
    assert "Gửi SMS cho người không nhận được tin Zalo" in page
    assert 'id="zalo-fallback-wait" name="zalo.fallback.wait_minutes" value="90"' in page
    assert "Cũng gửi SMS khi không rõ tin Zalo đã đến chưa (có thể nhận cả hai)" in page
    assert 'id="zalo-fallback-unknown">' in page  # not checked: the campaign says no
    # The SMS sends only to whom Zalo could not reach: its own audience and timetable are not asked for.
    assert 'class="card channel is-fallback" id="channel-sms"' in page
    assert "SMS chỉ gửi cho người Zalo không tới được" in page
    english = client.get(f"/compose/{slug}?lang=en").text
    assert "Send the SMS to whoever Zalo could not reach" in html.unescape(english)
    assert python_values_in(client.get(f"/compose/{slug}").text) == [] and python_values_in(english) == []


def test_a_new_campaign_starts_without_zalo_and_says_how_to_import_templates(
    client: TestClient, drafter: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        import_examples(session)
    page = html.unescape(client.get("/compose").text)
    assert 'id="zalo-on">' in page and 'id="sms-on" checked>' in page
    assert 'class="card channel" id="channel-sms"' in page
    # No template imported yet: the page says how to import them, beside the field: the directory's page, linked.
    assert 'id="zalo-no-templates"' in page and "broadcaster directory import zalo-templates" in page
    assert '<a href="/directory?kind=zalo-templates" id="zalo-import-templates">' in page


# ---- the fallback as the page posts it -------------------------------------------------------------------------


def test_turning_the_fallback_on_saves_it_and_the_sms_without_audience_or_timetable(
    client: TestClient, drafter: str, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    """The SMS left off and still holding what the page showed it before: the fallback turns it on, and its own
    audience and timetable are not saved."""
    templates_imported(sessions)
    slug = draft_campaign(sessions, web_settings, drafter, current(tmp_path, web_settings.today()))
    page = client.get(f"/compose/{slug}")
    fields = posted(page.text)
    sms = stored_spec(sessions, slug)["channels"]["sms"]
    assert fields["sms.to"] == sms["to"] and "zalo.on" not in fields
    fields |= {
        "zalo.on": ["on"],
        "zalo.to": sms["to"],
        "zalo.opt.template_id": ["2056446"],
        "zalo.opt.params.0.name": ["ten"],
        "zalo.opt.params.0.value": ["Sở TT&TT Tây Ninh"],
        "zalo.opt.text_param": ["noi_dung"],
        "zalo.rule.0.kind": ["once"],
        "zalo.rule.0.once_day": [str(web_settings.today())],
        "zalo.rule.0.once_time": ["19:00"],
        "zalo.fallback.on": ["on"],
        "zalo.fallback.wait_minutes": ["45"],
        "zalo.fallback.when_unknown": ["on"],
        "text.zalo.vi": ["Giả danh lãnh đạo Sở là LỪA ĐẢO. Báo tin: {{ issuer.hotline.number }}"],
    }
    del fields["sms.on"]
    answer = client.post("/compose", data=fields, follow_redirects=False)
    assert answer.status_code == 303, html.unescape(answer.text)[:3000]
    channels = stored_spec(sessions, slug)["channels"]
    assert channels["zalo"]["fallback"] == {"channel": "sms", "wait_minutes": 45, "when_unknown": True}
    assert channels["zalo"]["params"] == {"ten": "Sở TT&TT Tây Ninh"} and channels["zalo"]["text_param"] == "noi_dung"
    assert channels["sms"]["to"] == [] and channels["sms"]["schedule"] == []
    assert {key: value for key, value in channels["sms"].items() if key not in ("to", "schedule")} == {
        key: value for key, value in sms.items() if key not in ("to", "schedule")
    }
    # Turned off again: the SMS has its own audience and timetable back to be given, and no fallback is left.
    fields["zalo.fallback.on"] = []
    fields["sms.on"] = ["on"]
    answer = client.post("/compose", data=fields, follow_redirects=False)
    assert answer.status_code == 303, html.unescape(answer.text)[:3000]
    channels = stored_spec(sessions, slug)["channels"]
    assert "fallback" not in channels["zalo"] and channels["sms"]["to"] == sms["to"]


def test_the_fallbacks_problems_are_beside_its_fields_in_the_consoles_language(
    client: TestClient, drafter: str, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    templates_imported(sessions)
    slug = draft_campaign(sessions, web_settings, drafter, zalo_file(tmp_path, web_settings.today()))
    fields = posted(client.get(f"/compose/{slug}").text)
    for typed, said in (
        ("0", "Phải từ 1 trở lên."),
        ("2000", "Phải không quá 1440."),
        ("một giờ", "không phải số phút"),
    ):
        answer = client.post("/compose", data={**fields, "zalo.fallback.wait_minutes": [typed]})
        shown = html.unescape(answer.text)
        assert answer.status_code == 422
        assert '<p class="field-error" id="channels.zalo.fallback-error">' in shown and said in shown
    fields["zalo.opt.params.0.value"] = [""]  # the template's `ten` left without a value
    shown = html.unescape(client.post("/compose", data=fields).text)
    assert '<p class="field-error" id="channels.zalo.options-error">' in shown
    assert "Mẫu ZNS 2056446 cần giá trị cho tham số 'ten'." in shown
    fields["zalo.opt.params.0.value"] = ["Sở TT&TT Tây Ninh"]
    fields["zalo.rule.0.kind"] = [""]  # Zalo without a timetable of its own
    shown = html.unescape(client.post("/compose", data=fields).text)
    assert '<p class="field-error" id="channels.zalo.schedule-error">' in shown
    assert "Kênh Zalo chưa có lịch phát nên sẽ không gửi gì" in shown


# ---- what the page asks about the template, and the message as it will look ----------------------------------


def test_choosing_another_template_asks_for_its_parameters(
    client: TestClient, drafter: str, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    templates_imported(sessions)
    slug = draft_campaign(sessions, web_settings, drafter, zalo_file(tmp_path, web_settings.today()))
    fields = posted(client.get(f"/compose/{slug}").text)
    fields["zalo.opt.template_id"] = ["2056450"]
    chosen = html.unescape(client.post("/compose/values/zalo?chosen=1", data=fields).text)
    assert 'id="zalo-param-don_vi"' in chosen and "tối đa 40 ký tự" in chosen and 'id="zalo-param-ngay"' in chosen
    assert 'id="zalo-param-ten"' not in chosen  # the other template's value is not carried over
    assert '<option value="tin" selected>tin</option>' in chosen  # the text fills the longest parameter
    assert "<ten> cảnh báo" not in chosen and "<don_vi> (<ngay>): <tin>" in chosen


def test_template_values_keep_what_the_template_does_not_have_until_another_is_chosen() -> None:
    known = [ProviderTemplate("1", "Mẫu", "<a> <b>", (("a", 10), ("b", 300)))]
    values = template_values(known, {"template_id": "1", "params": {"a": "x", "z": "kept"}, "text_param": "b"})
    assert [(p.name, p.max_length, p.value, p.fills_text) for p in values.params] == [
        ("a", 10, "x", False),
        ("b", 300, "", True),
        ("z", None, "kept", False),
    ]
    chosen = template_values(known, {"template_id": "1", "params": {"a": "x", "z": "dropped"}}, chosen_now=True)
    assert [p.name for p in chosen.params] == ["a", "b"] and chosen.text_param == "b"
    unknown = template_values(known, {"template_id": "9", "params": {"q": "v"}, "text_param": "r"})
    assert unknown.template is None and [(p.name, p.max_length) for p in unknown.params] == [("q", None)]


def test_the_zalo_text_is_checked_and_shown_as_it_will_look(
    client: TestClient, drafter: str, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    templates_imported(sessions)
    slug = draft_campaign(sessions, web_settings, drafter, zalo_file(tmp_path, web_settings.today()))
    fields = posted(client.get(f"/compose/{slug}").text)
    fields["text.zalo.vi"] = ["Giả danh lãnh đạo Sở là LỪA ĐẢO. Báo tin: {{ issuer.hotline.number }}"]
    fields["mode.zalo.vi"] = ["advanced"]
    checked = html.unescape(client.post("/compose/check/zalo/vi", data=fields).text)
    assert '<div class="bubble" id="zalo-look-vi">Sở TT&TT Tây Ninh cảnh báo: Giả danh lãnh đạo Sở' in checked
    assert 'id="zalo-vi-length"' in checked and "/ 400 ký tự" in checked
    assert "Không có vấn đề." in checked
    fields["text.zalo.vi"] = [fields["text.zalo.vi"][0] + " lừa đảo" * 60]
    checked = html.unescape(client.post("/compose/check/zalo/vi", data=fields).text)
    assert "quá 400 ký tự mẫu ZNS 2056446 cho phép ở tham số 'noi_dung'" in checked
    # The SMS, sent only to whom Zalo could not reach, is rendered for one of Zalo's recipients (a subscriber has no
    # name to greet), not for the sample recipient a channel without an audience gets.
    fields["text.sms.vi"] = ["Kính gửi {{ recipient.name }}. Báo tin: {{ issuer.hotline.number }}"]
    fields["mode.sms.vi"] = ["advanced"]
    sms = html.unescape(client.post("/compose/check/sms/vi", data=fields).text)
    assert "Kính gửi . Báo tin" in sms and "Người nhận mẫu" not in sms
    fields["zalo.fallback.on"] = []
    fields["sms.to"] = []
    sms = html.unescape(client.post("/compose/check/sms/vi", data=fields).text)
    assert "Kính gửi Người nhận mẫu. Báo tin" in sms


def test_the_fallbacks_problems_and_a_missing_timetable_have_their_fields() -> None:
    assert field_of("channels.zalo.fallback.wait_minutes") == "channels.zalo.fallback"
    assert field_of("channels.zalo.fallback.channel") == "channels.zalo.fallback"
    assert field_of("channels.sms.schedule") == "channels.sms.schedule"
    assert field_of("channels.zalo.template_id") == "channels.zalo.options"
