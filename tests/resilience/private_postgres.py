"""A private PostgreSQL cluster in a temporary directory, on a free port, that a test may
stop and restart (never the shared server on 5432)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(os.environ.get("WOLBOT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self, directory: Path, port: int, as_user: list[str]) -> None:
        self.directory, self.port, self._as = directory, port, as_user
        self.data = directory / "data"
        self.logfile = directory / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as, *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def initdb(self) -> None:
        done = self._run(
            str(BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")

    def pg_ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        done = self._run(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            *args,
        )
        if done.returncode != 0:
            log = self.logfile.read_text()[-2000:] if self.logfile.exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {done.stderr}\n{log}")

    def restart_command(self, mode: str) -> list[str]:
        """The `pg_ctl restart` command line, to run without blocking the event loop."""
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        return [
            *self._as,
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-m",
            mode,
            "restart",
        ]


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """Skipped (with the reason) where a cluster cannot be created: no PostgreSQL binaries,
    or root without a `postgres` user to run them as. Under CI=true, binaries that exist but
    fail are an error, not a skip."""
    if not (BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {BIN} (set WOLBOT_TEST_PG_BIN)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        runuser = shutil.which("runuser")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            runuser = None
        if runuser is None:
            pytest.skip("running as root without runuser/a postgres user: initdb refuses root")
        as_user = [runuser, "-u", "postgres", "--"]
    directory = Path(tempfile.mkdtemp(prefix="wolbot-pg-"))
    if as_user:
        shutil.chown(directory, "postgres")
    cluster = PrivatePostgres(directory, _free_port(), as_user)
    try:
        cluster.initdb()
        cluster.pg_ctl("start")
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        if os.environ.get("CI"):
            pytest.fail(f"private PostgreSQL cluster could not be started: {exc}")
        pytest.skip(f"private PostgreSQL cluster could not be started: {exc}")
    try:
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)
