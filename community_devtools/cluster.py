"""``make test-cluster``: the distributed configuration (SPEC §11), started on this machine, and its tests.

    python -m community_devtools.cluster [--keep] [-- PYTEST_ARGS...]

What it does, in order:

1. Installs what is missing: Debian's ``postgresql`` and ``redis-server`` (``apt-get install``,
   services not started by the package), and ``requirements-cluster.txt`` (moto's S3 server) into
   this venv.
2. Starts, each on a free loopback port, in one temporary folder: a Postgres cluster of its own
   (``initdb`` + ``postgres``, as the ``postgres`` user when run as root), with the databases
   ``airflow`` (metadata DB and Celery result backend), ``community_monitoring`` (the ledger) and
   ``ledger_tests`` (the ledger's and the state table's unit tests); ``redis-server`` (the Celery broker); moto's S3 server
   with the bucket ``community-monitoring`` (intermediates, archive and models).
3. Runs pytest on ``tests/cluster`` (real Airflow on CeleryExecutor: scheduler, dag-processor,
   api-server and two Celery workers, see ``tests/cluster/cluster_airflow.py``) and on
   ``tests/unit/test_ledger.py`` and ``tests/unit/test_state_table.py`` against this Postgres
   (``COMMUNITY_TEST_POSTGRES_URL``).
4. Stops everything it started and prints, per component, its pid, port, how it started and how it
   stopped (the Airflow components' records come from the tests, in ``components.json``).

The environment of the distributed configuration (``distributed_env``) is the one the README's
"Running on a distributed Airflow" section documents.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from community_devtools import PROJECT_ROOT
from community_devtools.local_airflow import free_port

BUCKET = "community-monitoring"
# Roles and databases of the Postgres cluster (loopback only; the passwords are the test's own).
METADATA_DB = ("airflow", "airflow-pass", "airflow")
LEDGER_DB = ("community", "community-pass", "community_monitoring")
LEDGER_TEST_DB = ("community", "community-pass", "ledger_tests")
S3_KEY, S3_SECRET, S3_REGION = "cluster-access-key", "cluster-secret-key", "us-east-1"
CLUSTER_INFO = "COMMUNITY_CLUSTER_INFO"
COMPONENTS_FILE = "components.json"
PYTEST_TARGETS = ("tests/cluster", "tests/unit/test_ledger.py", "tests/unit/test_state_table.py")


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the documented configuration -------------------------------------------------------------


def postgres_url(port: int, role: tuple[str, str, str], driver: str = "postgresql+psycopg2") -> str:
    user, password, database = role
    return f"{driver}://{user}:{password}@127.0.0.1:{port}/{database}"


def distributed_env(
    pg_port: int, redis_port: int, s3_port: int, *, bucket: str = BUCKET, workers_concurrency: int = 3
) -> dict[str, str]:
    """Every setting of the distributed configuration, as environment variables (README section).

    The same for every component (scheduler, dag-processor, api-server, workers); secrets here are
    the test's own and come from a secrets backend in a deployment.
    """
    metadata = postgres_url(pg_port, METADATA_DB)
    aws = {
        "conn_type": "aws",
        "login": S3_KEY,
        "password": S3_SECRET,
        "extra": {"endpoint_url": f"http://127.0.0.1:{s3_port}", "region_name": S3_REGION},
    }
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres_url(pg_port, METADATA_DB, "postgresql"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(workers_concurrency),
        # Shared by every component: tokens the api-server issues to tasks must verify everywhere.
        "AIRFLOW__API_AUTH__JWT_SECRET": "cluster-test-jwt-secret-0123456789abcdef",
        "AIRFLOW__API__SECRET_KEY": "cluster-test-api-secret",
        "AIRFLOW__CORE__FERNET_KEY": "Q2x1c3RlclRlc3RGZXJuZXRLZXkwMTIzNDU2Nzg5YWI=",
        # The ledger (and the state table) on Postgres: connection community_monitoring_db.
        "AIRFLOW_CONN_COMMUNITY_MONITORING_DB": postgres_url(pg_port, LEDGER_DB, "postgresql"),
        # Intermediates, archive and models on S3 (ObjectStoragePath through the amazon provider).
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
    }


def storage_paths(bucket: str = BUCKET, conn_id: str = "aws_default") -> dict[str, str]:
    """``community_settings.paths`` for object storage: ``s3://<conn id>@<bucket>/<folder>``."""
    return {key: f"s3://{conn_id}@{bucket}/{key}" for key in ("intermediate", "archive", "models")}


# --- installing what is missing ----------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``postgres`` (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def passwordless_sudo() -> list[str] | None:
    """``["sudo", "-n"]`` when this user may run commands as root without a password, else None."""
    if not shutil.which("sudo"):
        return None
    allowed = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
    return ["sudo", "-n"] if allowed.returncode == 0 else None


def ensure_system_packages() -> None:
    missing = [] if postgres_bin() else ["postgresql"]
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not missing:
        log("postgresql and redis-server are installed")
        return
    root = os.geteuid() == 0
    as_root = [] if root else passwordless_sudo()
    if as_root is None:
        raise SystemExit(
            f"error: missing {' '.join(missing)}; install them: sudo apt-get install -y {' '.join(missing)}"
        )
    log(f"installing {' '.join(missing)} with apt-get (their services are not started) ...")
    policy = Path("/usr/sbin/policy-rc.d")
    # Through sudo the policy file cannot be written: the services may start, on their own ports.
    ours = root and not policy.exists()
    if ours:
        # Debian's way to keep a package's service from starting at install: this tool starts its own.
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([*as_root, "apt-get", "update", "-qq"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            [*as_root, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    finally:
        if ours:
            policy.unlink(missing_ok=True)


def ensure_python_packages() -> None:
    """The providers and the S3 emulator in this venv (``make test-cluster`` installs them first)."""
    from importlib.metadata import PackageNotFoundError, version

    wanted = (
        "apache-airflow-providers-celery",
        "apache-airflow-providers-postgres",
        "apache-airflow-providers-amazon",
        "s3fs",
        "psycopg2-binary",
        "redis",
        "moto",
    )
    missing = []
    for name in wanted:
        try:
            version(name)
        except PackageNotFoundError:
            missing.append(name)
    if missing:
        log(f"{', '.join(missing)} missing: installing requirements.txt and requirements-cluster.txt ...")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                "requirements.txt",
                "-r",
                "requirements-cluster.txt",
            ],
            cwd=PROJECT_ROOT,
            check=True,
        )


# --- the services --------------------------------------------------------------------------------


@dataclass
class Record:
    """One component: how it was started and how it ended (printed at the end)."""

    name: str
    pid: int | None
    port: int | None
    started: str
    stopped: str = "still running"

    def line(self) -> str:
        port = str(self.port) if self.port else "-"
        return f"  {self.name:<14} pid {self.pid or '-':<7} port {port:<6} started: {self.started}\n" + (
            f"  {'':<14} {'':<11} {'':<11} stopped: {self.stopped}"
        )


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    record: Record
    stop_signal: int = signal.SIGTERM
    stop_note: str = ""


def _wait(
    what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if ready():
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
            raise RuntimeError(f"{what} did not start (exit {proc.poll()}); {log_path}:\n{tail}")
        time.sleep(0.2)


@dataclass
class Services:
    """Postgres, Redis and the S3 emulator in ``workdir``; ``stop()`` ends each and records how."""

    workdir: Path
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    s3_port: int = field(default_factory=free_port)
    running: list[Service] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def start(self) -> Services:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_postgres()
        self.start_redis()
        self.start_s3()
        return self

    def _spawn(
        self, name: str, cmd: Sequence[str], port: int, how: str, user: str | None = None, **popen: Any
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("ab") as out:
            proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                **popen,
            )
        record = Record(name, proc.pid, port, how)
        self.records.append(record)
        self.running.append(Service(name, proc, record))
        return proc, log_path

    # Postgres --------------------------------------------------------------------------------

    def start_postgres(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("postgresql is not installed")
        root = self.workdir / "postgres"
        data, sockets = root / "data", root / "sockets"
        sockets.mkdir(parents=True, exist_ok=True)
        # Postgres refuses to run as root: the cluster belongs to the postgres user then.
        user = "postgres" if os.geteuid() == 0 else None
        if user:
            entry = pwd.getpwnam(user)
            self.workdir.chmod(0o755)
            for path in (root, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        who = f" as user {user}" if user else ""
        init = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            user=user,
            check=False,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stdout[-2000:]}{init.stderr[-2000:]}")
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sockets),
            "max_connections": "300",
            # A throwaway test cluster: durability off, speed on.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        cmd = [str(bindir / "postgres"), "-D", str(data), "-p", str(self.pg_port)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        how = f"{bindir / 'postgres'} -D {data}{who} (initdb, fsync off)"
        proc, log_path = self._spawn("postgres", cmd, self.pg_port, how, user=user)
        self.running[-1].stop_signal = signal.SIGINT
        self.running[-1].stop_note = " (fast shutdown)"
        _wait("postgres", lambda: self._pg_ready(), proc, log_path)
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            for role, password, database in (METADATA_DB, LEDGER_DB, LEDGER_TEST_DB):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE ROLE "{role}" LOGIN PASSWORD %s', (password,))
                cur.execute(f'CREATE DATABASE "{database}" OWNER "{role}"')
        admin.close()
        log(
            f"postgres on 127.0.0.1:{self.pg_port} (pid {proc.pid}); databases airflow, community_monitoring, ledger_tests"
        )

    def _pg_ready(self) -> bool:
        import psycopg2

        psycopg2.connect(
            host="127.0.0.1", port=self.pg_port, user="postgres", dbname="postgres", connect_timeout=2
        ).close()
        return True

    # Redis ---------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        folder = self.workdir / "redis"
        folder.mkdir(exist_ok=True)
        binary = shutil.which("redis-server") or "redis-server"
        cmd = [
            binary,
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--daemonize",
            "no",
        ]
        proc, log_path = self._spawn("redis", cmd, self.redis_port, f"{binary} (no persistence)")

        def ready() -> bool:
            import redis

            return bool(redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=2).ping())

        _wait("redis-server", ready, proc, log_path)
        log(f"redis on 127.0.0.1:{self.redis_port} (pid {proc.pid})")

    # S3 (moto) ------------------------------------------------------------------------------------

    def start_s3(self) -> None:
        cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.s3_port)]
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        proc, log_path = self._spawn("s3 (moto)", cmd, self.s3_port, "python -m moto.server", env=env)
        url = f"http://127.0.0.1:{self.s3_port}"

        def ready() -> bool:
            with urllib.request.urlopen(url + "/moto-api/", timeout=2) as answer:
                return bool(answer.status == 200)

        _wait("moto", ready, proc, log_path)
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
        )
        s3.create_bucket(Bucket=BUCKET)
        log(f"S3 (moto) on {url} (pid {proc.pid}); bucket {BUCKET}")

    # -----------------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "workdir": str(self.workdir),
            "pg_port": self.pg_port,
            "redis_port": self.redis_port,
            "s3_port": self.s3_port,
            "bucket": BUCKET,
            "env": distributed_env(self.pg_port, self.redis_port, self.s3_port),
            "paths": storage_paths(),
            "ledger_url": postgres_url(self.pg_port, LEDGER_DB),
            "ledger_test_url": postgres_url(self.pg_port, LEDGER_TEST_DB),
            "components_file": str(self.workdir / COMPONENTS_FILE),
        }

    def stop(self, grace: float = 20) -> None:
        for service in reversed(self.running):
            proc, record = service.proc, service.record
            if proc.poll() is not None:
                record.stopped = f"had exited by itself (exit code {proc.returncode})"
                continue
            began = time.monotonic()
            name = signal.Signals(service.stop_signal).name
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, service.stop_signal)
            try:
                proc.wait(grace)
                record.stopped = f"{name}{service.stop_note}: exited in {time.monotonic() - began:.1f} s (exit code {proc.returncode})"
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
                record.stopped = (
                    f"{name}: still running after {grace:.0f} s: SIGKILL (exit code {proc.returncode})"
                )
        self.running.clear()


def airflow_records(path: Path) -> list[Record]:
    if not path.exists():
        return []
    return [Record(**item) for item in json.loads(path.read_text())]


def save_records(path: Path, records: Sequence[Record]) -> None:
    """The Airflow components' records, written by the tests for the summary (appended)."""
    existing = airflow_records(path)
    path.write_text(json.dumps([asdict(r) for r in [*existing, *records]], indent=1))


def run_pytest(info_path: Path, info: Mapping[str, Any], extra: Sequence[str]) -> int:
    env = {
        **os.environ,
        CLUSTER_INFO: str(info_path),
        "COMMUNITY_TEST_POSTGRES_URL": info["ledger_test_url"],
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "pytest", *PYTEST_TARGETS, "-p", "no:cacheprovider", *extra]
    log("$ " + " ".join(["pytest", *cmd[3:]]))
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m community_devtools.cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs) even on success"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    began = time.monotonic()
    ensure_system_packages()
    ensure_python_packages()
    workdir = Path(tempfile.mkdtemp(prefix="cm-cluster-"))
    log(f"work folder {workdir}")
    services = Services(workdir)
    code = 1
    try:
        services.start()
        info = services.info()
        info_path = workdir / "cluster.json"
        info_path.write_text(json.dumps(info, indent=1))
        code = run_pytest(info_path, info, args.pytest_args)
    except Exception as error:  # a service that did not start: say which, then stop the others
        print(f"error: {error}", file=sys.stderr, flush=True)
    finally:
        services.stop()
        records = [*services.records, *airflow_records(workdir / COMPONENTS_FILE)]
        print("\nComponents (how each started and stopped):", flush=True)
        for record in records:
            print(record.line(), flush=True)
        still = [r.name for r in records if r.stopped == "still running"]
        if still:
            print(f"error: not stopped: {', '.join(still)}", file=sys.stderr)
            code = code or 1
    if code == 0 and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"Logs kept in {workdir}", flush=True)
    print(
        f"make test-cluster: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - began:.0f} s",
        flush=True,
    )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
