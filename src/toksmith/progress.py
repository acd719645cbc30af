"""The one progress-callback type every long-running feature accepts."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]
"""``progress(message, fraction)``: fraction in [0, 1], or negative when the total is unknown.

Features call it; only the CLI and the web page draw it.
"""
