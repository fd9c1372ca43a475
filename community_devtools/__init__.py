"""Development tools that run from a checkout: ``make demo``, ``make bench`` and the settings loader.

Not part of what is deployed (outside the wheel and Airflow's plugins folder); they may use both
the product (``community_monitoring``) and the local API sandbox (``community_sandbox``).
"""

from __future__ import annotations

from pathlib import Path

# Dev tools live in the checkout, so the repository root is their parent folder.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# What every Airflow process a dev tool starts needs to run this project: our DAGs and plugins,
# and none of Airflow's example DAGs. Each tool adds its own home, PYTHONPATH and the rest.
PROJECT_AIRFLOW_CONFIG = {
    "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
}
