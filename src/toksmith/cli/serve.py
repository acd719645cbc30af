"""``toksmith serve``: the local web page (playground, compare view, results)."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from toksmith.cli.common import int_in_range
from toksmith.errors import UserError

LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1"]
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "serve",
        help="open the local web page: tokenize, compare, view results",
        description="Serve the toksmith web page and its JSON API (documented at /openapi.json). "
        "Requests can only read the built-in tokenizers and files under the folders given here.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument(
        "--port", type=int_in_range(1, 65535), default=8765, help="port (default: 8765)"
    )
    parser.add_argument(
        "--allow-host",
        dest="allow_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host header to answer besides the loopback names and the bound address, e.g. "
        "the machine's name or IP when binding 0.0.0.0 ('*.example.org' for subdomains, '*' "
        "for any: no DNS-rebinding protection); repeat for several",
    )
    parser.add_argument("--corpus", metavar="DIR", help="folder of corpora to offer in Compare")
    parser.add_argument(
        "--tokenizers", metavar="DIR", help="folder of tokenizer files to offer besides built-ins"
    )
    parser.add_argument(
        "--results", metavar="DIR", help="folder of JSON results to show (read-only)"
    )
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    parser.set_defaults(run=run_serve)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, extra: list[str] | None = None) -> list[str]:
    """Host headers the server answers: the loopback names, the bound address (unless it is a
    wildcard such as 0.0.0.0) and the names the user allowed with ``--allow-host``.

    A wildcard bind keeps the check on: a page on another site that rebinds its DNS name to
    this machine must not reach the API, so other names are answered only when named."""
    names = set(LOOPBACK_NAMES)
    bound = host.strip("[]")
    if bound not in WILDCARD_BINDS:
        names.add(bound)
    names.update(name.strip() for name in extra or [] if name.strip())
    return sorted(names)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from toksmith.web import WebRoots, create_app

    roots = WebRoots.of(args.corpus, args.tokenizers, args.results)
    check_can_listen(args.host, args.port)
    hosts = allowed_hosts(args.host, args.allow_hosts)
    app = create_app(roots, allowed_hosts=hosts)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown_host}:{args.port}/"
    print(f"toksmith: serving {url} (Ctrl+C to stop)", file=sys.stderr)
    if not is_loopback(args.host):
        print(
            f"toksmith: warning: --host {args.host} is reachable from other machines and the "
            "page has no login",
            file=sys.stderr,
        )
        if "*" not in hosts:
            print(
                f"toksmith: answering only the Host names {', '.join(hosts)}; add "
                "--allow-host NAME for the name or address other machines use",
                file=sys.stderr,
            )
    if args.open:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def check_can_listen(host: str, port: int) -> None:
    """Fail with one line when the address is taken (uvicorn would log and exit instead)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UserError(f"--host {host}: not an address this machine can bind") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port}: {error.strerror}") from None
