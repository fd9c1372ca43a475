"""Development tools that run from a checkout: ``make demo``, ``make bench`` and the settings loader.

Not part of what is deployed (outside the wheel and Airflow's plugins folder); they may use both
the product (``community_monitoring``) and the local API sandbox (``community_sandbox``).
"""

from __future__ import annotations

from pathlib import Path

# Dev tools live in the checkout, so the repository root is their parent folder.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
