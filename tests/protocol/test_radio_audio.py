"""Draft audio of radio scripts with the real espeak-ng: once per distinct text, bounded, never in the way
of the text, and as long as the reading time the script states (DOMAIN §8)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from broadcaster.speech import AudioMaker, EspeakNg, SpeechFailed, speech_backend, wav_seconds
from channels.base import Outcome, RecipientKind, StationFacts
from channels.radio import RadioChannel, RadioOptions
from tests.helpers import bulletin

SCRIPT = (
    "ĐÀI TRUYỀN THANH XÃ GÒ DẦU\nChương trình buổi sáng 05:30 ngày 15/5/2024\n\n"
    "Kính thưa quý vị và bà con!\n\nXin nhắc lại: số điện thoại là không hai bảy sáu, ba sáu ba, một một sáu tám.\n"
)

pytestmark = pytest.mark.usefixtures("espeak_ng")


def script(address: str, folder: str, text: str = SCRIPT) -> Any:
    return bulletin(
        f"occ-9:radio:{address}",
        RecipientKind.STATION,
        address,
        name=address,
        text=text,
        facts=StationFacts(folder=folder),
    )


def manifest_of(folder: Path) -> list[dict[str, Any]]:
    return list(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["scripts"])


def test_the_voices_chosen_by_region_are_espeak_ngs_own() -> None:
    listed = subprocess.run(["espeak-ng", "--voices=vi"], capture_output=True, text=True, check=True).stdout
    names = {line.split()[1] for line in listed.splitlines()[1:]}
    assert EspeakNg().voice("south") == "vi-vn-x-south" and "vi-vn-x-south" in names
    assert EspeakNg().voice("north") == "vi" and "vi" in names


def test_the_engine_is_found_by_its_entry_point_and_an_unknown_one_is_named() -> None:
    assert isinstance(speech_backend("espeak-ng"), EspeakNg)
    with pytest.raises(Exception, match="speech engine 'festival' is not installed"):
        speech_backend("festival")


def test_each_station_gets_the_audio_beside_its_script_made_once_for_the_same_text(tmp_path: Path) -> None:
    radio = RadioChannel(RadioOptions(root=tmp_path), output_dir=tmp_path)
    results = radio.send([script("dtt-a", "a"), script("dtt-b", "b")])

    assert [result.outcome for result in results] == [Outcome.SENT, Outcome.SENT]
    made = sorted(path.name for path in (tmp_path / ".audio").glob("*.wav"))
    assert len(made) == 1, "one reading for one distinct text"
    for station in ("a", "b"):
        entry = manifest_of(tmp_path / station)[0]
        wav = tmp_path / station / entry["audio"]["wav"]
        assert wav.stat().st_ino == (tmp_path / ".audio" / made[0]).stat().st_ino  # linked, not made again
        assert entry["audio"]["seconds"] == round(wav_seconds(wav), 1) > 3
        if shutil.which("lame"):
            head = (tmp_path / station / entry["audio"]["mp3"]).read_bytes()[:2]
            assert head[0] == 0xFF and head[1] & 0xE0 == 0xE0, "an MPEG audio frame"


def test_another_text_or_region_is_another_reading(tmp_path: Path) -> None:
    maker = AudioMaker(EspeakNg(), tmp_path, 3.5)
    south = maker.audio("Kính thưa bà con", "south")
    assert maker.audio("Kính thưa bà con", "south").wav == south.wav
    assert maker.audio("Kính thưa bà con", "north").wav != south.wav
    assert maker.audio("Xin nhắc lại", "south").wav != south.wav


def test_an_engine_that_takes_too_long_is_stopped_and_the_text_still_goes(tmp_path: Path) -> None:
    radio = RadioChannel(RadioOptions(root=tmp_path, audio_seconds=0.001), output_dir=tmp_path)
    result = radio.send([script("dtt-a", "a", text=SCRIPT * 40)])[0]

    assert result.outcome == Outcome.SENT
    entry = manifest_of(tmp_path / "a")[0]
    assert (tmp_path / "a" / entry["file"]).read_text(encoding="utf-8") == SCRIPT * 40
    assert entry["audio"] is None
    assert entry["audio_problem"] == "espeak-ng took longer than 0.001 seconds and was stopped"
    assert not list((tmp_path / ".audio").glob("*.wav"))


def test_a_reading_over_the_size_limit_is_dropped(tmp_path: Path) -> None:
    with pytest.raises(SpeechFailed, match=r"the audio is \d+ bytes, over the limit of 1000"):
        AudioMaker(EspeakNg(), tmp_path, 3.5, max_bytes=1000).audio("Kính thưa quý vị và bà con", "south")
    assert list(tmp_path.iterdir()) == []


def test_without_espeak_ng_the_manifest_says_audio_is_unavailable_and_the_text_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    result = RadioChannel(RadioOptions(root=tmp_path), output_dir=tmp_path).send([script("dtt-a", "a")])[0]

    assert result.outcome == Outcome.SENT
    entry = manifest_of(tmp_path / "a")[0]
    assert (tmp_path / "a" / entry["file"]).exists()
    assert entry["audio"] is None
    assert entry["audio_problem"] == "audio is unavailable: espeak-ng is not installed (Debian package espeak-ng)"
