"""The calibration rule of the CoIn audit: an order statistic with a binomial guarantee."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toksmith.accounting.calibration import (
    allowed_exceedances,
    calibrated_limit,
    clopper_pearson,
    fewest_calibration_audits,
)
from toksmith.errors import UserError


def test_one_percent_at_95_percent_needs_299_calibration_traces() -> None:
    assert fewest_calibration_audits(0.01, 0.95) == 299
    assert allowed_exceedances(298, 0.01, 0.95) is None
    assert allowed_exceedances(299, 0.01, 0.95) == 0
    # n = 1000: P(Bin(1000, 0.01) ≤ 4) = 0.029 ≤ 0.05 < P(≤ 5) = 0.067.
    assert allowed_exceedances(1000, 0.01, 0.95) == 4
    with pytest.raises(UserError, match="at least 299"):
        calibrated_limit([0.0] * 298, 0.01, 0.95)


def test_held_out_fpr_exceeds_the_target_rarely_on_a_heavy_tailed_case() -> None:
    # Honest statistics from a Pareto tail (α = 1.5): the false-positive rate of a limit L is
    # exactly L^-1.5, so every calibration's held-out rate is known without sampling.
    rng = np.random.default_rng(0)
    n, target, repeats = 400, 0.01, 2000
    calibrations = rng.pareto(1.5, size=(repeats, n)) + 1.0
    over_rule = 0
    over_naive = 0
    for sample in calibrations:
        limit = calibrated_limit(list(sample), target, 0.95)
        over_rule += limit**-1.5 > target
        # The plain empirical rule: at most α·n calibration audits above the limit.
        naive = np.sort(sample)[n - math.floor(target * n) - 1]
        over_naive += naive**-1.5 > target
    # The guarantee is P(FPR > 1%) ≤ 5%; Monte Carlo error at 2000 repeats is about ±1%.
    assert over_rule / repeats <= 0.065
    assert over_naive / repeats >= 0.3  # what the old calibration did: often above target


def test_ties_and_always_rejected_audits_only_lower_the_rate() -> None:
    # 299 audits with j = 0: the limit is the largest value; an audit that is always rejected
    # (inf, a repeated block) in the calibration set makes the limit inf (nothing rejected
    # beyond the repeats themselves), never a limit below honest values.
    honest = [0.0] * 298 + [math.inf]
    assert calibrated_limit(honest, 0.01, 0.95) == math.inf
    assert calibrated_limit([0.0] * 299, 0.01, 0.95) == 0.0  # reject only above 0


def test_clopper_pearson_intervals() -> None:
    low, high = clopper_pearson(0, 100)
    assert low == 0.0 and high == pytest.approx(0.0362, abs=1e-4)
    low, high = clopper_pearson(5, 100)
    assert low == pytest.approx(0.0164, abs=1e-4) and high == pytest.approx(0.1128, abs=1e-4)
    assert clopper_pearson(10, 10)[1] == 1.0
