"""Apply ``airflow_settings.yaml`` (Astro CLI format) to an Airflow metadata database.

Only the Astro CLI reads that file natively; this loader does the same for any Airflow:
``python -m community_devtools.settings_loader airflow_settings.yaml [--scenario DIR]``.
``${NAME}`` in values is replaced from the environment (``SANDBOX_URL`` and ``AIRFLOW_HOME``
have defaults), and a scenario's ``variables`` override the file's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"
_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


class SettingsError(ValueError):
    """``airflow_settings.yaml`` is malformed; the message names the entry."""


@dataclass
class AirflowSettings:
    connections: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    pools: list[dict[str, Any]] = field(default_factory=list)


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise SettingsError(f"${{{name}}} is used in airflow_settings.yaml but not set")
            return env[name]

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    return value


def settings_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SANDBOX_URL", DEFAULT_SANDBOX_URL)
    env.setdefault("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return env


def parse_settings(raw: Any, env: Mapping[str, str] | None = None) -> AirflowSettings:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("airflow"), Mapping):
        raise SettingsError("airflow_settings.yaml must have a top-level 'airflow:' mapping")
    section = _expand(raw["airflow"], env or settings_env())
    settings = AirflowSettings()
    for index, conn in enumerate(section.get("connections") or []):
        if not isinstance(conn, Mapping) or not conn.get("conn_id") or not conn.get("conn_type"):
            raise SettingsError(f"connections[{index}] needs conn_id and conn_type")
        settings.connections.append(dict(conn))
    for index, var in enumerate(section.get("variables") or []):
        if not isinstance(var, Mapping) or not var.get("variable_name"):
            raise SettingsError(f"variables[{index}] needs variable_name")
        value = var.get("variable_value")
        settings.variables[var["variable_name"]] = value if isinstance(value, str) else json.dumps(value)
    for index, pool in enumerate(section.get("pools") or []):
        if not isinstance(pool, Mapping) or not pool.get("pool_name"):
            raise SettingsError(f"pools[{index}] needs pool_name")
        slots = pool.get("pool_slot", 1)
        if not isinstance(slots, int) or slots < 1:
            raise SettingsError(
                f"pools[{index}] ({pool['pool_name']}): pool_slot must be a whole number >= 1"
            )
        settings.pools.append(dict(pool))
    return settings


def load_settings_file(path: Path, env: Mapping[str, str] | None = None) -> AirflowSettings:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path} not found") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from None
    try:
        return parse_settings(raw, env)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def scenario_variables(scenario_dir: Path) -> dict[str, str]:
    import yaml

    path = scenario_dir / "scenario.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SettingsError(f"{path} not found") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from None
    variables = raw.get("variables") or {}
    if not isinstance(variables, Mapping):
        raise SettingsError(f"{path}: 'variables' must be a mapping of Variable name to value")
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in variables.items()}


def apply_settings(settings: AirflowSettings) -> None:
    """Write connections, Variables and pools to the metadata DB (existing ones are replaced)."""
    from airflow.models import Connection, Variable
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        for conn in settings.connections:
            session.query(Connection).filter(Connection.conn_id == conn["conn_id"]).delete()
            extra = conn.get("conn_extra")
            session.add(
                Connection(
                    conn_id=conn["conn_id"],
                    conn_type=conn["conn_type"],
                    host=conn.get("conn_host"),
                    schema=conn.get("conn_schema"),
                    login=conn.get("conn_login"),
                    password=conn.get("conn_password"),
                    port=conn.get("conn_port"),
                    extra=json.dumps(extra) if isinstance(extra, Mapping) else extra,
                    description=conn.get("conn_description"),
                )
            )
    for name, value in settings.variables.items():
        Variable.set(name, value)
    for pool in settings.pools:
        Pool.create_or_update_pool(
            name=pool["pool_name"],
            slots=pool.get("pool_slot", 1),
            description=pool.get("pool_description", ""),
            include_deferred=False,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", type=Path, help="path to airflow_settings.yaml")
    parser.add_argument(
        "--scenario", type=Path, help="a sandbox scenario whose variables override the file's"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings_file(args.settings)
        if args.scenario:
            settings.variables.update(scenario_variables(args.scenario))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    apply_settings(settings)
    print(
        f"applied {len(settings.connections)} connections, {len(settings.variables)} variables, "
        f"{len(settings.pools)} pools from {args.settings}"
        + (f" (variables of {args.scenario})" if args.scenario else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
