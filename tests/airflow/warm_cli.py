"""A warm ``airflow`` command line for the tests: Airflow is imported once, each command is a fork.

Every ``airflow dags test`` pays the same start-up before its first task: importing Airflow and its
CLI (about 5 s on the 2-core machine) and building the in-process execution API, whose routers
Cadwyn generates for every API version on the first request (about 6 s). The tests run some 70 of
them. This server pays that once per pytest worker: it imports Airflow, builds the execution API
and generates its routers, then, for each command it is sent, forks. The child takes the command's
environment, sends its output to the command's log file and runs Airflow's ``main`` as the
``airflow`` script would; the server answers with the exit code. A child starts from the server's
state, never from another command's, so commands stay as isolated as separate processes.

What Airflow reads once at import (its home, ``AIRFLOW__*`` settings, ``PYTHONPATH``) is the
server's: ``WarmAirflowCli.run`` sends a command whose environment differs in those to a plain
``airflow`` process instead. The warm-up is an optimisation only: if a later Airflow moves what it
touches, the server still forks, just colder.

Protocol (one JSON object per line): the client writes
``{"argv": [...], "env": {...}, "output": "<log path>", "timeout": <s>}``; the server answers
``{"returncode": <int>}`` (``-9`` when it killed a command that ran past its timeout).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import IO

# Read by Airflow or Python once, when the server starts: a command whose environment differs in
# one of these cannot be a fork of this server.
_FIXED_AT_IMPORT_PREFIXES = ("AIRFLOW__",)
_FIXED_AT_IMPORT_NAMES = ("AIRFLOW_HOME", "AIRFLOW_CONFIG", "PYTHONPATH", "PYTHONHASHSEED")


def fixed_at_import(env: dict[str, str]) -> dict[str, str]:
    return {
        k: v for k, v in env.items() if k.startswith(_FIXED_AT_IMPORT_PREFIXES) or k in _FIXED_AT_IMPORT_NAMES
    }


class WarmAirflowCli:
    """The client: one server process started with ``env``; ``run`` falls back to a fresh process."""

    def __init__(self, airflow: str, env: dict[str, str]) -> None:
        self._airflow = airflow
        self._env = dict(env)
        self._proc: subprocess.Popen[str] | None = None

    def _server(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, __file__],
                env=self._env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        return self._proc

    def run(self, argv: list[str], env: dict[str, str], output: Path, timeout: float) -> int:
        """Run ``airflow <argv>`` with ``env``, its stdout and stderr into ``output``; the exit code."""
        if fixed_at_import(env) != fixed_at_import(self._env):
            with output.open("w", encoding="utf-8") as log:
                try:
                    return subprocess.run(
                        [self._airflow, *argv], env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
                    ).returncode
                except subprocess.TimeoutExpired:
                    return -signal.SIGKILL
        server = self._server()
        assert server.stdin is not None
        assert server.stdout is not None
        request = {"argv": argv, "env": env, "output": str(output), "timeout": timeout}
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        answer = server.stdout.readline()
        if not answer:
            raise RuntimeError(f"the warm airflow server exited ({server.wait()}) running {argv}")
        return int(json.loads(answer)["returncode"])

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


# --- the server --------------------------------------------------------------------------------------


def _warm_up() -> None:
    """Import what every command imports and build the execution API's routers, touching no database
    and starting no thread (a fork copies neither)."""
    import airflow.__main__  # noqa: F401  (with airflow: configuration, settings, logging)
    from airflow.cli import cli_parser  # noqa: F401
    from airflow.cli.commands import dag_command  # noqa: F401

    try:
        from airflow.sdk.execution_time import task_runner  # noqa: F401
        from airflow.sdk.execution_time.supervisor import in_process_api_server

        app = in_process_api_server().app
        if not getattr(app, "_cadwyn_initialized", True):
            app._cadwyn_initialize()
    except (ImportError, AttributeError) as exc:  # an optimisation only
        print(f"warm airflow: execution API not warmed: {exc!r}", file=sys.stderr)


def _child(request: dict[str, object], answers: IO[str]) -> None:
    """In the fork: become the command, as the ``airflow`` script would run it."""
    os.setpgid(0, 0)
    os.close(answers.fileno())  # the server's answers are not the command's to hold open
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(str(request["output"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    argv = request["argv"]
    assert isinstance(argv, list)
    sys.argv = ["airflow", *argv]
    code = 1
    try:
        from airflow.__main__ import main

        main()
        code = 0
    except SystemExit as exc:
        # As the interpreter does at exit: a message instead of a code is printed, and exits 1.
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(code)


def _wait(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL
        time.sleep(0.05)


def serve(requests: IO[str], answers: IO[str]) -> None:
    _warm_up()
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request, answers)
        answers.write(json.dumps({"returncode": _wait(pid, float(request["timeout"]))}) + "\n")
        answers.flush()


if __name__ == "__main__":
    # The answers go to the real stdout; Airflow's own output in this process goes to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    serve(sys.stdin, answers)
