"""Campaign files: every problem of every file in one run, dates that get sentences, duplicate keys,
bounded YAML, warnings for what lies in the past, and one file per campaign in one `add`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.store import check_campaign_file
from broadcaster.settings import Settings
from broadcaster.yaml_files import MAX_BYTES
from tests.conftest import CONTENT, Cli, import_shipped_with_cli
from tests.helpers import ZONE

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"
BINH_PHUOC = CONTENT / "campaigns" / "canh-giac-goi-dien-moi-lam-viec.yaml"
DURING_THE_CAMPAIGN = datetime(2024, 5, 14, 7, 0, tzinfo=ZONE)


def written(tmp_path: Path, text: str, name: str = "campaign.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def tay_ninh_with(old: str, new: str) -> str:
    text = TAY_NINH.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


def problems_of(shipped: sessionmaker[Session], settings: Settings, path: Path) -> list[str]:
    with shipped() as session:
        checked = check_campaign_file(session, path, settings, DURING_THE_CAMPAIGN)
    return [str(problem) for problem in checked.problems]


def test_a_bad_cron_and_an_impossible_date_hide_no_directory_or_timetable_problem(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    text = tay_ninh_with("date: 2024-05-14", "date: 2024-02-30")
    text = text.replace('schedule: [{cron: "0 19 * * 1,4"}]', 'schedule: [{cron: "0 19 * * 8"}]')
    text = text.replace("to: [list:thue-bao-tay-ninh]", "to: [list:khong-co]")
    text = text.replace("schedule: [{at: 2024-05-14 08:00}]", "schedule: [{at: 2024-07-01 08:00}]")
    text = text.replace("slots: [morning, evening]", "slots: [morning, midnight]")
    found = problems_of(shipped, settings, written(tmp_path, text))
    assert found[0].startswith("date: '2024-02-30' is not a valid date or time")
    assert found[1].startswith("channels.facebook.schedule[0].cron: '0 19 * * 8' is not a valid cron expression")
    assert (
        "channels.email.schedule[0].at: 2024-07-01 08:00 is outside the validity window 2024-05-14 to 2024-06-14"
        in (found)
    )
    assert "channels.sms.to[0]: there is no subscriber list 'khong-co'" in found or any(
        p.startswith("channels.sms.to[0]: ") and "khong-co" in p for p in found
    )
    assert any(p.startswith("channels.radio.schedule[0].slots: station ") and "'midnight'" in p for p in found)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("date: 2024-05-14", "date: 2026-02-30", "date: '2026-02-30' is not a valid date or time"),
        ("until: 2024-06-14}", "until: 2026-11-31}", "valid.until: '2026-11-31' is not a valid date or time"),
        ("{from: 2024-05-14,", "{from: 0001-01-01,", "valid.from: 0001-01-01 is not a date a campaign can use"),
        ("until: 2024-06-14}", "until: 9999-12-31}", "valid.until: 9999-12-31 is not a date a campaign can use"),
        ("{at: 2024-05-15 09:00}", "{at: 9999-12-31 23:00}", "channels.sms.schedule[0].at: 9999-12-31 is not a date"),
        ("until: 2024-05-28}", "until: 2024-02-30}", "channels.radio.schedule[0].until: '2024-02-30' is not a valid"),
    ],
)
def test_an_impossible_or_far_off_date_gets_a_sentence_at_its_field(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    found = problems_of(shipped, settings, written(tmp_path, tay_ninh_with(old, new)))
    assert any(problem.startswith(expected) for problem in found), found


def test_validate_reports_every_file_and_fails_when_any_has_a_problem(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    first = written(tmp_path, tay_ninh_with("group:mttq", "group:khong-co"), "a.yaml")
    second = written(tmp_path, tay_ninh_with("priority: priority", "priority: urgent"), "b.yaml")
    run = cli("campaign", "validate", first, TAY_NINH, second)
    assert run.exit_code == 1
    assert "Traceback" not in run.output
    assert f"error: {first} has 1 problem:\n  - channels.email.to[1]: no agency is in group 'khong-co'" in run.stderr
    assert f"error: {second} has 1 problem:\n  - priority: should be" in run.stderr
    assert f"ok {TAY_NINH}: campaign 'canh-bao-goi-gia-danh-lan-2' is valid" in run.stdout


def test_a_key_written_twice_is_an_error_naming_both_lines(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    path = written(tmp_path, tay_ninh_with("priority: priority\n", "priority: ordinary\npriority: emergency\n"))
    run = cli("campaign", "validate", path)
    assert run.exit_code == 1
    assert f"  - {path} line 8: 'priority' is written twice in one mapping (first on line 7); keep one" in run.stderr


def test_two_files_of_one_campaign_in_one_add_load_nothing(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    copy = written(tmp_path, tay_ninh_with("number: 881/STTTT-TTr", "number: 882/STTTT-TTr"), "copy.yaml")
    run = cli("campaign", "add", TAY_NINH, BINH_PHUOC, copy, "--as", "lan")
    assert run.exit_code == 1
    assert (
        f"  - campaign: 'canh-bao-goi-gia-danh-lan-2' is also the campaign of {TAY_NINH}; load one file per campaign"
        in run.stderr
    )
    assert "nothing was loaded" in run.stderr
    assert "canh-giac" not in cli("campaign", "list").stdout


def test_a_campaign_file_over_the_size_limit_is_refused_unread(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = written(tmp_path, "# " + "x" * MAX_BYTES + "\n")
    assert problems_of(shipped, settings, path) == [f"{path}: is larger than 256 KB, more than any campaign file needs"]


def test_aliases_that_expand_past_the_limit_are_refused(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    layers = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[level]
        layers.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    path = written(tmp_path, "campaign: bom\nvariables:\n" + "\n".join(f"  {line}" for line in layers) + "\n")
    assert problems_of(shipped, settings, path) == [
        f"{path} line 7: expands to more than 20,000 values (through aliases?)"
    ]


def test_an_alias_inside_itself_and_deep_nesting_are_refused(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    looped = written(tmp_path, "campaign: x\nvariables: &v {self: *v}\n", "looped.yaml")
    assert problems_of(shipped, settings, looped) == [f"{looped} line 2: an alias refers to the value that contains it"]
    deep = written(tmp_path, "campaign: x\nvariables: " + "[" * 60 + "]" * 60 + "\n", "deep.yaml")
    assert problems_of(shipped, settings, deep) == [f"{deep} line 2: nests more than 50 levels deep"]
    deeper = written(tmp_path, "campaign: x\nvariables: " + "[" * 5000 + "]" * 5000 + "\n", "deeper.yaml")
    assert problems_of(shipped, settings, deeper) == [f"{deeper}: nests more than 50 levels deep"]


def test_a_campaign_in_the_past_is_valid_with_warnings(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    run = cli("campaign", "validate", TAY_NINH)
    assert run.exit_code == 0
    assert f"ok {TAY_NINH}" in run.stdout
    assert (
        f"warning: {TAY_NINH}: valid: the validity window ended on 2024-06-14, before today: nothing will be sent"
        in run.stderr
    )


def test_a_once_rule_already_past_within_a_running_window_is_a_warning(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    later = datetime(2024, 5, 20, 12, 0, tzinfo=ZONE)
    with shipped() as session:
        checked = check_campaign_file(session, TAY_NINH, settings, later)
    assert checked.problems == []
    assert [str(warning) for warning in checked.warnings] == [
        "channels.email.schedule[0].at: 2024-05-14 08:00 is already past: this rule sends nothing",
        "channels.sms.schedule[0].at: 2024-05-15 09:00 is already past: this rule sends nothing",
    ]


def test_a_control_character_in_a_campaign_file_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    from broadcaster.problems import InvalidInput
    from broadcaster.yaml_files import read_yaml

    path = tmp_path / "campaign.yaml"
    path.write_text("campaign: canh-bao\x01\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        read_yaml(path)
    assert "control character" in str(refused.value.problems[0].message)


def test_a_slot_named_twice_in_a_rule_is_a_problem_at_its_field(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    text = tay_ninh_with("slots: [morning, evening]", "slots: [morning, evening, morning]")
    found = problems_of(shipped, settings, written(tmp_path, text))
    assert any(
        problem.startswith("channels.radio.schedule[0].slots: ") and "'morning' is named twice" in problem
        for problem in found
    ), found


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            "subject: tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)",
            'subject: "cảnh báo\\r\\nBcc: attacker@evil.example"',
            "subject",
        ),
        ("number: 881/STTTT-TTr", 'number: "881/STTTT-TTr\\nReply-To: attacker@evil.example"', "number"),
    ],
    ids=["subject", "number"],
)
def test_a_line_break_in_a_text_that_becomes_a_header_is_refused_at_its_field(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, old: str, new: str, where: str
) -> None:
    found = problems_of(shipped, settings, written(tmp_path, tay_ninh_with(old, new)))
    assert any(problem.startswith(f"{where}: ") and "holds a line break" in problem for problem in found), found
