"""``toksmith serve``: options, and one-line errors before the server starts."""

from __future__ import annotations

import socket

import pytest

from toksmith.cli import build_parser, main
from toksmith.cli.serve import allowed_hosts, is_loopback


def test_serve_defaults_to_loopback_port_8765():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    assert args.corpus is None and args.tokenizers is None and args.results is None


def test_serve_with_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["serve", "--corpus", str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("toksmith: error: --corpus") and "not a folder" in error


def test_serve_on_a_taken_port_is_a_one_line_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "70000"])
def test_serve_refuses_impossible_ports(port, capsys):
    assert main(["serve", "--port", port]) == 2
    assert "--port" in capsys.readouterr().err


def test_only_wildcard_binds_accept_any_host_header():
    assert allowed_hosts("0.0.0.0") == ["*"]
    assert "*" not in allowed_hosts("127.0.0.1") and "localhost" in allowed_hosts("127.0.0.1")
    assert "myhost.lan" in allowed_hosts("myhost.lan")
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("192.168.1.4")
