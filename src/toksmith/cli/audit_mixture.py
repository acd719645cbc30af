"""The ``toksmith audit mixture`` subcommand (owned by the mixture feature).

This module is a hook: ``toksmith.cli.audit`` calls :func:`register` with the ``audit``
subparsers. The mixture feature fills in its body; until then it adds nothing.
"""

from __future__ import annotations

import argparse


def register(audit_subcommands: argparse._SubParsersAction) -> None:
    """Adds 'audit mixture' (owned by the mixture helper).

    Filled in by the mixture feature; until then it deliberately adds no subcommand.
    """
