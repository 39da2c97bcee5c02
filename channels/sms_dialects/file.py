"""The embedded default: each message appended as one JSON line to a file per day."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from channels.base import Limits, Outcome, Result
from channels.sms_dialects.base import Dialect, SmsMessage


class FileDialect(Dialect):
    name = "file"
    limits = Limits(max_batch=500, idempotency_key=False, rate_per_second=10_000.0, links_allowed=False)

    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        folder = self.output_dir / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.clock.now():%Y-%m-%d}.jsonl"
        lines = "".join(
            json.dumps({"key": m.key, "to": m.phone, "text": m.text, "unicode": m.unicode}, ensure_ascii=False) + "\n"
            for m in messages
        )
        # One write of the whole batch to an O_APPEND file: lines of concurrent workers never interleave.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(handle, lines.encode("utf-8"))
            os.fsync(handle)
        finally:
            os.close(handle)
        return [Result(m.key, Outcome.SENT, provider_id=f"{path.name}") for m in messages]
