"""Errors a user can cause. Each carries one sentence that says what is wrong and where."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment; shown as one sentence, never as a traceback."""


class ConfigurationError(UserError):
    """A setting is missing or wrong. The message names the setting (never its secret value)."""


class NotFound(UserError):
    """A named thing (campaign, issuer, station…) does not exist."""


class TransitionRefused(UserError):
    """A campaign status change that the lifecycle or the two-person rule does not allow."""
