"""Orthogonal matching pursuit, batched over many targets, in numpy.

After "Training-Free Tokenizer Transplantation via Orthogonal Matching Pursuit" (Goddard &
Fernandes Neto, 2025): each new token's vector in a donor space (where the token is known) is
approximated by k anchor tokens (tokens both vocabularies share) chosen greedily by OMP; the
same coefficients, applied to the anchors' rows of the base model, give the new row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toksmith.errors import UserError
from toksmith.progress import Progress


@dataclass
class OmpSolution:
    """For each target, the ``k`` chosen dictionary rows and their coefficients.

    ``indices`` [targets, k] (int64) and ``coefficients`` [targets, k] (float32): target i is
    approximated by ``coefficients[i] @ dictionary[indices[i]]``. A target that was already
    matched exactly before k atoms were chosen has zero coefficients for the remaining ones.
    ``residual_norm`` [targets]: the norm of what is left of each target.
    """

    indices: np.ndarray
    coefficients: np.ndarray
    residual_norm: np.ndarray

    def apply(self, rows: np.ndarray) -> np.ndarray:
        """The same combinations taken of ``rows`` (rows[j] stands for dictionary row j): the
        transplanted vectors, [targets, rows.shape[1]]."""
        out = np.empty((self.indices.shape[0], rows.shape[1]), dtype=np.float32)
        step = 2048
        for start in range(0, self.indices.shape[0], step):
            chosen = rows[self.indices[start : start + step]]  # [b, k, d]
            out[start : start + step] = np.einsum(
                "bk,bkd->bd", self.coefficients[start : start + step], chosen
            )
        return out


def orthogonal_matching_pursuit(
    dictionary: np.ndarray,
    targets: np.ndarray,
    k: int,
    *,
    batch_size: int = 256,
    tolerance: float = 1e-6,
    normalize_atoms: bool = True,
    progress: Progress | None = None,
) -> OmpSolution:
    """OMP (Pati, Rezaiifar & Krishnaprasad 1993) of every row of ``targets`` [n, d] over the
    rows ("atoms") of ``dictionary`` [m, d], with ``k`` atoms each.

    Each step picks, for every target at once, the atom most correlated with the residual
    (correlation divided by the atom's norm, so atoms need not be normalised; with
    ``normalize_atoms=False`` the raw inner product, as the paper's code does), then re-solves
    the least-squares coefficients on all chosen atoms through their Gram matrix (normal
    equations in float64 with a 1e-9 relative ridge, for near-duplicate atoms). A target whose
    residual falls below ``tolerance`` × its norm stops there. The cost is dominated by one
    [batch, d] × [d, m] product per step: O(n · m · d · k) multiply-adds; memory is
    O(batch · m + m · d).

    Compared with the OMP paper's code (mergekit ``tokensurgeon``, ``batch_omp``): it also
    batches the targets, but keeps an incremental QR of the chosen atoms and selects by the raw
    inner product ``|<r, a>|`` (donor rows are not normalised); here the least squares go
    through the Gram matrix (same coefficients up to rounding) and selection is by default by
    the normalised correlation of textbook OMP. Both give the same atoms when the atoms have
    equal norms. The paper's code has no early stop; a target matched exactly here keeps zero
    coefficients for the rest.
    """
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}")
    atoms = np.ascontiguousarray(dictionary, dtype=np.float32)
    if k > atoms.shape[0]:
        raise UserError(f"k = {k} is larger than the {atoms.shape[0]} anchor tokens")
    goals = np.ascontiguousarray(targets, dtype=np.float32)
    n = goals.shape[0]
    indices = np.zeros((n, k), dtype=np.int64)
    coefficients = np.zeros((n, k), dtype=np.float32)
    residual_norm = np.zeros(n, dtype=np.float32)
    norms = np.linalg.norm(atoms, axis=1)
    inverse_norms = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-30), 0.0).astype(np.float32)
    if not normalize_atoms:  # the paper's code: raw inner products
        inverse_norms = (norms > 0).astype(np.float32)
    # Correlations are taken with the (by default normalised) atoms; least squares use the raw.
    atoms_t = np.ascontiguousarray((atoms * inverse_norms[:, None]).T)
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        chosen, coef, left = _omp_batch(atoms, atoms_t, goals[start:stop], k, tolerance)
        indices[start:stop] = chosen
        coefficients[start:stop] = coef
        residual_norm[start:stop] = left
        if progress:
            progress(f"OMP: {stop:,} of {n:,} tokens", stop / max(n, 1))
    return OmpSolution(indices, coefficients, residual_norm)


def _omp_batch(
    atoms: np.ndarray,
    atoms_t: np.ndarray,
    goals: np.ndarray,
    k: int,
    tolerance: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b, d = goals.shape
    rows = np.arange(b)
    chosen = np.zeros((b, k), dtype=np.int64)
    selected = np.zeros((b, k, d), dtype=np.float32)
    gram = np.zeros((b, k, k), dtype=np.float64)
    projections = np.zeros((b, k), dtype=np.float64)  # <atom_t, goal>
    coef = np.zeros((b, k), dtype=np.float64)
    residual = goals.copy()
    goal_norm = np.linalg.norm(goals, axis=1)
    active = goal_norm > 0
    for step in range(k):
        if not active.any():
            break
        scores = residual @ atoms_t
        np.abs(scores, out=scores)
        if step:
            scores[rows[:, None], chosen[:, :step]] = -1.0  # never pick an atom twice
        pick = np.argmax(scores, axis=1)
        # A finished target picks atom 0 with a zero coefficient: harmless, and it keeps the
        # arrays rectangular.
        pick = np.where(active, pick, chosen[:, 0] if step else 0)
        chosen[:, step] = pick
        atom = atoms[pick]  # [b, d]
        selected[:, step] = atom
        column = np.einsum("btd,bd->bt", selected[:, : step + 1], atom).astype(np.float64)
        gram[:, step, : step + 1] = column
        gram[:, : step + 1, step] = column
        projections[:, step] = np.einsum("bd,bd->b", atom, goals)
        size = step + 1
        system = gram[:, :size, :size].copy()
        ridge = 1e-9 * np.maximum(np.einsum("bii->b", system) / size, 1e-30)
        system[:, np.arange(size), np.arange(size)] += ridge[:, None]
        solved = np.linalg.solve(system, projections[:, :size, None])[:, :, 0]
        keep = ~active
        solved[keep] = coef[keep, :size]  # finished targets keep their coefficients
        solved[keep, step] = 0.0
        coef[:, :size] = solved
        residual = goals - np.einsum("bt,btd->bd", solved.astype(np.float32), selected[:, :size])
        left = np.linalg.norm(residual, axis=1)
        active &= left > tolerance * goal_norm
    left = np.linalg.norm(residual, axis=1)
    return chosen, coef.astype(np.float32), left
