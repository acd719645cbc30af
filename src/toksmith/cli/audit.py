"""``toksmith audit``: vocab, coverage, morphology, numbers, chars (and mixture, see below).

Argument parsing and formatting only; every measure comes from ``toksmith.audit``. Each
subcommand prints a terminal report (rich tables) or, with ``--format json|md``, a JSON document
or Markdown tables, to stdout or ``-o FILE``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toksmith.errors import UserError
from toksmith.report.output import emit, write_atomic
from toksmith.tokenizers import Tokenizer, expand_specs, load_tokenizer


@dataclass
class Table:
    """A titled table of already-formatted cells; rendered with rich or as Markdown."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "audit",
        help="audit a vocabulary: problem tokens, coverage, morphology, numbers, characters",
        description="Audit tokenizer vocabularies. Each subcommand prints a report.",
    )
    audit_subcommands = parser.add_subparsers(dest="audit_command", metavar="AUDIT")
    parser.set_defaults(run=lambda args: _missing_subcommand(parser))
    _register_vocab(audit_subcommands)
    _register_coverage(audit_subcommands)
    _register_morphology(audit_subcommands)
    _register_numbers(audit_subcommands)
    _register_chars(audit_subcommands)

    # ---- hook: `audit mixture` is owned by the data-mixture feature -----------------------
    from toksmith.cli import audit_mixture

    audit_mixture.register(audit_subcommands)


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _common(parser: argparse.ArgumentParser, *, tokenizers: bool = True) -> None:
    if tokenizers:
        parser.add_argument(
            "-t",
            "--tokenizer",
            action="append",
            required=True,
            metavar="SPEC",
            help="built-in name, tokenizer file or folder, or 'all' (repeatable)",
        )
    parser.add_argument("--format", choices=("table", "json", "md"), default="table")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")


def _tokenizers(specs: Sequence[str]) -> list[Tokenizer]:
    return [load_tokenizer(spec) for spec in expand_specs(list(specs))]


def _comma_list(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _fmt(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _pct(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f}%"


def _json_number(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)


def _output(args: argparse.Namespace, tables: list[Table], document: dict) -> int:
    if args.format == "json":
        emit(json.dumps(document, ensure_ascii=False, indent=2), args.output)
    elif args.format == "md":
        emit(_markdown(tables), args.output)
    else:
        _print_rich(tables, args.output)
    return 0


def _markdown(tables: list[Table]) -> str:
    parts = []
    for table in tables:
        parts.append(f"### {table.title}\n")
        parts.append("| " + " | ".join(table.columns) + " |")
        parts.append("|" + "|".join("---" for _ in table.columns) + "|")
        for row in table.rows:
            cells = [cell.replace("|", "\\|") for cell in row]
            parts.append("| " + " | ".join(cells) + " |")
        if table.note:
            parts.append(f"\n{table.note}")
        parts.append("")
    return "\n".join(parts)


def _print_rich(tables: list[Table], output: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    buffer = io.StringIO() if output else None
    console = Console(file=buffer, width=140) if buffer is not None else Console()
    for table in tables:
        rich_table = RichTable(title=escape(table.title), title_justify="left")
        for column in table.columns:
            rich_table.add_column(escape(column), overflow="fold")
        for row in table.rows:
            rich_table.add_row(*(escape(cell) for cell in row))
        console.print(rich_table)
        if table.note:
            console.print(escape(table.note))
    if buffer is not None:
        write_atomic(output, buffer.getvalue())


# ---- audit vocab ------------------------------------------------------------------------------


def _register_vocab(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "vocab",
        help="problem tokens: unreachable, partial UTF-8, unused, duplicates, under-trained",
        description="Flag problem tokens of each tokenizer, by indicator. With --weights, add "
        "the under-trained indicator of 'Fishing for Magikarp' (2024) from a safetensors matrix.",
    )
    _common(parser)
    parser.add_argument("--corpus", help="also flag tokens never produced on this corpus")
    parser.add_argument("--weights", metavar="FILE", help="safetensors file of the model")
    parser.add_argument(
        "--embedding-key", metavar="NAME", help="tensor name of the (un)embedding matrix"
    )
    parser.add_argument(
        "--reference-ids",
        metavar="IDS",
        help="comma-separated ids known to be unused (default: tokens flagged unused_special, "
        "unreachable or empty_id)",
    )
    parser.add_argument("--components", type=int, default=1, help="principal components removed")
    parser.add_argument("--top", type=int, default=20, help="length of the under-trained ranking")
    parser.add_argument("--examples", type=int, default=4, help="example tokens per indicator")
    parser.set_defaults(run=run_vocab)


def run_vocab(args: argparse.Namespace) -> int:
    from toksmith.audit.tokens import display
    from toksmith.audit.vocab import INDICATORS, audit_vocab, flagged_tokens
    from toksmith.audit.weights import audit_weights

    if args.weights and not args.embedding_key:
        raise UserError("--weights needs --embedding-key NAME (the tensor to read)")
    if args.embedding_key and not args.weights:
        raise UserError("--embedding-key needs --weights FILE")
    tokenizers = _tokenizers(args.tokenizer)
    if args.weights and len(tokenizers) != 1:
        raise UserError("--weights belongs to one model: give exactly one tokenizer with it")
    if args.components < 0 or args.top < 0:
        raise UserError("--components and --top must be zero or more")
    if args.weights:  # fail on a wrong tensor name or shape before the slow audit
        from toksmith.audit.weights import check_matrix

        check_matrix(args.weights, args.embedding_key, tokenizers[0].vocab_size)

    tables: list[Table] = []
    documents = []
    counts_table = Table("Flagged tokens per indicator", ["indicator", "description"])
    for tokenizer in tokenizers:
        audit = audit_vocab(tokenizer, corpus=args.corpus)
        extra: dict[str, np.ndarray] = {}
        weights = None
        if args.weights:
            reference = _reference_ids(args.reference_ids, audit)
            weights = audit_weights(
                args.weights,
                args.embedding_key,
                vocab_size=tokenizer.vocab_size,
                reference_ids=reference,
                n_components=args.components,
            )
            extra = {"undertrained": weights.undertrained, "norm_outlier": weights.norm_outlier}
        flagged = flagged_tokens(
            tokenizer,
            audit,
            extra_flags=extra,
            scores=None if weights is None else weights.score,
            norm_z=None if weights is None else weights.norm_z,
        )
        counts = audit.counts() | {name: int(mask.sum()) for name, mask in extra.items()}
        counts_table.columns.append(tokenizer.name)
        documents.append(
            {
                "name": tokenizer.name,
                "backend": tokenizer.backend,
                "vocab_size": tokenizer.vocab_size,
                "source": tokenizer.source,
                "corpus": audit.corpus,
                "corpus_tokens": audit.corpus_tokens if audit.corpus else None,
                "counts": counts,
                "weights": None if weights is None else _weights_document(tokenizer, weights, args),
                "flagged": [token.as_dict() for token in flagged],
            }
        )
        example_table = Table(
            f"{tokenizer.name}: examples ({tokenizer.vocab_size} ids)",
            ["indicator", "count", "examples"],
        )
        all_flags = audit.flags | extra
        for name, mask in all_flags.items():
            ids = np.flatnonzero(mask)
            if name == "undertrained" and weights is not None:
                ids = [i for i in weights.ranking(len(weights.score)) if mask[i]]
            shown = ", ".join(
                f"{int(i)}:'{display(tokenizer, int(i))}'" for i in list(ids)[: args.examples]
            )
            example_table.rows.append([name, str(len(ids)), shown])
        tables.append(example_table)
        if weights is not None:
            tables.append(_ranking_table(tokenizer, weights, args.top))

    descriptions = INDICATORS | {
        "undertrained": "close to the mean of known-unused rows (Magikarp indicator)",
        "norm_outlier": "row norm with |modified z| > 3.5",
    }
    names = list(dict.fromkeys(name for doc in documents for name in doc["counts"]))
    for name in names:
        counts_table.rows.append(
            [name, descriptions.get(name, "")]
            + [str(doc["counts"].get(name, "–")) for doc in documents]
        )
    document = {"indicators": {n: descriptions[n] for n in names}, "tokenizers": documents}
    return _output(args, [counts_table, *tables], document)


def _reference_ids(value: str | None, audit) -> np.ndarray:
    if value:
        try:
            return np.array([int(item) for item in _comma_list(value) or []], dtype=np.int64)
        except ValueError:
            raise UserError(f"--reference-ids {value!r}: expected comma-separated ids") from None
    return audit.flagged_ids(["unused_special", "unreachable", "empty_id"])


def _weights_document(tokenizer: Tokenizer, weights, args: argparse.Namespace) -> dict:
    from toksmith.audit.tokens import display

    return {
        "path": weights.path,
        "key": weights.key,
        "shape": list(weights.shape),
        "padding_rows": weights.padding_rows,
        "components_removed": weights.n_components,
        "reference_tokens": len(weights.reference_ids),
        "threshold": _json_number(weights.threshold),
        "ranking": [
            {
                "id": int(i),
                "printable": display(tokenizer, int(i)),
                "score": _json_number(weights.score[i]),
                "norm": _json_number(weights.norm[i]),
                "norm_z": _json_number(weights.norm_z[i]),
            }
            for i in weights.ranking(args.top)
        ],
    }


def _ranking_table(tokenizer: Tokenizer, weights, top: int) -> Table:
    from toksmith.audit.tokens import display

    table = Table(
        f"{tokenizer.name}: most likely under-trained tokens ({weights.key}, "
        f"{weights.n_components} component(s) removed, {len(weights.reference_ids)} reference)",
        ["rank", "id", "token", "score", "norm", "norm z"],
        note=f"score = cosine distance to the mean unused row; flagged below "
        f"{weights.threshold:.4f} (the {weights.reference_quantile:.0%} quantile of the "
        "reference tokens' scores)",
    )
    for rank, token_id in enumerate(weights.ranking(top), start=1):
        table.rows.append(
            [
                str(rank),
                str(int(token_id)),
                f"'{display(tokenizer, int(token_id))}'",
                _fmt(weights.score[token_id], 4),
                _fmt(weights.norm[token_id], 3),
                _fmt(weights.norm_z[token_id], 2),
            ]
        )
    return table


# ---- audit coverage ---------------------------------------------------------------------------


def _register_coverage(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "coverage",
        help="which scripts and languages the vocabulary serves",
        description="Tokens per Unicode script and category (Qtok, 2025); with a parallel "
        "corpus, per-language coverage, average rank and overlap (Limisiewicz et al., 2023).",
    )
    _common(parser)
    parser.add_argument("--corpus", help="a parallel corpus folder (e.g. the UDHR) or a corpus")
    parser.add_argument("--languages", help="comma-separated languages to measure")
    parser.add_argument("--overlap", help="comma-separated languages to compare pairwise")
    parser.add_argument("--scripts", type=int, default=12, help="scripts shown in the table")
    parser.set_defaults(run=run_coverage)


def run_coverage(args: argparse.Namespace) -> int:
    from toksmith.audit.coverage import audit_coverage

    tables: list[Table] = []
    documents = []
    for tokenizer in _tokenizers(args.tokenizer):
        report = audit_coverage(
            tokenizer,
            corpus=args.corpus,
            languages=_comma_list(args.languages),
            overlap_languages=_comma_list(args.overlap),
        )
        documents.append(
            {
                "name": report.tokenizer,
                "vocab_size": report.vocab_size,
                "kinds": report.kinds,
                "scripts": [
                    {
                        "script": row.script,
                        "tokens": row.tokens,
                        "word_tokens": row.word_tokens,
                        "complete_words": row.complete_words,
                        "complete_word_share": _json_number(row.complete_word_share),
                    }
                    for row in report.scripts
                ],
                "corpus": report.corpus,
                "languages": [
                    {
                        "language": row.language,
                        "name": row.name,
                        "script": row.script,
                        "tokens": row.tokens,
                        "chars": row.chars,
                        "multichar_share": _json_number(row.multichar_share),
                        "average_rank": _json_number(row.average_rank),
                        "distinct_tokens": row.distinct_tokens,
                    }
                    for row in report.languages
                ],
                "overlap": [
                    {
                        "a": row.language_a,
                        "b": row.language_b,
                        "shared_tokens": row.shared_tokens,
                        "jaccard": _json_number(row.jaccard),
                        "weighted_overlap": _json_number(row.weighted_overlap),
                        "jensen_shannon": _json_number(row.jensen_shannon),
                    }
                    for row in report.overlap
                ],
            }
        )
        kinds = ", ".join(f"{kind} {count}" for kind, count in report.kinds.items() if count)
        scripts = Table(
            f"{tokenizer.name}: tokens per script ({report.vocab_size} ids)",
            ["script", "tokens", "word tokens", "complete words", "complete-word share"],
            note=f"token kinds: {kinds}",
        )
        for row in report.scripts[: args.scripts]:
            scripts.rows.append(
                [
                    row.script,
                    str(row.tokens),
                    str(row.word_tokens),
                    str(row.complete_words),
                    _pct(row.complete_word_share),
                ]
            )
        tables.append(scripts)
        if report.languages:
            languages = Table(
                f"{tokenizer.name}: languages of {report.corpus}",
                ["language", "name", "script", "tokens", "covered by ≥2-char tokens", "avg rank"],
            )
            for row in report.languages:
                languages.rows.append(
                    [
                        row.language,
                        row.name,
                        row.script,
                        str(row.tokens),
                        _pct(row.multichar_share),
                        _fmt(row.average_rank, 1),
                    ]
                )
            tables.append(languages)
        if report.overlap:
            overlap = Table(
                f"{tokenizer.name}: vocabulary overlap between languages",
                ["a", "b", "shared tokens", "jaccard", "shared use", "JSD"],
            )
            for row in report.overlap:
                overlap.rows.append(
                    [
                        row.language_a,
                        row.language_b,
                        str(row.shared_tokens),
                        _fmt(row.jaccard),
                        _pct(row.weighted_overlap),
                        _fmt(row.jensen_shannon),
                    ]
                )
            tables.append(overlap)
    return _output(args, tables, {"tokenizers": documents})


# ---- audit morphology -------------------------------------------------------------------------


def _register_morphology(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "morphology",
        help="%%TR and %%Pure: tokens that are words and morphemes of a language",
        description="%TR (tokens that are valid words) and %Pure (tokens on morpheme "
        "boundaries) next to fertility (Bayram et al., 2025). Turkish uses the zeyrek analyzer.",
    )
    _common(parser)
    parser.add_argument("--language", required=True, help="language code, e.g. tr or tur")
    parser.add_argument(
        "--corpus", help="text to tokenize (default: the 5,000 most frequent wordfreq words)"
    )
    parser.add_argument("--lexicon", help="word list file, one word per line")
    parser.add_argument("--segmentation", help="file of 'word<TAB>morph morph ...' lines")
    parser.set_defaults(run=run_morphology)


def run_morphology(args: argparse.Namespace) -> int:
    from toksmith.audit.morphology import audit_morphology

    report = audit_morphology(
        _tokenizers(args.tokenizer),
        args.language,
        corpus=args.corpus,
        lexicon=args.lexicon,
        segmentation=args.segmentation,
    )
    table = Table(
        f"Morphology ({report.language}) on {report.corpus}",
        ["tokenizer", "fertility", "distinct tokens", "%TR", "%Pure", "%TR (use)", "%Pure (use)"],
        note=f"lexicon: {report.lexicon_source}; segmentation: "
        f"{report.segmentation_source or 'none (give --segmentation for %Pure)'}",
    )
    rows = []
    for row in report.rows:
        table.rows.append(
            [
                row.tokenizer,
                _fmt(row.fertility),
                str(row.distinct_tokens),
                _pct(row.tr_share),
                _pct(row.pure_share),
                _pct(row.tr_share_weighted),
                _pct(row.pure_share_weighted),
            ]
        )
        rows.append(
            {
                "tokenizer": row.tokenizer,
                "tokens": row.tokens,
                "words": row.words,
                "fertility": _json_number(row.fertility),
                "distinct_tokens": row.distinct_tokens,
                "tr_share": _json_number(row.tr_share),
                "pure_share": _json_number(row.pure_share),
                "tr_share_weighted": _json_number(row.tr_share_weighted),
                "pure_share_weighted": _json_number(row.pure_share_weighted),
                "analysed_word_share": _json_number(row.analysed_word_share),
            }
        )
    document = {
        "language": report.language,
        "corpus": report.corpus,
        "lexicon": report.lexicon_source,
        "segmentation": report.segmentation_source,
        "results": rows,
    }
    return _output(args, [table], document)


# ---- audit numbers ----------------------------------------------------------------------------


def _register_numbers(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "numbers",
        help="how numbers of 1-12 digits are cut into tokens",
        description="Digit grouping per tokenizer (Singh and Strouse, 'Tokenization counts', "
        "2024): single digits, left-to-right or right-to-left groups, or irregular.",
    )
    _common(parser)
    parser.add_argument("--max-digits", type=int, default=12)
    parser.add_argument("--samples", type=int, default=200, help="random numbers per length")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run_numbers)


def run_numbers(args: argparse.Namespace) -> int:
    from toksmith.audit.numbers import SCHEMES, audit_numbers

    if not 1 <= args.max_digits <= 18 or args.samples < 1:
        raise UserError("--max-digits must be 1..18 and --samples at least 1")
    summary = Table("Number chunking", ["tokenizer", "scheme", "group size"])
    tables = [summary]
    documents = []
    for tokenizer in _tokenizers(args.tokenizer):
        audit = audit_numbers(
            tokenizer, max_digits=args.max_digits, samples=args.samples, seed=args.seed
        )
        summary.rows.append([tokenizer.name, audit.scheme, str(audit.group_size or "–")])
        detail = Table(
            f"{tokenizer.name}: numbers by length ({args.samples} random numbers each)",
            ["digits", *SCHEMES, "tokens", "example"],
        )
        for row in audit.rows:
            detail.rows.append(
                [str(row.digits)]
                + [str(row.schemes[name]) for name in SCHEMES]
                + [_fmt(row.mean_tokens, 2), row.example]
            )
        tables.append(detail)
        documents.append(
            {
                "tokenizer": tokenizer.name,
                "scheme": audit.scheme,
                "group_size": audit.group_size,
                "lengths": [
                    {
                        "digits": row.digits,
                        "samples": row.samples,
                        "schemes": row.schemes,
                        "mean_tokens": _json_number(row.mean_tokens),
                        "example": row.example,
                    }
                    for row in audit.rows
                ],
            }
        )
    return _output(args, tables, {"tokenizers": documents})


# ---- audit chars ------------------------------------------------------------------------------


def _register_chars(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "chars",
        help="character counting/locating tasks (CharBench-style) and their scorer",
        description="--emit-tasks N writes N tasks as JSONL to -o FILE with how each tokenizer "
        "cuts the word; --score ANSWERS --tasks FILE reports accuracy split by token properties.",
    )
    parser.add_argument("-t", "--tokenizer", action="append", metavar="SPEC", default=[])
    parser.add_argument("--emit-tasks", type=int, metavar="N", help="number of tasks to write")
    parser.add_argument("--words", help="word list file (default: frequent English words)")
    parser.add_argument("--kinds", default="count,locate", help="task kinds: count, locate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", help="tasks JSONL written by --emit-tasks (for --score)")
    parser.add_argument("--score", metavar="ANSWERS", help='JSONL of {"id", "answer"}')
    parser.add_argument("--answer-field", default="answer")
    parser.add_argument("--format", choices=("table", "json", "md"), default="table")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="tasks file with --emit-tasks; report otherwise"
    )
    parser.set_defaults(run=run_chars)


def run_chars(args: argparse.Namespace) -> int:
    from toksmith.audit.chars import (
        default_words,
        make_tasks,
        read_words,
        score_answers,
        tasks_jsonl,
    )

    if args.score:
        if not args.tasks:
            raise UserError("--score needs --tasks FILE (the tasks the answers belong to)")
        score = score_answers(args.tasks, args.score, answer_field=args.answer_field)
        table = Table(
            f"Character tasks: {score.correct}/{score.tasks} correct "
            f"({_pct(score.accuracy)}; {score.answered} answers readable)",
            ["group", "tasks", "correct", "accuracy"],
        )
        for split in score.splits:
            table.rows.append(
                [split.group, str(split.tasks), str(split.correct), _pct(split.accuracy)]
            )
        document = {
            "tasks": score.tasks,
            "answered": score.answered,
            "correct": score.correct,
            "accuracy": _json_number(score.accuracy),
            "splits": [
                {
                    "group": s.group,
                    "tasks": s.tasks,
                    "correct": s.correct,
                    "accuracy": _json_number(s.accuracy),
                }
                for s in score.splits
            ],
        }
        return _output(args, [table], document)

    if args.emit_tasks is None:
        raise UserError("give --emit-tasks N (with -o FILE) or --score ANSWERS --tasks FILE")
    if args.emit_tasks < 1:
        raise UserError("--emit-tasks must be at least 1")
    if not args.output:
        raise UserError("--emit-tasks needs -o FILE for the tasks JSONL")
    if not args.tokenizer:
        raise UserError("--emit-tasks needs at least one -t TOKENIZER")
    tokenizers = _tokenizers(args.tokenizer)
    words = read_words(args.words) if args.words else default_words()
    tasks = make_tasks(
        words,
        tokenizers,
        count=args.emit_tasks,
        seed=args.seed,
        kinds=_comma_list(args.kinds) or [],
    )
    write_atomic(args.output, tasks_jsonl(tasks))
    table = Table(
        f"Wrote {len(tasks)} tasks to {args.output}",
        ["tokenizer", "tasks", "char inside multi-char token", "mean tokens per word"],
    )
    document_rows = []
    for tokenizer in tokenizers:
        views = [task.tokenization[tokenizer.name] for task in tasks]
        inside = sum(view.target_in_multichar_token for view in views)
        mean_tokens = sum(len(view.tokens) for view in views) / len(views)
        table.rows.append(
            [
                tokenizer.name,
                str(len(views)),
                f"{inside} ({_pct(inside / len(views))})",
                _fmt(mean_tokens, 2),
            ]
        )
        document_rows.append(
            {
                "tokenizer": tokenizer.name,
                "tasks": len(views),
                "char_inside_multichar_token": inside,
                "mean_tokens_per_word": _json_number(mean_tokens),
            }
        )
    document = {"tasks_file": args.output, "tasks": len(tasks), "tokenizers": document_rows}
    args.output = None  # the report goes to stdout; -o named the tasks file
    return _output(args, [table], document)
