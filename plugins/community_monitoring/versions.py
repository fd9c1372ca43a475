"""Release versions as the team compares them.

Jira writes ``v11.1`` where UserVoice says ``11.1``, and a release tagged ``v11.2.0`` is the
release the team calls ``11.2``: a leading ``v`` and trailing ``.0`` parts name the same release.
"""

from __future__ import annotations

import re

_VERSION_PREFIX = re.compile(r"^[vV](?=\d)")
_NUMERIC_VERSION = re.compile(r"^\d+(?:\.\d+)*$")

VersionNumbers = tuple[int, ...]


def normalise_version(value: str) -> str:
    """The version as written, surrounding space and a leading ``v`` before a digit dropped (to show)."""
    return _VERSION_PREFIX.sub("", value.strip())


def version_numbers(value: str) -> VersionNumbers | None:
    """``v11.2.0`` as ``(11, 2)``, to compare and order; ``None`` when the text is not a dotted number.

    Trailing zeros are dropped because the team writes ``11.2`` for the release tagged ``v11.2.0``.
    """
    text = normalise_version(value)
    if not _NUMERIC_VERSION.match(text):
        return None
    numbers = [int(part) for part in text.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def release_key(value: str) -> str:
    """The one text for every way of writing a release (``v11.2.0`` → ``11.2``), for keys and matching.

    At least major.minor (``11.0`` stays ``11.0``); a version that is not a dotted number is kept
    as written, without its leading ``v``.
    """
    numbers = version_numbers(value)
    if numbers is None:
        return normalise_version(value)
    return ".".join(str(n) for n in (numbers if len(numbers) > 1 else (*numbers, 0)))


def same_version(first: str, second: str) -> bool:
    """Whether two written versions name the same release: ``v11.2`` = ``11.2.0``, ``11.2`` ≠ ``11.2.1``."""
    return release_key(first) == release_key(second)


def version_pattern(value: str) -> str:
    """A regular expression for the release as it may be written in text: ``11.2``, ``11.2.0``, ``v11.2``.

    Not followed by another version part (``11.2`` is not ``11.2.1`` nor ``11.20``).
    """
    key = release_key(value)
    written = r"\.".join(re.escape(part) for part in key.split("."))
    zeros = r"(?:\.0)*" if version_numbers(value) is not None else ""
    return rf"\bv?{written}{zeros}(?![\w.]*\d)"


def spellings(value: str) -> tuple[str, ...]:
    """The ways a tracker names this release, for an exact-match search: ``11.1``, ``11.1.0`` and
    each with a leading ``v`` (``11.1.2`` has no shorter form; a name that is no dotted number is
    kept as written, with and without its ``v``)."""
    key = release_key(value)
    forms = [key]
    if version_numbers(value) is not None and key.count(".") == 1:
        forms.append(key + ".0")
    return tuple(dict.fromkeys(form for bare in forms for form in (bare, "v" + bare)))
