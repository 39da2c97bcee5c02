"""Typed settings from the environment, optionally from a `.env` file.

Every variable is prefixed `BROADCASTER_`. Channel adapters read their own settings (and
secrets) through the same mechanism: see `channel_settings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broadcaster.errors import ConfigurationError

ENV_PREFIX = "BROADCASTER_"
_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """Folder of shipped data (`content` or `config`): inside the installed package, else the source tree."""
    installed = _PACKAGE_DIR / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///var/broadcaster.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    content_dir: Path = shipped_dir("content")
    output_dir: Path = Path("var/out")
    user: str | None = None
    # Syllables per second an announcer reads at; loudspeaker reading is slower than broadcast (DOMAIN §8).
    reading_rate: float = 3.5

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a known time zone (for example Asia/Ho_Chi_Minh)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def templates_dir(self) -> Path:
        return self.content_dir / "templates"


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_environment(env_file: str | os.PathLike[str] = ".env") -> None:
    """Read `.env` into the environment; variables already set win."""
    load_dotenv(env_file, override=False)


def build_settings(model: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build a settings object, turning validation errors into one sentence naming the variable."""
    try:
        return model(**overrides)
    except ValidationError as exc:
        prefix = str(model.model_config.get("env_prefix", ""))
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a check across settings: its message names the variables itself
            raise ConfigurationError(message) from None
        variable = prefix.upper() + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigurationError(f"setting {variable} is wrong: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    load_environment()
    return build_settings(Settings)


def channel_settings(model: type[SettingsT]) -> SettingsT:
    """Settings for one channel adapter (its own env prefix), read after `.env` is loaded."""
    load_environment()
    return build_settings(model)
