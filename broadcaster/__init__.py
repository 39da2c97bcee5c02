"""broadcaster: warning campaigns delivered on a timetable through pluggable channels."""

from __future__ import annotations

__version__ = "0.1.0"
