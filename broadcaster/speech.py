"""Draft audio of a radio script: a synthesized reading a station can listen to before it airs the text.

The engine is a backend found through the `broadcaster.speech` entry-point group, so a better offline
voice can be configured later; espeak-ng (a Debian package) is the one shipped. Audio is made once per
distinct text (the file is named by a hash of engine, voice, speed and text), within a time and size
bound, and a missing engine is a sentence, never an error that stops the text.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import wave
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar

from broadcaster.errors import ConfigurationError

ENTRY_POINT_GROUP = "broadcaster.speech"
# A compressed copy beside the WAV, by the first encoder installed: suffix → (program, its options).
ENCODERS = {"mp3": ("lame", ["--quiet", "-V", "6"]), "ogg": ("oggenc", ["--quiet", "-q", "3", "-o"])}


class SpeechFailed(Exception):
    """The engine could not read this text (timeout, crash, too long); the message says which."""


class SpeechBackend(ABC):
    """Turns text into a WAV file. `unavailable()` says why it cannot run here, or None when it can."""

    name: ClassVar[str]

    @abstractmethod
    def unavailable(self) -> str | None:
        """A sentence saying why this engine cannot run on this machine, or None."""

    @abstractmethod
    def voice(self, region: str) -> str:
        """The voice used for an issuer of this region ("south" or "north")."""

    @abstractmethod
    def synthesize(self, text: str, voice: str, syllables_per_second: float, wav: Path, timeout: float) -> None:
        """Write `text` read by `voice` at about `syllables_per_second` to `wav`; SpeechFailed when it cannot."""


class EspeakNg(SpeechBackend):
    """espeak-ng's Vietnamese voices: `vi-vn-x-south` for the South, `vi` (Northern) otherwise (DOMAIN §8)."""

    name = "espeak-ng"
    VOICES: ClassVar[dict[str, str]] = {"south": "vi-vn-x-south", "north": "vi"}
    # espeak-ng's speed is words a minute and it pauses at punctuation; Vietnamese is written a syllable per
    # word. Measured on the shipped scripts, 47 words a minute per syllable a second matches the stated reading
    # time within 3 % with the southern voice and 5 % with the northern one.
    WORDS_PER_MINUTE_PER_SYLLABLE_PER_SECOND = 47

    def unavailable(self) -> str | None:
        if shutil.which("espeak-ng") is None:
            return "audio is unavailable: espeak-ng is not installed (Debian package espeak-ng)"
        return None

    def voice(self, region: str) -> str:
        return self.VOICES.get(region, "vi")

    def synthesize(self, text: str, voice: str, syllables_per_second: float, wav: Path, timeout: float) -> None:
        speed = round(syllables_per_second * self.WORDS_PER_MINUTE_PER_SYLLABLE_PER_SECOND)
        command = ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), "--stdin"]
        _run(command, timeout, text.encode("utf-8"))


def _run(command: list[str], timeout: float, stdin: bytes | None = None) -> None:
    try:
        subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        raise SpeechFailed(f"{command[0]} took longer than {timeout:g} seconds and was stopped") from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpeechFailed(f"{command[0]} failed: {detail[-1] if detail else f'exit {exc.returncode}'}") from None
    except OSError as exc:
        raise SpeechFailed(f"{command[0]} could not be started: {exc.strerror}") from None


@lru_cache(maxsize=8)
def speech_backend(name: str) -> SpeechBackend:
    """The backend registered under `name` in the `broadcaster.speech` entry-point group."""
    found = [entry for entry in entry_points(group=ENTRY_POINT_GROUP) if entry.name == name]
    if not found:
        known = ", ".join(sorted(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)))
        raise ConfigurationError(f"speech engine '{name}' is not installed (known: {known or 'none'})")
    if len(found) > 1:
        raise ConfigurationError(f"speech engine '{name}' is declared twice: {found[0].value} and {found[1].value}")
    backend = found[0].load()
    if not (isinstance(backend, type) and issubclass(backend, SpeechBackend)):
        raise ConfigurationError(f"speech engine '{name}' ({found[0].value}) is not a SpeechBackend")
    return backend()


@dataclass(frozen=True)
class Audio:
    """One synthesized reading: the WAV, a compressed copy by its suffix, and its length."""

    wav: Path
    compressed: dict[str, Path]
    seconds: float


@dataclass(frozen=True)
class AudioMaker:
    """Makes the audio of a text once, into `cache` (files named by a hash), within time and size bounds."""

    backend: SpeechBackend
    cache: Path
    syllables_per_second: float
    timeout: float = 120.0
    max_bytes: int = 20_000_000  # about seven minutes of 22 kHz mono WAV
    max_characters: int = 20_000

    def key(self, text: str, region: str) -> str:
        voice = self.backend.voice(region)
        material = f"{self.backend.name}\0{voice}\0{self.syllables_per_second}\0{text}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    def audio(self, text: str, region: str) -> Audio:
        """The audio of `text`, made now or found from an earlier time; SpeechFailed with a sentence otherwise."""
        reason = self.backend.unavailable()
        if reason:
            raise SpeechFailed(reason)
        if len(text) > self.max_characters:
            raise SpeechFailed(f"the script is {len(text)} characters, over the {self.max_characters} read aloud")
        key = self.key(text, region)
        wav = self.cache / f"{key}.wav"
        if not wav.exists():
            self._make_wav(text, region, wav)
        return Audio(wav, self._compressed(wav), wav_seconds(wav))

    def _make_wav(self, text: str, region: str, wav: Path) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.cache, prefix=f".{wav.stem}.", suffix=".wav")
        os.close(handle)
        temporary = Path(name)
        try:
            voice = self.backend.voice(region)
            self.backend.synthesize(text, voice, self.syllables_per_second, temporary, self.timeout)
            size = temporary.stat().st_size
            if size > self.max_bytes:
                raise SpeechFailed(f"the audio is {size} bytes, over the limit of {self.max_bytes}")
            wav_seconds(temporary)  # a file that is not a WAV is a failure here, not in a station's player
            os.replace(temporary, wav)  # two workers making the same text write the same bytes
        finally:
            temporary.unlink(missing_ok=True)

    def _compressed(self, wav: Path) -> dict[str, Path]:
        """MP3 (lame) or else OGG (oggenc), where one is installed; none where neither is or it fails."""
        for suffix in ENCODERS:
            path = self._encode(wav, suffix)
            if path:
                return {suffix: path}
        return {}

    def _encode(self, wav: Path, suffix: str) -> Path | None:
        target = wav.with_suffix(f".{suffix}")
        program, arguments = ENCODERS[suffix]
        if target.exists():
            return target
        if shutil.which(program) is None:
            return None
        temporary = target.with_name(f".{target.name}.part")
        try:
            if program == "lame":
                _run([program, *arguments, str(wav), str(temporary)], self.timeout)
            else:
                _run([program, *arguments, str(temporary), str(wav)], self.timeout)
            os.replace(temporary, target)
        except SpeechFailed:
            return None
        finally:
            temporary.unlink(missing_ok=True)
        return target


def wav_seconds(path: Path) -> float:
    """The length of a WAV file in seconds; SpeechFailed when it is not one."""
    try:
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / audio.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError) as exc:
        raise SpeechFailed(f"the engine wrote no usable WAV ({exc})") from None
