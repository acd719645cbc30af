"""``toksmith billing check|commit|verify|experiment``: is a bill honest?"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from toksmith.cli import common
from toksmith.cli.common import (
    add_command_group,
    add_errors_option,
    add_format_option,
    add_one_tokenizer_option,
    add_output_option,
    add_output_options,
    float_in_range,
    int_in_range,
)
from toksmith.errors import UserError
from toksmith.files import check_output_path
from toksmith.report.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    actions = add_command_group(
        subcommands,
        "billing",
        help="check a bill: canonical counts (Velasco et al.) and CoIn audits",
        description="Check what a bill counts: canonical token counts of a text, and CoIn "
        "commitments to hidden tokens, from the provider's and the auditor's side.",
    )

    check = actions.add_parser("check", help="a claimed count or id sequence vs the canonical")
    check.add_argument("--text", metavar="FILE", required=True, help="the billed text")
    claim = check.add_mutually_exclusive_group(required=True)
    claim.add_argument("--claimed", type=int_in_range(0), metavar="N", help="claimed tokens")
    claim.add_argument("--claimed-ids", metavar="FILE", help="JSON list of claimed token ids")
    add_one_tokenizer_option(check, default="o200k_base")
    add_errors_option(check)
    add_output_options(check)
    check.set_defaults(run=run_check)

    commit = actions.add_parser("commit", help="provider side: commit to a hidden trace (CoIn)")
    commit.add_argument(
        "--trace",
        metavar="FILE",
        required=True,
        help='hidden trace: JSONL of {"text": ...} or {"ids": [...]} per step',
    )
    commit.add_argument("--block-size", type=int_in_range(1, 4096), default=32, metavar="N",
                        help="tokens per Merkle leaf (default 32)")  # fmt: skip
    add_one_tokenizer_option(commit, default="o200k_base")
    add_output_option(commit, what="COMMITMENT", required=True)
    add_format_option(commit, ("table", "json"))
    commit.set_defaults(run=run_commit)

    verify = actions.add_parser("verify", help="auditor side: verify a commitment (CoIn)")
    verify.add_argument("--commitment", metavar="FILE", required=True,
                        help="the commitment JSON written by 'billing commit'")  # fmt: skip
    verify.add_argument(
        "--trace-server", metavar="TRACE", required=True,
        help="the provider's hidden trace file: the trace server is simulated in-process by a "
        "provider holding this trace, which answers the openings",
    )  # fmt: skip
    verify.add_argument("--prompt", metavar="FILE", required=True,
                        help="the prompt the hidden tokens answered (relevance check)")  # fmt: skip
    verify.add_argument("--answer", metavar="FILE", required=True,
                        help="the visible answer (relevance check)")  # fmt: skip
    verify.add_argument(
        "--claimed",
        type=int_in_range(0),
        metavar="N",
        help="hidden tokens on the bill (default: the commitment's count)",
    )
    verify.add_argument("--openings", type=int_in_range(1, 100_000), default=32, metavar="K",
                        help="blocks to open (default 32)")  # fmt: skip
    verify.add_argument(
        "--seed",
        type=int_in_range(0),
        default=None,
        help="seed of the auditor's draw (default: system randomness)",
    )
    verify.add_argument(
        "--floor",
        type=float_in_range(-1.0, 1.0),
        default=None,
        help="relevance below which an opened block counts against the bill (default 0.15, "
        "the floor the limits were calibrated with)",
    )
    verify.add_argument(
        "--limit",
        type=float_in_range(0.0),
        default=None,
        help="largest audit statistic accepted: shortfall below the floor plus the floor per "
        "repeated block (default: calibrated for the number of openings)",
    )
    add_one_tokenizer_option(verify, default="o200k_base")
    add_errors_option(verify)
    add_output_options(verify, ("table", "json"))
    verify.set_defaults(run=run_verify)

    experiment = actions.add_parser("experiment", help="CoIn detection rates on inflated traces")
    experiment.add_argument(
        "--inflation",
        default="0.05,0.1,0.2,0.5",
        metavar="RATES",
        help="comma-separated inflation rates (default 0.05,0.1,0.2,0.5)",
    )
    experiment.add_argument(
        "--n",
        type=int_in_range(4, 100_000),
        default=None,
        help="honest traces, one per module (half calibrate, half evaluate; default: every "
        "module with enough docstrings; FPR ≤ 1%% at 95%% confidence needs ≥ 597)",
    )
    experiment.add_argument("--kinds", default="duplicate,random,unrelated,python-source",
                            help="inflation kinds, comma-separated (default: all four)")  # fmt: skip
    experiment.add_argument("--openings", default="4,8,16,32,64", metavar="GRID",
                            help="numbers of opened blocks to evaluate (default 4,8,16,32,64)")  # fmt: skip
    experiment.add_argument("--trace-tokens", type=int_in_range(64, 1_000_000), default=1024,
                            help="hidden tokens per honest trace (default 1024)")  # fmt: skip
    experiment.add_argument("--block-size", type=int_in_range(1, 4096), default=32,
                            help="tokens per Merkle leaf (default 32)")  # fmt: skip
    experiment.add_argument("--udhr", metavar="FOLDER",
                            help="UDHR folder for the unrelated text (eng.*; default: Python's "
                            "licence text)")  # fmt: skip
    experiment.add_argument("--seed", type=int_in_range(0), default=0,
                            help="seed of trace building, inflation and sampling (default 0)")  # fmt: skip
    add_one_tokenizer_option(experiment, default="o200k_base")
    add_output_options(experiment)
    experiment.set_defaults(run=run_experiment)


def _read_text(path: str, errors: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors=errors)
    except FileNotFoundError:
        raise UserError(f"{what} file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{what} file {path}: invalid UTF-8 at byte {error.start} "
                        "(use --errors replace)") from None  # fmt: skip
    except OSError as error:
        raise UserError(f"cannot read {what} file {path}: {error.strerror}") from None


def _read_ids(path: str) -> list[int]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"claimed ids file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"claimed ids file {path}: not a JSON file ({error})") from None
    if not isinstance(data, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in data
    ):
        raise UserError(f"claimed ids file {path}: expected a JSON list of integer token ids")
    return data


def run_check(args: argparse.Namespace) -> int:
    from toksmith.accounting.check import check_bill
    from toksmith.report.accounting import render_check

    common.check_inputs(files=[args.text, args.claimed_ids])
    check_output_path(args.output, [args.text, args.claimed_ids])
    text = _read_text(args.text, args.errors, "text")
    ids = _read_ids(args.claimed_ids) if args.claimed_ids else None
    tokenizer = common.load_one_tokenizer(common.one_tokenizer_spec(args), args.special)
    result = check_bill(tokenizer, text, claimed_tokens=args.claimed, claimed_ids=ids)
    emit(render_check(result, args.format), args.output)
    return 0


def run_commit(args: argparse.Namespace) -> int:
    from toksmith.accounting.coin import CommitResult, TraceProvider, read_trace
    from toksmith.accounting.embed import minilm_static_embedder
    from toksmith.report.accounting import render_commit
    from toksmith.report.output import to_json

    common.check_inputs(files=[args.trace])
    check_output_path(args.output, [args.trace])
    tokenizer = common.load_one_tokenizer(common.one_tokenizer_spec(args), args.special)
    ids = read_trace(args.trace, tokenizer)
    start = time.perf_counter()
    provider = TraceProvider(ids, tokenizer, minilm_static_embedder(), block_size=args.block_size)
    commitment = provider.commit()
    elapsed = time.perf_counter() - start
    emit(to_json(commitment), args.output)
    if args.format == "json":
        print(to_json(CommitResult(commitment, elapsed)))
    else:
        print(render_commit(CommitResult(commitment, elapsed), "table"))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from toksmith.accounting import coin
    from toksmith.accounting.embed import minilm_sentence_embedder, minilm_static_embedder
    from toksmith.report.accounting import render_verify

    inputs = [args.commitment, args.trace_server, args.prompt, args.answer]
    common.check_inputs(files=inputs)
    check_output_path(args.output, inputs)
    commitment = coin.read_commitment(args.commitment)
    prompt = _read_text(args.prompt, args.errors, "prompt")
    answer = _read_text(args.answer, args.errors, "answer")
    tokenizer = common.load_one_tokenizer(common.one_tokenizer_spec(args), args.special)
    fingerprint = minilm_static_embedder()
    provider = coin.TraceProvider(
        coin.read_trace(args.trace_server, tokenizer),
        tokenizer,
        fingerprint,
        block_size=max(commitment.block_size, 1),
    )
    result = coin.verify(
        commitment, provider.open, tokenizer, prompt, answer,
        fingerprint_embed=fingerprint, relevance_embed=minilm_sentence_embedder(),
        openings=args.openings, seed=args.seed, claimed_tokens=args.claimed,
        floor=coin.RELEVANCE_FLOOR if args.floor is None else args.floor,
        limit=args.limit,
    )  # fmt: skip
    if result.failed_check is not None:
        raise UserError(f"commitment {args.commitment} {result.verdict}")
    emit(render_verify(result, args.format), args.output)
    return 0 if result.accepted else 1


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise UserError(f"{what} {text!r}: expected comma-separated numbers") from None
    if not values or any(not 0 < v <= 10 for v in values):
        raise UserError(f"{what} {text!r}: expected numbers above 0 and at most 10")
    return values


def _whole_numbers(text: str, what: str) -> list[int]:
    try:
        values = [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise UserError(f"{what} {text!r}: expected comma-separated whole numbers") from None
    if not values or any(v < 1 for v in values):
        raise UserError(f"{what} {text!r}: expected whole numbers of at least 1")
    return sorted(set(values))


def run_experiment(args: argparse.Namespace) -> int:
    from toksmith.accounting.embed import minilm_sentence_embedder
    from toksmith.accounting.experiment import run_experiment as experiment
    from toksmith.report.accounting import render_experiment

    rates = _floats(args.inflation, "--inflation")
    grid = _whole_numbers(args.openings, "--openings")
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    if args.udhr is not None:
        common.check_inputs(corpora=[args.udhr])
    check_output_path(args.output, [args.udhr])
    tokenizer = common.load_one_tokenizer(common.one_tokenizer_spec(args), args.special)
    with common.progress_bar("CoIn experiment") as update:
        result = experiment(
            tokenizer, minilm_sentence_embedder(), n=args.n, rates=rates, kinds=kinds,
            openings_grid=grid, block_size=args.block_size, trace_tokens=args.trace_tokens,
            udhr=args.udhr, seed=args.seed, progress=update,
            embedding_name="MiniLM (all-MiniLM-L6-v2)",
        )  # fmt: skip
    emit(render_experiment(result, args.format), args.output)
    return 0
