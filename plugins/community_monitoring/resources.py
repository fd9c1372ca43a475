"""Files that ship with the package: the default rules file and the message templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2] / "include"


def default_rules_text() -> str:
    return (_ROOT / "config" / "monitoring.yaml").read_text(encoding="utf-8")


def template_loader() -> Any:
    import jinja2

    return jinja2.FileSystemLoader(str(_ROOT / "templates"))
