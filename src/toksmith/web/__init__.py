"""The local web page of toksmith (``toksmith serve``): playground, compare view, results."""

from toksmith.web.app import create_app
from toksmith.web.roots import WebRoots

__all__ = ["WebRoots", "create_app"]
