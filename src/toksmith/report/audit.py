"""Tables of the vocabulary audits (``toksmith audit vocab|coverage|morphology|numbers|chars``).

Each ``render_*`` function turns the result of one audit into text in one format: JSON from the
result's ``to_dict()``, terminal and Markdown from the tables built here. Nothing is measured
here; cells are only formatted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from toksmith.audit.numbers import SCHEMES
from toksmith.report.render import render_result
from toksmith.report.tables import Table, fixed, percent

if TYPE_CHECKING:  # only the types: rendering one audit never imports the others
    from toksmith.audit.chars import CharScore, TaskSet
    from toksmith.audit.coverage import CoverageReport
    from toksmith.audit.morphology import MorphologyReport
    from toksmith.audit.numbers import NumberAudit
    from toksmith.audit.vocab import VocabReport, VocabSummary, WeightSummary

FORMATS = ("table", "json", "md")


# ---- audit vocab ------------------------------------------------------------------------------


def render_vocab(report: VocabReport, fmt: str) -> str:
    """The vocabulary audit: counts per indicator, examples per tokenizer, and the
    under-trained ranking when weights were given."""
    return render_result(report, fmt, lambda: vocab_tables(report))


def vocab_tables(report: VocabReport) -> list[Table]:
    counts = Table(
        "Flagged tokens per indicator",
        ["indicator", "description", *(summary.name for summary in report.tokenizers)],
    )
    for name, description in report.indicators.items():
        counts.rows.append(
            [name, description, *(summary.counts.get(name) for summary in report.tokenizers)]
        )
    tables = [counts]
    for summary in report.tokenizers:
        tables.append(_examples_table(summary))
        if summary.weights is not None:
            tables.append(_ranking_table(summary.name, summary.weights))
    return tables


def _examples_table(summary: VocabSummary) -> Table:
    table = Table(
        f"{summary.name}: examples ({summary.vocab_size} ids)", ["indicator", "count", "examples"]
    )
    for name, examples in summary.examples.items():
        shown = ", ".join(f"{token_id}:'{printable}'" for token_id, printable in examples)
        table.rows.append([name, summary.counts[name], shown])
    return table


def _ranking_table(name: str, weights: WeightSummary) -> Table:
    table = Table(
        f"{name}: most likely under-trained tokens ({weights.key}, "
        f"{weights.components_removed} component(s) removed, {weights.reference_tokens} "
        "reference)",
        ["rank", "id", "token", "score", "norm", "norm z"],
        footer=[
            f"score = cosine distance to the mean unused row; flagged below "
            f"{weights.threshold:.4f} (the {weights.reference_quantile:.0%} quantile of the "
            "reference tokens' scores)"
        ],
    )
    for rank, token in enumerate(weights.ranking, start=1):
        table.rows.append(
            [
                str(rank),
                str(token.id),
                f"'{token.printable}'",
                fixed(token.score, 4),
                fixed(token.norm, 3),
                fixed(token.norm_z, 2),
            ]
        )
    return table


# ---- audit coverage ---------------------------------------------------------------------------


def render_coverage(reports: Sequence[CoverageReport], fmt: str, *, scripts: int = 12) -> str:
    """Coverage of each tokenizer; the terminal and Markdown show the ``scripts`` scripts with
    the most tokens (JSON has them all)."""
    document = {"tokenizers": list(reports)}
    return render_result(document, fmt, lambda: coverage_tables(reports, scripts=scripts))


def coverage_tables(reports: Sequence[CoverageReport], *, scripts: int = 12) -> list[Table]:
    tables = []
    for report in reports:
        kinds = ", ".join(f"{kind} {count}" for kind, count in report.kinds.items() if count)
        script_table = Table(
            f"{report.tokenizer}: tokens per script ({report.vocab_size} ids)",
            ["script", "tokens", "word tokens", "complete words", "complete-word share"],
            footer=[f"token kinds: {kinds}"],
        )
        for row in report.scripts[:scripts]:
            script_table.rows.append(
                [
                    row.script,
                    row.tokens,
                    row.word_tokens,
                    row.complete_words,
                    percent(row.complete_word_share),
                ]
            )
        tables.append(script_table)
        if report.languages:
            languages = Table(
                f"{report.tokenizer}: languages of {report.corpus}",
                ["language", "name", "script", "tokens", "covered by ≥2-char tokens", "avg rank"],
            )
            for language in report.languages:
                languages.rows.append(
                    [
                        language.language,
                        language.name,
                        language.script,
                        language.tokens,
                        percent(language.multichar_share),
                        fixed(language.average_rank, 1),
                    ]
                )
            tables.append(languages)
        if report.overlap:
            overlap = Table(
                f"{report.tokenizer}: vocabulary overlap between languages",
                ["a", "b", "shared tokens", "jaccard", "shared use", "JSD"],
            )
            for pair in report.overlap:
                overlap.rows.append(
                    [
                        pair.language_a,
                        pair.language_b,
                        pair.shared_tokens,
                        fixed(pair.jaccard),
                        percent(pair.weighted_overlap),
                        fixed(pair.jensen_shannon),
                    ]
                )
            tables.append(overlap)
    return tables


# ---- audit morphology -------------------------------------------------------------------------


def render_morphology(report: MorphologyReport, fmt: str) -> str:
    """%TR, %Pure and fertility of each tokenizer, one row each."""
    return render_result(report, fmt, lambda: [morphology_table(report)])


def morphology_table(report: MorphologyReport) -> Table:
    segmentation = report.segmentation_source or "none (give --segmentation for %Pure)"
    table = Table(
        f"Morphology ({report.language}) on {report.corpus}",
        ["tokenizer", "fertility", "distinct tokens", "%TR", "%Pure", "%TR (use)", "%Pure (use)"],
        footer=[f"lexicon: {report.lexicon_source}; segmentation: {segmentation}"],
    )
    for row in report.rows:
        table.rows.append(
            [
                row.tokenizer,
                fixed(row.fertility),
                row.distinct_tokens,
                percent(row.tr_share),
                percent(row.pure_share),
                percent(row.tr_share_weighted),
                percent(row.pure_share_weighted),
            ]
        )
    return table


# ---- audit numbers ----------------------------------------------------------------------------


def render_numbers(audits: Sequence[NumberAudit], fmt: str) -> str:
    """The scheme of each tokenizer, then how numbers of each length are cut."""
    document = {"tokenizers": list(audits)}
    return render_result(document, fmt, lambda: numbers_tables(audits))


def numbers_tables(audits: Sequence[NumberAudit]) -> list[Table]:
    summary = Table("Number chunking", ["tokenizer", "scheme", "group size"])
    tables = [summary]
    for audit in audits:
        summary.rows.append([audit.tokenizer, audit.scheme, audit.group_size])
        samples = audit.rows[0].samples if audit.rows else 0
        detail = Table(
            f"{audit.tokenizer}: numbers by length ({samples} random numbers each)",
            ["digits", *SCHEMES, "tokens", "example"],
        )
        for row in audit.rows:
            detail.rows.append(
                [
                    row.digits,
                    *(row.schemes[name] for name in SCHEMES),
                    fixed(row.mean_tokens, 2),
                    row.example,
                ]
            )
        tables.append(detail)
    return tables


# ---- audit chars ------------------------------------------------------------------------------


def render_char_score(score: CharScore, fmt: str) -> str:
    """Accuracy on the character tasks, overall and split by token properties."""
    return render_result(score, fmt, lambda: [char_score_table(score)])


def char_score_table(score: CharScore) -> Table:
    table = Table(
        f"Character tasks: {score.correct}/{score.tasks} correct "
        f"({percent(score.accuracy)}; {score.answered} answers readable)",
        ["group", "tasks", "correct", "accuracy"],
    )
    for split in score.splits:
        table.rows.append([split.group, split.tasks, split.correct, percent(split.accuracy)])
    return table


def render_task_set(task_set: TaskSet, fmt: str) -> str:
    """What ``--emit-tasks`` wrote, and how each tokenizer cuts the target words."""
    return render_result(task_set, fmt, lambda: [task_set_table(task_set)])


def task_set_table(task_set: TaskSet) -> Table:
    table = Table(
        f"Wrote {task_set.tasks} tasks to {task_set.tasks_file}",
        ["tokenizer", "tasks", "char inside multi-char token", "mean tokens per word"],
    )
    for row in task_set.tokenizers:
        share = row.char_inside_multichar_token / row.tasks if row.tasks else None
        table.rows.append(
            [
                row.tokenizer,
                row.tasks,
                f"{row.char_inside_multichar_token} ({percent(share)})",
                fixed(row.mean_tokens_per_word, 2),
            ]
        )
    return table
