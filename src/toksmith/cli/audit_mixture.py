"""The ``toksmith audit mixture`` subcommand: data mixture inference (Hayase et al., 2024).

``toksmith.cli.audit`` calls :func:`register` with the ``audit`` subparsers. Parsing only: the
estimate comes from :func:`toksmith.audit.mixture.infer_mixture` and is rendered by
:func:`toksmith.report.mixture.render_mixture`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from toksmith.audit.mixture import (
    DEFAULT_MERGES,
    DEFAULT_REPLAYS,
    DEFAULT_SAMPLE_MB,
    MIN_CATEGORY_BYTES,
)
from toksmith.cli.common import (
    add_errors_option,
    add_format_option,
    add_output_option,
    add_tokenizer_option,
    check_output,
    float_in_range,
    int_in_range,
    load_tokenizers,
    progress_bar,
)
from toksmith.errors import UserError
from toksmith.report.mixture import FORMATS, render_mixture
from toksmith.report.output import emit
from toksmith.tokenizers import expand_specs

# More replays than this re-run BPE over every sample for no measurable gain (see README).
MAX_REPLAYS = 100
MAX_SAMPLE_MB = 10_000.0


def register(audit_subcommands: argparse._SubParsersAction) -> None:
    """Adds ``audit mixture``."""
    parser = audit_subcommands.add_parser(
        "mixture",
        help="estimate what a BPE tokenizer was trained on (data mixture inference)",
        description="Replay the merge list of a byte-level BPE tokenizer on a sample of each "
        "category and solve the linear program of Hayase et al. (2024), 'Data Mixture "
        "Inference: What do BPE Tokenizers Reveal about their Training Data?', for the share "
        "of each category in the tokenizer's training data.",
    )
    add_tokenizer_option(parser, default_all=False, required=True)
    parser.add_argument("--categories", required=True, metavar="DIR",
                        help="folder with one file or sub-folder of sample text per category "
                        f"(at least {MIN_CATEGORY_BYTES:,} bytes each)")  # fmt: skip
    parser.add_argument("--merges", type=int_in_range(1), default=DEFAULT_MERGES, metavar="N",
                        help=f"number of first merges to use (default {DEFAULT_MERGES:,})")  # fmt: skip
    parser.add_argument("--sample-mb", type=float_in_range(0, MAX_SAMPLE_MB, low_open=True),
                        default=DEFAULT_SAMPLE_MB, metavar="X",
                        help=f"MB of text read per category (default {DEFAULT_SAMPLE_MB:g})")  # fmt: skip
    parser.add_argument("--replays", type=int_in_range(0, MAX_REPLAYS), default=DEFAULT_REPLAYS,
                        metavar="N",
                        help="replays looking for violated constraints the candidate pool "
                        f"missed (default {DEFAULT_REPLAYS}; more is slower and closer to the "
                        "exact LP)")  # fmt: skip
    add_format_option(parser, FORMATS)
    add_output_option(parser)
    add_errors_option(parser)
    parser.set_defaults(run=run_mixture)


def run_mixture(args: argparse.Namespace) -> int:
    from toksmith.audit.mixture import infer_mixture, read_categories
    from toksmith.audit.mixture_merges import merge_list

    specs = expand_specs(args.tokenizers or [])
    if len(specs) != 1:
        raise UserError(f"audit mixture estimates one tokenizer: give exactly one -t SPEC "
                        f"(got {len(specs)})")  # fmt: skip
    check_categories_folder(args.categories)
    check_output(args.output, [args.categories])
    (tokenizer,) = load_tokenizers(specs, args.special)
    merge_list(tokenizer, 1)  # refuse a tokenizer without merges before reading any text
    categories = read_categories(args.categories, sample_mb=args.sample_mb, errors=args.errors)
    with progress_bar("mixture") as update:
        estimate = infer_mixture(
            tokenizer, categories, max_merges=args.merges, replays=args.replays, progress=update
        )
    emit(render_mixture(estimate, args.format), args.output)
    return 0


def check_categories_folder(folder: str) -> None:
    """The --categories folder exists (checked before any tokenizer is loaded)."""
    if not Path(folder).expanduser().is_dir():
        raise UserError(f"--categories {folder}: expected a folder with one file or folder "
                        "per category")  # fmt: skip
