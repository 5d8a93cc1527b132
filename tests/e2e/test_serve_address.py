"""`wolbot serve` on an address it cannot use (issue 18): one line naming the option or
variable, a non-zero exit, no traceback. Through the real command line."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.e2e.test_cli import wolbot


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def test_port_out_of_range_is_refused_like_the_variable(tmp_path: Path) -> None:
    result = wolbot("serve", "--port", "99999", cwd=tmp_path)
    assert result.returncode == 2
    assert "--port: not a port number '99999' (expected an integer from 1 to 65535" in one_line(
        result.stderr
    )
    env = wolbot("serve", cwd=tmp_path, env={"WOLBOT_PORT": "99999"})
    assert env.returncode == 2
    assert "WOLBOT_PORT: not a port number '99999'" in one_line(env.stderr)


def test_port_that_is_no_number(tmp_path: Path) -> None:
    result = wolbot("serve", "--port", "eighty", cwd=tmp_path)
    assert result.returncode == 2
    assert "--port: not a port number 'eighty'" in one_line(result.stderr)


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = wolbot("serve", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"wolbot: cannot listen on 127.0.0.1:{port}: port {port} is already in use "
        "(choose another port with --port or WOLBOT_PORT)"
    )


def test_host_that_does_not_resolve(tmp_path: Path) -> None:
    """`.invalid` never resolves (RFC 2606), so no lookup leaves the machine."""
    result = wolbot("serve", "--host", "no.such.host.invalid", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "wolbot: cannot listen on no.such.host.invalid:0: host 'no.such.host.invalid' "
        "cannot be resolved to an address (check --host or WOLBOT_HOST)"
    )
