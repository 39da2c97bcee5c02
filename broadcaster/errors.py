"""Errors a user can cause, and configuration errors. Each carries one sentence that says what is wrong and where."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment; shown as one sentence, never as a traceback."""


class ConfigurationError(Exception):
    """A setting of this installation is missing or wrong. The message names the setting (never its secret value).

    Not a UserError: the person acting may have asked for something right that the installation cannot do, so
    no handler of a user's mistake may take it for one (and answer 400 or show it on a form). The command line
    and the web app have a handler of their own for it, which says it as one sentence all the same.
    """


class NotFound(UserError):
    """A named thing (campaign, issuer, station…) does not exist."""


class TransitionRefused(UserError):
    """A campaign status change that the lifecycle or the two-person rule does not allow."""


class AuthenticationFailed(UserError):
    """Who is acting could not be established: a wrong password, an unknown, disabled or revoked credential."""


class PermissionDenied(UserError):
    """The acting account lacks the permission an action needs; the message names the permission."""

    def __init__(self, message: str, permission: str | None = None):
        super().__init__(message)
        self.permission = permission


class TooManyAttempts(UserError):
    """Too many failed logins for an account or from an address; the caller must wait `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
