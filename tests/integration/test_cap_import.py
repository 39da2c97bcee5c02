"""CAP 1.2 import: an alert becomes a draft campaign; import then export keeps what the mapping covers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.store import find_campaign
from broadcaster.cap.alerts import alert_for_campaign
from broadcaster.cap.export import alert_xml
from broadcaster.cap.importing import import_alert
from broadcaster.cap.mapping import NAMESPACE
from broadcaster.cap.reading import parse_alert, read_source
from broadcaster.db import transaction
from broadcaster.errors import UserError
from broadcaster.examples import example_campaigns
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from tests.conftest import CONTENT, Cli, import_shipped_with_cli
from tests.integration.test_cap_export import BINH_PHUOC, TAY_NINH, load_all

NS = {"cap": NAMESPACE}
NOT_MAPPED = {"identifier", "sender", "sent", "web", "references"}  # naming the alert, not its content


@pytest.fixture
def own_content(settings: Settings, tmp_path: Path) -> Settings:
    """A content folder of the installation's own, where imports write their campaign files and templates."""
    shutil.copytree(CONTENT, tmp_path / "content")
    return settings.model_copy(update={"content_dir": tmp_path / "content"})


def fields(document: bytes) -> dict[str, Any]:
    """Every field of an alert the mapping covers, as comparable data."""

    def flat(element: etree._Element) -> Any:
        children = list(element)
        if not children:
            return (element.text or "").strip()
        return [(etree.QName(child).localname, flat(child)) for child in children]

    root = etree.fromstring(document)
    return {
        name: value
        for name, value in ((etree.QName(child).localname, flat(child)) for child in root)
        if name not in NOT_MAPPED
    } | {"info": [[(k, v) for k, v in flat(info) if k not in NOT_MAPPED] for info in root.findall("cap:info", NS)]}


def exported(sessions: sessionmaker[Session], settings: Settings, slug: str) -> bytes:
    with transaction(sessions) as session:
        return alert_xml(session, alert_for_campaign(session, slug, settings), settings)


def approve(sessions: sessionmaker[Session], settings: Settings, slug: str) -> None:
    with transaction(sessions) as session:
        campaign = find_campaign(session, slug)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)


def import_document(
    sessions: sessionmaker[Session], settings: Settings, document: bytes, issuer: str | None = None
) -> Any:
    with transaction(sessions) as session:
        return import_alert(session, parse_alert(document, "alert.xml"), settings, "lan", "alert.xml", issuer)


@pytest.mark.parametrize(("slug", "issuer"), [(TAY_NINH, "tay-ninh-stttt"), (BINH_PHUOC, "binh-phuoc-stttt")])
def test_import_then_export_keeps_every_field_the_mapping_covers(
    shipped: sessionmaker[Session], own_content: Settings, slug: str, issuer: str
) -> None:
    load_all(shipped, own_content)
    original = exported(shipped, own_content, slug)
    result = import_document(shipped, own_content, original, issuer)
    assert result.campaign.status == "draft"  # an import is a draft: the usual approval follows
    approve(shipped, own_content, result.slug)
    again = exported(shipped, own_content, result.slug)
    assert fields(again) == fields(original)


def test_the_imported_draft_keeps_its_texts_in_the_database_and_writes_no_file(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    load_all(shipped, own_content)
    before = sorted(own_content.content_dir.rglob("*"))
    result = import_document(shipped, own_content, exported(shipped, own_content, TAY_NINH), "tay-ninh-stttt")
    slug = "cap-127-0-0-1-canh-bao-goi-gia-danh-lan-2-1"
    assert result.slug == slug
    assert sorted(own_content.content_dir.rglob("*")) == before  # no template folder, no campaign file
    with shipped() as session:
        texts = find_campaign(session, slug).texts
    assert sorted(texts) == [
        f"{slug}/{locale}/{name}"
        for locale in ("en", "vi")
        for name in (
            "cap.description.j2",
            "cap.event.j2",
            "cap.headline.j2",
            "cap.instruction.j2",
            "facebook.txt.j2",
            "radio.txt.j2",
        )
    ]
    with transaction(shipped) as session:
        campaign = find_campaign(session, slug)
        assert campaign.number == "881/STTTT-TTr"
        assert (campaign.valid_from.isoformat(), campaign.valid_until.isoformat()) == ("2024-05-14", "2024-06-14")
        assert campaign.priority == "priority"
        radio = next(channel for channel in campaign.channels if channel.channel == "radio")
        assert radio.areas == ["tay-ninh"]
        assert radio.rules[0].slots == ["morning", "evening"]  # the slots every Tây Ninh station has


def test_template_code_in_an_alert_is_kept_as_text_never_run(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    load_all(shipped, own_content)
    document = exported(shipped, own_content, TAY_NINH)
    document = document.replace("Lừa đảo mạo danh".encode(), b"{{ issuer.__class__ }} {% for x in y %}")
    result = import_document(shipped, own_content, document, "tay-ninh-stttt")
    approve(shipped, own_content, result.slug)
    again = etree.fromstring(exported(shipped, own_content, result.slug))
    assert again.findtext("cap:info/cap:event", namespaces=NS) == "{{ issuer.__class__ }} {% for x in y %}"


def test_an_invalid_alert_is_refused_with_the_schemas_reasons_each_with_its_line(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    load_all(shipped, own_content)
    document = exported(shipped, own_content, TAY_NINH)
    broken = document.replace(b"<status>Actual</status>", b"<status>Real</status>")
    broken = broken.replace(b"+07:00</sent>", b"</sent>")
    with pytest.raises(InvalidInput) as refused:
        parse_alert(broken, "alert.xml")
    messages = [problem.message for problem in refused.value.problems]
    assert messages[0].startswith("line 5: Element 'sent': [facet 'pattern'] The value")
    assert messages[1].startswith("line 6: Element 'status': [facet 'enumeration'] The value 'Real' is not")
    with pytest.raises(InvalidInput, match="has 1 problem") as not_xml:
        parse_alert(b"<alert><oops></alert>", "alert.xml")
    assert "line 1: the file is not well-formed XML" in not_xml.value.problems[0].message


def test_a_cancel_names_the_campaign_to_cancel_and_changes_nothing(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    load_all(shipped, own_content)
    result = import_document(shipped, own_content, exported(shipped, own_content, TAY_NINH), "tay-ninh-stttt")
    with transaction(shipped) as session:
        lifecycle.apply(session, find_campaign(session, TAY_NINH), "cancel", "minh", settings=own_content)
    cancel = exported(shipped, own_content, TAY_NINH)
    with pytest.raises(UserError, match=f"cancel it with 'broadcaster campaign cancel {result.slug}'"):
        import_document(shipped, own_content, cancel)
    with transaction(shipped) as session:
        assert find_campaign(session, result.slug).status == "draft"


def test_an_update_changes_the_draft_imported_from_the_original(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    load_all(shipped, own_content)
    first = import_document(shipped, own_content, exported(shipped, own_content, TAY_NINH), "tay-ninh-stttt")
    original = etree.fromstring(exported(shipped, own_content, TAY_NINH))
    reference = ",".join(str(original.findtext(f"cap:{n}", namespaces=NS)) for n in ("sender", "identifier", "sent"))
    update = exported(shipped, own_content, TAY_NINH)
    update = update.replace(b"<msgType>Alert</msgType>", b"<msgType>Update</msgType>")
    update = update.replace(b".lan-2.1</identifier>", b".lan-2.2</identifier>")
    references = f"<scope>Public</scope><references>{reference}</references>"
    update = update.replace(b"<scope>Public</scope>", references.encode())
    update = update.replace(b"2024-06-15T00:00:00+07:00", b"2024-06-21T00:00:00+07:00")
    second = import_document(shipped, own_content, update)
    assert second.slug == first.slug and not second.created
    with transaction(shipped) as session:
        assert find_campaign(session, first.slug).valid_until.isoformat() == "2024-06-20"


def test_an_alert_is_fetched_only_from_an_allowed_address(
    own_content: Settings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    body = b"<alert/>"
    httpserver.expect_request("/feeds/alert.xml").respond_with_data(body, content_type="application/xml")
    allowed = own_content.model_copy(update={"cap_import_allow": [httpserver.url_for("/feeds/")]})
    assert read_source(httpserver.url_for("/feeds/alert.xml"), allowed) == body
    with pytest.raises(UserError, match="is not on the list of addresses alerts may be imported from"):
        read_source(httpserver.url_for("/other/alert.xml"), allowed)
    with pytest.raises(UserError, match="answered HTTP 500"):
        read_source(httpserver.url_for("/feeds/missing.xml"), allowed)
    with pytest.raises(UserError, match="file not found"):
        read_source(str(tmp_path / "nothing.xml"), allowed)


def test_the_allow_list_compares_addresses_in_their_one_standard_form(
    own_content: Settings, httpserver: HTTPServer
) -> None:
    """Dot segments, their percent-encoded spelling, an encoded slash, a user name and redirects cannot
    lead out of the allowed prefix; the same address in another spelling still works."""
    httpserver.expect_request("/cap/alert.xml").respond_with_data(b"<alert/>")
    httpserver.expect_request("/secret.xml").respond_with_data(b"secret")
    httpserver.expect_request("/cap/moved.xml").respond_with_data(
        b"", status=302, headers={"Location": "/cap/alert.xml"}
    )
    httpserver.expect_request("/cap/away.xml").respond_with_data(b"", status=302, headers={"Location": "/secret.xml"})
    base = httpserver.url_for("/")  # http://localhost:PORT/
    allowed = own_content.model_copy(update={"cap_import_allow": [base + "cap/"]})
    for escape in ("cap/../secret.xml", "cap/%2e%2e/secret.xml", "cap/%2E%2E/secret.xml", "cap/..%2Fsecret.xml"):
        with pytest.raises(UserError):
            read_source(base + escape, allowed)
    host = base.split("//")[1].rstrip("/")
    with pytest.raises(UserError, match="names a user before its host"):
        read_source(f"http://{host}@127.0.0.1:1/cap/alert.xml", allowed)
    assert read_source(base.upper().replace("LOCALHOST", "LocalHost") + "cap/./alert.xml", allowed) == b"<alert/>"
    assert read_source(base + "cap/moved.xml", allowed) == b"<alert/>"
    with pytest.raises(UserError, match=r"redirects to /secret\.xml, which is not on the list"):
        read_source(base + "cap/away.xml", allowed)
    assert not any(request.path == "/secret.xml" for request, _ in httpserver.log)


def test_cap_import_on_the_command_line_makes_a_draft_that_goes_through_approval(cli: Cli, tmp_path: Path) -> None:
    shutil.copytree(CONTENT, tmp_path / "content")
    cli.env["BROADCASTER_CONTENT_DIR"] = str(tmp_path / "content")
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", *example_campaigns(), "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", TAY_NINH, "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", TAY_NINH, "--as", "minh").exit_code == 0
    alert = tmp_path / "alert.xml"
    assert cli("cap", "export", TAY_NINH, "-o", alert).exit_code == 0
    run = cli("cap", "import", alert, "--issuer", "tay-ninh-stttt", "--slug", "tu-cap", "--as", "lan")
    assert run.exit_code == 0, run.output
    assert "added campaign 'tu-cap' (draft) from CAP alert 127.0.0.1.canh-bao-goi-gia-danh-lan-2.1" in run.stdout
    # The 2024 alert's time is past: the draft is made, and the import says it will send nothing.
    assert "warning: valid: the validity window ended on 2024-06-14, before today: nothing will be sent" in run.stderr
    assert cli("campaign", "submit", "tu-cap", "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", "tu-cap", "--as", "minh").exit_code == 0
    audit = cli("audit", "tu-cap")
    assert "import" in audit.stdout
    bad = tmp_path / "bad.xml"
    bad.write_bytes(alert.read_bytes().replace(b"<msgType>Alert</msgType>", b"<msgType>Warning</msgType>"))
    refused = cli("cap", "import", bad, "--as", "lan")
    assert refused.exit_code == 1
    assert "bad.xml has 1 problem" in refused.stderr
    assert "line 7: Element 'msgType': [facet 'enumeration'] The value 'Warning'" in refused.stderr


def test_an_alert_giving_one_warning_twice_for_two_area_codes_imports_as_one_and_says_so(
    cli: Cli, tmp_path: Path
) -> None:
    """The NSW Rural Fire Service alert gives its en-AU <info> twice, the same but for its area's code (the state
    in one, the postcode in the other): one <info> with both areas, and a warning naming the line joined."""
    shutil.copytree(CONTENT, tmp_path / "content")
    cli.env["BROADCASTER_CONTENT_DIR"] = str(tmp_path / "content")
    import_shipped_with_cli(cli)
    alert = FOREIGN / "nsw-rfs-yerong-creek-2011.xml"
    run = cli("cap", "import", alert, "--issuer", "tay-ninh-stttt", "--slug", "yerong-creek", "--as", "lan")
    assert run.exit_code == 0, run.output
    assert (
        "nsw-rfs-yerong-creek-2011.xml: line 84: this <info> in 'en-AU' says what an earlier one says but "
        "for its areas; the two are kept as one, with the areas of both" in " ".join(run.stderr.split())
    )
    assert cli("campaign", "submit", "yerong-creek", "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", "yerong-creek", "--as", "minh").exit_code == 0
    exported = tmp_path / "again.xml"
    assert cli("cap", "export", "yerong-creek", "-o", exported).exit_code == 0
    [info] = etree.parse(exported).getroot().findall("cap:info", NS)
    assert [
        (area.findtext("cap:areaDesc", namespaces=NS), area.findtext("cap:geocode/cap:value", namespaces=NS))
        for area in info.findall("cap:area", NS)
    ] == [("Yerong Creek Structure Fire", "AU-NSW"), ("Yerong Creek Structure Fire", "2642")]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd"><!ENTITY lol "lol">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&secret;&lol;</identifier></alert>
"""


def test_a_document_with_a_document_type_is_refused_by_check_and_import(cli: Cli, tmp_path: Path) -> None:
    alert = tmp_path / "xxe.xml"
    alert.write_bytes(XXE)
    import_shipped_with_cli(cli)
    for command in (("cap", "check", alert), ("cap", "import", alert, "--as", "lan")):
        run = cli(*command)
        assert run.exit_code == 1 and "Traceback" not in run.output
        assert "the document declares a document type (<!DOCTYPE …>), which a CAP alert never has" in run.stderr
        assert "root:" not in run.output


def test_two_info_blocks_of_one_language_are_refused_naming_their_lines(
    shipped: sessionmaker[Session], own_content: Settings
) -> None:
    load_all(shipped, own_content)
    document = exported(shipped, own_content, TAY_NINH)
    root = etree.fromstring(document)
    english = root.findall("cap:info", NS)[1]
    english.find("cap:language", NS).text = "vi-VN"  # type: ignore[union-attr]
    for number in range(998):
        copy = etree.fromstring(etree.tostring(english))
        copy.find("cap:headline", NS).text = f"Version {number}"  # type: ignore[union-attr]
        root.append(copy)
    with pytest.raises(InvalidInput) as refused:
        parse_alert(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), "alert.xml")
    [problem] = refused.value.problems
    assert problem.message.startswith("the alert has 1000 different <info> blocks in language 'vi' (lines ")
    assert problem.message.endswith(", …); CAP gives one per language")


FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "cap"


def info_details(document: bytes) -> list[dict[str, Any]]:
    """What each <info> says, beyond its times and its response (which the campaign's priority decides)."""

    def texts(info: etree._Element, path: str) -> list[str]:
        return [" ".join((found.text or "").split()) for found in info.findall(path, NS)]

    details = []
    for info in etree.fromstring(document).findall("cap:info", NS):
        details.append(
            {
                name: texts(info, f"cap:{name}")
                for name in (
                    "language",
                    "category",
                    "event",
                    "audience",
                    "senderName",
                    "headline",
                    "description",
                    "web",
                )
            }
            | {
                "instruction": [said for said in texts(info, "cap:instruction") if said],  # <instruction/> says nothing
                "eventCode": list(
                    zip(texts(info, "cap:eventCode/cap:valueName"), texts(info, "cap:eventCode/cap:value"), strict=True)
                ),
                "resource": [
                    [texts(resource, f"cap:{name}") for name in ("resourceDesc", "mimeType", "size", "uri", "digest")]
                    for resource in info.findall("cap:resource", NS)
                ],
                "parameter": list(
                    zip(texts(info, "cap:parameter/cap:valueName"), texts(info, "cap:parameter/cap:value"), strict=True)
                ),
                "area": [
                    (
                        texts(area, "cap:areaDesc"),
                        texts(area, "cap:polygon"),
                        list(
                            zip(
                                texts(area, "cap:geocode/cap:valueName"),
                                texts(area, "cap:geocode/cap:value"),
                                strict=True,
                            )
                        ),
                    )
                    for area in info.findall("cap:area", NS)
                ],
            }
        )
    return details


def joined_by_language(infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The <info> blocks as one per language when they differ only in their areas, with the areas of each."""
    joined: dict[str, dict[str, Any]] = {}
    for info in infos:
        said = json.dumps({name: value for name, value in info.items() if name != "area"})
        if said in joined:
            joined[said]["area"] += [area for area in info["area"] if area not in joined[said]["area"]]
        else:
            joined[said] = info
    return list(joined.values())


@pytest.mark.parametrize(
    ("name", "locales"),
    [("nsw-rfs-yerong-creek-2011.xml", ["en-AU"]), ("eccc-snowfall-2013-signed.xml", ["en-CA", "fr-CA"])],
)
def test_a_foreign_alert_imports_as_a_draft_keeping_its_areas_languages_and_details(
    shipped: sessionmaker[Session], own_content: Settings, name: str, locales: list[str]
) -> None:
    """Areas that match none of ours are kept as text on the draft (not refused), languages keep their region,
    and every category, parameter, senderName and web comes back out in the alert exported again."""
    document = (FOREIGN / name).read_bytes()
    result = import_document(shipped, own_content, document, "tay-ninh-stttt")
    assert result.campaign.status == "draft"
    spec = result.campaign.spec
    assert spec["locales"] == locales
    assert sorted(spec["cap"]["infos"]) == sorted(locales)
    wanted = joined_by_language(info_details(document))
    for info in wanted:
        kept = spec["cap"]["infos"][info["language"][0]]["areas_outside"]
        assert [[" ".join(area["description"].split())] for area in kept] == [
            described for described, _, _ in info["area"]
        ]
    approve(shipped, own_content, result.slug)
    again = exported(shipped, own_content, result.slug)

    for ours, theirs in zip(
        info_details(again), wanted, strict=True
    ):  # besides the project's own letter number and date
        ours["parameter"] = [(n, v) for n, v in ours["parameter"] if n not in ("letterNumber", "letterDate")]
        assert ours == theirs
