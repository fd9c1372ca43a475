"""Errors that cross layers: what a failed write means for whether it may be sent again."""

from __future__ import annotations


class SettingsError(ValueError):
    """The rules file or a settings Variable is invalid; the message names the source and key.

    Here rather than in ``settings.py``: the task layer catches it, and importing the settings
    models (about thirty pydantic classes) is work a DAG file's parse should not pay for."""


class AmbiguousWrite(Exception):
    """A write was sent and the upstream may have processed it (a timeout or reset after sending,
    a 5xx): resending could make it twice. Raised by the clients; the ledger decides what next."""


class UncertainDelivery(RuntimeError):
    """A write that may or may not have arrived and cannot be read back (a webhook post): it is
    recorded as ``uncertain`` and never re-sent by itself; the run fails and the alert names it."""


class ClaimHeld(RuntimeError):
    """Another worker holds the claim on this write and may be sending it right now: try later."""


class WritesFailed(RuntimeError):
    """Some writes of a list failed, each named; the others were made. A retry makes only the
    failed ones: the ledger remembers the rest."""
