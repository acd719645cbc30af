"""Weight-based indicators of under-trained tokens from an embedding or unembedding matrix.

Implements the indicator of "Fishing for Magikarp: Automatically Detecting Under-trained Tokens
in Large Language Models" (Land and Bartolo, 2024): remove the first principal component(s) of
the matrix, take the mean row of tokens known to be unused, and rank every token by the cosine
distance of its row to that mean; rows of tokens the model never saw in training end up close
to it. Norm outliers (a robust z-score of the row norms) are reported beside it, as the paper
does for input embeddings.

Weights are read from safetensors only, with ``safetensors.numpy`` (never pickle or torch);
bfloat16 tensors, which numpy cannot hold, are widened to float32 from their raw bytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toksmith.errors import UserError
from toksmith.results import Result

# Iglewicz and Hoaglin's cut-off for the modified z-score of an outlier.
NORM_Z_THRESHOLD = 3.5


@dataclass
class WeightAudit(Result):
    """The weight indicators for every row that belongs to a token id.

    ``score`` is the Magikarp indicator (cosine distance to the mean unused row after the
    principal components are removed; low = likely under-trained). ``threshold`` is the score
    below which a token is flagged ``undertrained``: the ``reference_quantile`` quantile of the
    reference tokens' own scores. ``norm_z`` is the modified z-score of each row's L2 norm.
    """

    path: str
    key: str
    shape: tuple[int, int]
    n_components: int
    reference_ids: np.ndarray
    score: np.ndarray
    threshold: float
    reference_quantile: float
    norm: np.ndarray
    norm_z: np.ndarray
    padding_rows: int

    @property
    def undertrained(self) -> np.ndarray:
        """Mask of tokens at least as close to the unused mean as the threshold, leaving out
        the reference tokens themselves (they are known already)."""
        mask = self.score <= self.threshold
        mask[self.reference_ids] = False
        return mask

    @property
    def norm_outlier(self) -> np.ndarray:
        return np.abs(self.norm_z) > NORM_Z_THRESHOLD

    def ranking(self, top: int) -> np.ndarray:
        """Ids of the ``top`` most likely under-trained tokens outside the reference set,
        lowest score first."""
        candidates = np.ones(len(self.score), dtype=bool)
        candidates[self.reference_ids] = False
        ids = np.flatnonzero(candidates)
        order = np.argsort(self.score[ids], kind="stable")
        return ids[order[:top]]


def tensor_names(path: str | Path) -> dict[str, tuple[list[int], str]]:
    """``{name: (shape, dtype)}`` of every tensor in a safetensors file, read from its header."""
    header = _read_header(Path(path))
    return {
        name: (list(entry["shape"]), str(entry["dtype"]))
        for name, entry in header.items()
        if name != "__metadata__"
    }


def check_matrix(path: str | Path, key: str, vocab_size: int) -> tuple[int, int]:
    """The shape of matrix ``key`` after checking, from the file header alone, that it exists,
    is 2-D and has a row for each of ``vocab_size`` ids; :class:`UserError` otherwise."""
    names = tensor_names(path)
    if key not in names:
        matrices = [n for n, (shape, _) in names.items() if len(shape) == 2]
        hint = f"; its 2-D tensors are: {', '.join(matrices[:12])}" if matrices else ""
        raise UserError(f"{path}: no tensor named {key!r}{hint}")
    shape = names[key][0]
    if len(shape) != 2:
        raise UserError(
            f"{path}: tensor {key!r} has shape {shape}, expected a 2-D embedding matrix "
            "(one row per token)"
        )
    if shape[0] < vocab_size:
        raise UserError(
            f"{path}: tensor {key!r} has {shape[0]} rows but the tokenizer has {vocab_size} "
            "ids; expected one row per token (is it the matrix of another model?)"
        )
    return int(shape[0]), int(shape[1])


def load_matrix(path: str | Path, key: str) -> np.ndarray:
    """The 2-D tensor ``key`` of a safetensors file as float32.

    Raises :class:`UserError` when the file is not safetensors, has no tensor of that name
    (listing the 2-D tensors it does have), or the tensor is not a matrix.
    """
    path = Path(path)
    names = tensor_names(path)
    if key not in names:
        matrices = [n for n, (shape, _) in names.items() if len(shape) == 2]
        hint = f"; its 2-D tensors are: {', '.join(matrices[:12])}" if matrices else ""
        raise UserError(f"{path}: no tensor named {key!r}{hint}")
    shape, dtype = names[key]
    if len(shape) != 2:
        raise UserError(
            f"{path}: tensor {key!r} has shape {shape}, expected a 2-D embedding matrix "
            "(one row per token)"
        )
    if dtype == "BF16":
        return _read_bfloat16(path, key)
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return np.asarray(handle.get_tensor(key), dtype=np.float32)


def _read_header(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise ValueError("shorter than 8 bytes")
            (length,) = struct.unpack("<Q", prefix)
            if length > 100_000_000:
                raise ValueError("header length is implausible")
            header = json.loads(handle.read(length))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
        return header
    except FileNotFoundError:
        raise UserError(f"weights file {path} does not exist") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not a safetensors file ({error})") from None


def _read_bfloat16(path: Path, key: str) -> np.ndarray:
    """bfloat16 is the top half of a float32: widen it by shifting the raw 16-bit words."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        start, end = header[key]["data_offsets"]
        handle.seek(8 + length + start)
        raw = np.frombuffer(handle.read(end - start), dtype="<u2")
    widened = raw.astype(np.uint32) << 16
    return widened.view(np.float32).reshape(header[key]["shape"])


def remove_principal_components(matrix: np.ndarray, n_components: int) -> np.ndarray:
    """``matrix`` with its rows' projections on the first ``n_components`` principal
    directions removed.

    The directions are the top right singular vectors of the uncentred matrix: the paper's
    aim is to drop the component that all rows share, which is what dominates the uncentred
    first singular vector. Computed from the small d×d Gram matrix, accumulated in float32
    (a float64 product costs four times as long and changes no leading direction).
    """
    if n_components <= 0:
        return matrix
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    gram = (matrix.T @ matrix).astype(np.float64)
    _, vectors = np.linalg.eigh(gram)  # ascending eigenvalues
    top = vectors[:, -n_components:].astype(np.float32)
    return matrix - (matrix @ top) @ top.T


def magikarp_scores(
    matrix: np.ndarray, reference_ids: np.ndarray, *, n_components: int = 1
) -> np.ndarray:
    """Cosine distance of every row to the mean of the reference (known-unused) rows, after
    removing ``n_components`` principal components ("Fishing for Magikarp", 2024).

    Low values mean "looks like a token the model never trained"; the paper ranks tokens by
    this value and verifies the top of the list by prompting, which toksmith does not do.
    """
    if len(reference_ids) == 0:
        raise UserError(
            "no known-unused tokens to use as reference for the under-trained indicator; "
            "give reference ids (--reference-ids)"
        )
    reduced = remove_principal_components(matrix, n_components)
    mean_unused = reduced[reference_ids].mean(axis=0)
    row_norms = np.linalg.norm(reduced, axis=1)
    denominator = row_norms * float(np.linalg.norm(mean_unused))
    cosine = np.divide(
        reduced @ mean_unused,
        denominator,
        out=np.zeros(len(reduced), dtype=np.float32),
        where=denominator > 0,
    )
    return (1.0 - cosine).astype(np.float64)


def robust_z(values: np.ndarray) -> np.ndarray:
    """Modified z-score ``0.6745 (x - median) / MAD`` (Iglewicz and Hoaglin, 1993)."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    if mad == 0:
        return np.zeros_like(values, dtype=np.float64)
    return 0.6745 * (values - median) / mad


def audit_weights(
    path: str | Path,
    key: str,
    *,
    vocab_size: int,
    reference_ids: np.ndarray,
    n_components: int = 1,
    reference_quantile: float = 0.9,
) -> WeightAudit:
    """Read the matrix ``key`` from ``path`` and compute the weight indicators.

    The matrix must have a row for every token id; extra rows beyond ``vocab_size``
    (vocabularies padded to a multiple of 64 or 128) are ignored and counted. The threshold
    for ``undertrained`` is the ``reference_quantile`` quantile of the reference tokens' own
    scores (0.9 by default: a token is flagged when it sits as close to the unused mean as
    nine in ten known-unused tokens). A deviation from the paper, which picks candidates by
    inspecting the indicator's distribution and then verifies them by prompting the model.
    """
    check_matrix(path, key, vocab_size)
    matrix = load_matrix(path, key)
    rows, _ = matrix.shape
    reference_ids = np.asarray(reference_ids, dtype=np.int64)
    if len(reference_ids) and (reference_ids.min() < 0 or reference_ids.max() >= vocab_size):
        raise UserError(f"reference ids must lie in 0..{vocab_size - 1}")
    matrix = matrix[:vocab_size]
    scores = magikarp_scores(matrix, reference_ids, n_components=n_components)
    norms = np.linalg.norm(matrix, axis=1).astype(np.float64)
    return WeightAudit(
        path=str(path),
        key=key,
        shape=(int(matrix.shape[0]), int(matrix.shape[1])),
        n_components=n_components,
        reference_ids=reference_ids,
        score=scores,
        threshold=float(np.quantile(scores[reference_ids], reference_quantile)),
        reference_quantile=reference_quantile,
        norm=norms,
        norm_z=robust_z(norms),
        padding_rows=rows - vocab_size,
    )
