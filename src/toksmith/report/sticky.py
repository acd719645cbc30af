"""Rendering of the sticky-token audit (``audit sticky``) and of the prompting verification of
under-trained tokens (``audit vocab --verify``): tables for the terminal, Markdown and CSV; JSON
is the results' own ``to_dict()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toksmith.report.audit import vocab_tables
from toksmith.report.render import render_result
from toksmith.report.tables import Table, fixed, percent

if TYPE_CHECKING:
    from toksmith.audit.prompting import PromptVerification, VerifiedVocabReport
    from toksmith.audit.sticky import RetrievalHarm, StickyReport


SINGULAR = {"queries": "query", "documents": "document"}


def render_sticky(report: StickyReport, fmt: str) -> str:
    """The sticky-token audit: run counts, the checked tokens, the retrieval harm."""
    return render_result(report, fmt, lambda: sticky_tables(report))


def sticky_tables(report: StickyReport) -> list[Table]:
    from toksmith.audit.sticky import settings_deviations

    s = report.settings
    deviations = settings_deviations(s)
    if deviations:
        deviations = ["deviations from the paper's parameters: " + "; ".join(deviations)]
    counts = Table(
        f"Sticky tokens of {report.model} ({report.mode} run, {report.elapsed_s:.0f} s)",
        ["measure", "value"],
        footer=[
            f"mean token similarity u = {report.mean_similarity:.4f} "
            f"({report.mean_sample_tokens:,} tokens embedded)",
            f"pairs from {report.pair_source}: {len(report.score_pairs)} for scoring, "
            f"{len(report.verify_pairs)} for verification, of {report.candidate_pairs:,} "
            "candidate pairs, all below u",
            f"scoring: {s.score_pairs} pair(s), insertions {list(s.score_insertions)}; "
            f"verification: insertions {list(s.verify_insertions)}, verified at a share of "
            f"{s.verified_share:.3f}",
            *deviations,
            *report.notes,
        ],
    )
    counts.rows += [
        ["vocabulary", report.vocab_size],
        *[[f"filter: {name}", value] for name, value in report.categories.items() if value],
        ["usable tokens", report.usable],
        ["scored", report.scored],
        ["shortlisted", report.shortlisted],
        ["verified (paper's rule)", report.verified],
        ["  strong (share > 0.877)", report.strong],
        ["  above every control token", report.above_control],
        [f"control tokens verified (of {len(report.control)})", report.control_verified],
    ]
    tokens = Table(
        "Checked tokens (verified first)",
        ["id", "token", "score", "moved share", "verified", "above control", "sim shift",
         "|sim-u| before", "after", "insertions needed"],
        fields=["id", "token", "score", "moved_share", "verified", "above_control",
                "similarity_shift", "gap_before", "gap_after", "insertions_needed"],
    )  # fmt: skip
    for token in [*report.tokens, *report.control]:
        check = token.verification
        if check is None:
            continue
        tokens.rows.append(
            [
                token.id,
                token.token if token.score is not None else f"{token.token} (control)",
                fixed(token.score, 2) if token.score is not None else None,
                fixed(check.moved_share),
                "yes" if check.verified else "no",
                None if check.above_control is None else ("yes" if check.above_control else "no"),
                fixed(check.similarity_shift, 4),
                fixed(check.gap_before),
                fixed(check.gap_after),
                check.insertions_needed,
            ]
        )
    tables = [counts, tokens]
    if report.harm is not None:
        tables.append(harm_table(report.harm))
    return tables


def harm_table(harm: RetrievalHarm) -> Table:
    table = Table(
        f"Retrieval harm: recall@{harm.k} on {harm.documents} {harm.corpus}, each token "
        f"inserted {harm.insertions} times into every {SINGULAR.get(harm.target, harm.target)}",
        [harm.target, "token", f"recall@{harm.k}"],
        footer=[
            f"clean {percent(harm.recall_clean)}, sticky {percent(harm.recall_sticky)}, "
            f"control {percent(harm.recall_control)}"
        ],
    )
    table.rows.append(["as they are", "–", percent(harm.recall_clean)])
    for run in harm.sticky:
        table.rows.append(["with sticky token", run.token, percent(run.recall)])
    for run in harm.control:
        table.rows.append(["with control token", run.token, percent(run.recall)])
    return table


def render_verified_vocab(report: VerifiedVocabReport, fmt: str) -> str:
    """``audit vocab --verify``: the vocabulary audit's tables and the prompting table."""
    return render_result(
        report, fmt, lambda: [*vocab_tables(report.vocab), prompting_table(report.verification)]
    )


def prompting_table(verification: PromptVerification) -> Table:
    table = Table(
        f"Candidates prompted to repeat ({verification.checked} checked, "
        f"{verification.confirmed} confirmed under-trained)",
        ["rank", "id", "token", "repeat probability", *verification.prompts, "confirmed"],
        footer=[
            f"repeat probability: the largest probability of the token over "
            f"{verification.generated_tokens} greedy steps after each prompt; confirmed below "
            f"{verification.confirm_below:g} ('Fishing for Magikarp', 2024)"
        ],
    )
    for check in verification.tokens:
        table.rows.append(
            [
                check.indicator_rank,
                check.id,
                check.token,
                f"{check.repeat_probability:.4f}",
                *(f"{check.by_prompt[name]:.4f}" for name in verification.prompts),
                "yes" if check.confirmed else "no",
            ]
        )
    return table
