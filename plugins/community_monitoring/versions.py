"""Release versions as the team compares them: Jira writes ``v11.1`` where UserVoice says ``11.1``."""

from __future__ import annotations

import re

_VERSION_PREFIX = re.compile(r"^[vV](?=\d)")


def normalise_version(value: str) -> str:
    """The comparable form of a version: surrounding space and a leading ``v`` before a digit dropped."""
    return _VERSION_PREFIX.sub("", value.strip())
