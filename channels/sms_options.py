"""The SMS channel's settings, apart from the channel: `sms.py` and every dialect read them, and the
dialects are imported by `sms.py`, so the settings live below both."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Each gateway dialect by name, with the settings it cannot send without. `sms.DIALECTS` holds a class
# for each of these names, and only these (a test holds the two together).
DIALECT_NEEDS: dict[str, tuple[str, ...]] = {
    "file": (),
    "esms": ("api_key", "secret_key", "brandname"),
    "speedsms": ("api_key",),
    "generic-json": ("url",),
}


class SmsOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADCASTER_SMS_", extra="ignore")

    dialect: str = "file"
    url: str | None = None
    api_key: SecretStr | None = None
    secret_key: SecretStr | None = None
    brandname: str | None = None
    sms_type: str | None = None
    sandbox: bool = False
    callback_url: str | None = None
    auth_header: str | None = "Authorization"
    batch_size: int | None = Field(None, ge=1, le=5000)
    timeout: float = 20.0
    connect_timeout: float = 5.0
    pool_size: int = 10

    @model_validator(mode="after")
    def _dialect_has_what_it_needs(self) -> SmsOptions:
        if self.dialect not in DIALECT_NEEDS:
            known = ", ".join(DIALECT_NEEDS)
            raise ValueError(f"BROADCASTER_SMS_DIALECT '{self.dialect}' is not a known gateway dialect ({known})")
        for field in DIALECT_NEEDS[self.dialect]:
            if getattr(self, field) in (None, ""):
                raise ValueError(f"BROADCASTER_SMS_{field.upper()} is not set (the {self.dialect} dialect needs it)")
        return self
