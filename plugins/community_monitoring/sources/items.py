"""Typed checks of single upstream items: a bad item is skipped and named, never a crash or a loss.

Each source declares pydantic models of the fields its normalisers and the rules read (ids,
created times, the author's shape, labels...). :class:`ItemChecker` validates every item against
its model; an item that fails is skipped and recorded as an
:class:`~community_monitoring.sources.ItemProblem` (channel, item id or URL, what was wrong) in the
``problems`` list of the channel's ``Fetched``, so one bad item never drops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError

from community_monitoring.sources import ItemProblem
from community_monitoring.sources.http import validation_summary
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)


M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def _iso_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("not an ISO-8601 time")
    return parse_time(value)


def _unix_time(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a UNIX time in seconds")
    return parse_time(value)


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]
UnixTime = Annotated[datetime, BeforeValidator(_unix_time)]
# Every API's ids are 64-bit integers. JSON numbers and Python's ints are unbounded: an id of 300
# digits became a 300-character source_id that Postgres refused (VARCHAR(256)), failing the whole
# day's snapshot. Past 64 bits an id is an item error, named.
Id = Annotated[int, Strict(), Field(gt=-(2**63), lt=2**63)]


class Item(BaseModel):
    """An upstream object: the fields the product reads are checked, the others ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def field_of(raw: Any, *path: str) -> Any:
    """A nested value of a raw item, or None (for naming an item that failed its checks)."""
    value = raw
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def id_text(value: Any) -> str:
    """A raw item's numeric id as text (a post's ``source_id``), or "" when it is no number."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


def time_of(raw: Any, key: str) -> datetime | None:
    """A raw item's time field, or None when it is missing or unreadable (the checks name that)."""
    value = field_of(raw, key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_time(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class ItemChecker:
    """Validates one channel's items; the ones that fail are skipped and named in ``problems``."""

    def __init__(self, channel: str, problems: list[ItemProblem] | None = None) -> None:
        self.channel = channel
        self.problems: list[ItemProblem] = [] if problems is None else problems

    def report(self, item: str, problem: str, post_id: str = "") -> None:
        """Name ``item`` and what was wrong; ``post_id``: the post it leaves out (see ``ItemProblem``)."""
        found = ItemProblem(self.channel, item, problem, post_id)
        if found not in self.problems:  # the same item may be met twice (a forum topic's first post)
            self.problems.append(found)
            log.warning("%s: skipped %s: %s", self.channel, item, problem)

    def check(self, model: type[M], raw: Any, item: str, post_id: str = "") -> M | None:
        """The item as ``model``, or None after recording what was wrong with it."""
        if not isinstance(raw, dict):
            self.report(item, f"not an object but {type(raw).__name__}", post_id)
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            self.report(item, validation_summary(exc), post_id)
            return None

    def build(self, item: str, make: Callable[..., R], *args: Any, post_id: str = "") -> R | None:
        """``make(*args)`` (a normaliser), or None after recording why it could not be built."""
        try:
            return make(*args)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.report(item, f"could not be read: {type(exc).__name__}: {exc}"[:300], post_id)
            return None
