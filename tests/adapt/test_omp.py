"""OMP: exact recovery where theory promises it, error falling with k, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from toksmith.adapt.omp import orthogonal_matching_pursuit
from toksmith.errors import UserError


def _cosines(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return (estimate * truth).sum(1) / (
        np.linalg.norm(estimate, axis=1) * np.linalg.norm(truth, axis=1)
    )


def _low_rank_spaces(seed: int = 0, anchors: int = 1500, held_out: int = 100, rank: int = 48):
    """Donor rows in a rank-48 subspace of R^96; base = donor · A for a random A."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((anchors + held_out, rank))
    donor = (latent @ rng.standard_normal((rank, 96))).astype(np.float32)
    base = (donor @ rng.standard_normal((96, 64))).astype(np.float32)
    return donor[:anchors], donor[anchors:], base[:anchors], base[anchors:]


def test_omp_k64_recovers_held_out_rows_of_a_linear_map_of_the_donor() -> None:
    anchors_donor, held_donor, anchors_base, held_base = _low_rank_spaces()
    solution = orthogonal_matching_pursuit(anchors_donor, held_donor, 64)
    cosines = _cosines(solution.apply(anchors_base), held_base)
    assert cosines.mean() >= 0.99


def test_omp_error_falls_as_k_grows() -> None:
    anchors_donor, held_donor, anchors_base, held_base = _low_rank_spaces(seed=1)
    means = []
    for k in (4, 8, 16, 32):
        solution = orthogonal_matching_pursuit(anchors_donor, held_donor, k)
        means.append(_cosines(solution.apply(anchors_base), held_base).mean())
    assert means == sorted(means) and means[0] < 0.95 < means[-1]


def test_omp_finds_the_atoms_of_a_sparse_combination() -> None:
    rng = np.random.default_rng(2)
    atoms = rng.standard_normal((500, 64)).astype(np.float32)
    support = np.array([3, 77, 140, 321, 499])
    weights = np.array([1.0, -0.8, 0.6, 1.5, -1.2], dtype=np.float32)
    target = (weights @ atoms[support])[None]
    solution = orthogonal_matching_pursuit(atoms, target, 5)
    assert sorted(solution.indices[0].tolist()) == support.tolist()
    order = np.argsort(solution.indices[0])
    assert np.allclose(solution.coefficients[0][order], weights, atol=1e-4)
    assert solution.residual_norm[0] < 1e-3


def test_omp_stops_early_on_an_exact_match_and_batches_give_the_same_answer() -> None:
    rng = np.random.default_rng(3)
    atoms = rng.standard_normal((300, 32)).astype(np.float32)
    targets = np.vstack([atoms[10] * 2.0, rng.standard_normal((40, 32))]).astype(np.float32)
    whole = orthogonal_matching_pursuit(atoms, targets, 8, batch_size=64)
    pieces = orthogonal_matching_pursuit(atoms, targets, 8, batch_size=7)
    assert np.array_equal(whole.indices, pieces.indices)
    assert whole.indices[0, 0] == 10 and np.count_nonzero(whole.coefficients[0]) == 1


def test_omp_refuses_k_larger_than_the_anchors() -> None:
    atoms = np.ones((5, 4), dtype=np.float32)
    with pytest.raises(UserError, match="k = 6 is larger than the 5 anchor tokens"):
        orthogonal_matching_pursuit(atoms, atoms, 6)


def test_raw_selection_picks_the_largest_inner_product_as_the_papers_code_does() -> None:
    # atom 0 points almost at the target but is short; atom 1 is long and less aligned. The
    # paper's code (raw |<r, a>|) takes atom 1 first, textbook OMP (unit atoms) atom 0.
    atoms = np.array([[1.0, 0.1, 0.0], [10.0, 10.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    target = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    unit = orthogonal_matching_pursuit(atoms, target, 1)
    raw = orthogonal_matching_pursuit(atoms, target, 1, normalize_atoms=False)
    assert unit.indices[0, 0] == 0 and raw.indices[0, 0] == 1
