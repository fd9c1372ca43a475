"""Test-wide setup: a throwaway Airflow home, so no test touches a real one."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Airflow reads these when first imported, so they are set before any test imports it.
# Removed when the test process exits (each xdist worker has its own), so runs leave no homes in /tmp.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="cm-test-airflow-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT_ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

# Importing airflow configures logging (a dictConfig that replaces the root logger's handlers). Done
# here, before pytest installs its capture handlers, so that a test whose code first reaches
# Airflow (a connection lookup) still sees its own log records in ``caplog``.
import airflow  # noqa: E402, F401
