"""Calibrating an audit's false-positive rate from honest traces, and intervals for rates.

The auditor rejects a bill when a per-audit statistic exceeds a limit. The limit is an order
statistic of the statistic on ``n`` independent honest calibration audits, chosen so that the
false-positive rate on *new* honest audits is at most ``target_fpr`` with probability at least
``confidence`` over the draw of the calibration set — the training-conditional ("PAC") form of
split-conformal calibration, after "Conditional validity of inductive conformal predictors"
(Vovk, 2012; also Bates, Angelopoulos, Lei, Malik and Jordan, "Distribution-free,
risk-controlling prediction sets", 2021).

Why it holds: reject when the statistic is strictly above the (n − j)-th smallest calibration
value X₍ₙ₋ⱼ₎. For a new honest audit exchangeable with the calibration ones, the false-positive
rate is 1 − F(X₍ₙ₋ⱼ₎), and F(X₍ₙ₋ⱼ₎) is the (n − j)-th smallest of n uniforms when F is
continuous, so P(rate > α) = P(Binomial(n, α) ≤ j). The largest j with that probability
≤ 1 − confidence is used; ties (a discrete statistic) only lower the rate. With no j ≥ 0 valid
(n < log(1 − confidence) / log(1 − α): 299 traces for 1% at 95%), no honest limit exists.

Contrast with the plain empirical quantile ("at most α·n calibration rejections"): its expected
held-out rate is about (⌊α·n⌋ + 1)/(n + 1) — 2% for α = 1%, n = 100 — and it exceeds α about
half the time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

from toksmith.errors import UserError


@cache
def allowed_exceedances(n: int, target_fpr: float, confidence: float) -> int | None:
    """The most calibration audits that may lie above the limit (j above) so that the
    false-positive rate is ≤ ``target_fpr`` with probability ≥ ``confidence``; None when ``n``
    audits are too few for any."""
    from scipy.stats import binom

    best: int | None = None
    for j in range(n):
        if float(binom.cdf(j, n, target_fpr)) <= 1.0 - confidence:
            best = j
        else:
            break
    return best


def fewest_calibration_audits(target_fpr: float, confidence: float) -> int:
    """The smallest n for which :func:`allowed_exceedances` is not None (j = 0:
    (1 − α)ⁿ ≤ 1 − confidence)."""
    return math.ceil(math.log(1.0 - confidence) / math.log(1.0 - target_fpr))


def calibrated_limit(honest: Sequence[float], target_fpr: float, confidence: float) -> float:
    """The limit: reject an audit whose statistic is strictly above it. ``honest`` holds one
    statistic per independent honest calibration audit (``inf`` for an audit that is always
    rejected, such as one with a repeated block)."""
    n = len(honest)
    j = allowed_exceedances(n, target_fpr, confidence)
    if j is None:
        raise UserError(
            f"{n} calibration traces: a false-positive rate ≤ {target_fpr:g} at "
            f"{confidence:.0%} confidence needs at least "
            f"{fewest_calibration_audits(target_fpr, confidence)}"
        )
    return float(sorted(honest)[n - j - 1])


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper–Pearson, 1934) two-sided interval for a binomial proportion."""
    from scipy.stats import beta

    if trials == 0:
        return 0.0, 1.0
    tail = (1.0 - level) / 2.0
    low = 0.0 if successes == 0 else float(beta.ppf(tail, successes, trials - successes + 1))
    high = (
        1.0 if successes == trials else float(beta.ppf(1 - tail, successes + 1, trials - successes))
    )
    return low, high


__all__ = [
    "allowed_exceedances",
    "calibrated_limit",
    "clopper_pearson",
    "fewest_calibration_audits",
]
