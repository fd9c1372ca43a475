"""Files shipped inside the package (the default rules file, the message templates).

They are read through ``importlib.resources``, so they are found wherever the package is
installed (a wheel, a zip, Airflow's plugins folder), never by walking up from a source file.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import BaseLoader

PACKAGE = "community_monitoring"
DEFAULT_RULES = "defaults/monitoring.yaml"
TEMPLATES = "templates"


def default_rules_text() -> str:
    """The bundled rules file, ``community_monitoring/defaults/monitoring.yaml``."""
    return files(PACKAGE).joinpath(DEFAULT_RULES).read_text(encoding="utf-8")


def template_loader() -> BaseLoader:
    """A Jinja2 loader for the bundled message templates, ``community_monitoring/templates/*.j2``."""
    import jinja2

    return jinja2.PackageLoader(PACKAGE, TEMPLATES)
