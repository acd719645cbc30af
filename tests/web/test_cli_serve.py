"""``toksmith serve``: options, and one-line errors before the server starts."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from toksmith.cli import build_parser, main
from toksmith.cli.serve import allowed_hosts, is_loopback
from toksmith.web import WebRoots, create_app


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


def test_wildcard_bind_keeps_the_host_check_on():
    # 0.0.0.0 reaches the server from anywhere; a DNS-rebinding page still must not.
    for wildcard in ("0.0.0.0", "::"):
        hosts = allowed_hosts(wildcard)
        assert "*" not in hosts and wildcard not in hosts
        assert {"127.0.0.1", "localhost", "::1"} <= set(hosts)
    assert "*" not in allowed_hosts("127.0.0.1") and "localhost" in allowed_hosts("127.0.0.1")
    assert "myhost.lan" in allowed_hosts("myhost.lan")
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("192.168.1.4")


def test_allow_host_adds_the_names_the_user_gives():
    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--allow-host", "box.lan", "--allow-host", "10.0.0.5"]
    )
    assert args.allow_hosts == ["box.lan", "10.0.0.5"]
    hosts = allowed_hosts(args.host, args.allow_hosts)
    assert {"box.lan", "10.0.0.5", "localhost"} <= set(hosts) and "*" not in hosts
    assert allowed_hosts("0.0.0.0", ["*"]) == sorted({"*", "127.0.0.1", "localhost", "::1"})


def test_wildcard_bind_refuses_a_foreign_host_header_and_answers_an_allowed_one():
    app = create_app(WebRoots(), allowed_hosts=allowed_hosts("0.0.0.0", ["box.lan"]))
    with TestClient(app, base_url="http://evil.example:8765") as foreign:
        assert foreign.get("/api/health").status_code == 400
    with TestClient(app, base_url="http://box.lan:8765") as named:
        assert named.get("/api/health").status_code == 200
    with TestClient(app, base_url="http://127.0.0.1:8765") as local:
        assert local.get("/api/health").status_code == 200
