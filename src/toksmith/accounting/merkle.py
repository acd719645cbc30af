"""A Merkle hash tree with inclusion proofs, as Certificate Transparency defines it.

The tree shape, the domain separation and the proofs are those of RFC 6962 / RFC 9162
("Certificate Transparency", sections 2.1.1 and 2.1.3): SHA-256 (hashlib), a leaf hash is
``SHA-256(0x00 || data)`` and a node hash ``SHA-256(0x01 || left || right)``, so a leaf can never be
passed off as a node (second-preimage attacks on the tree); a tree of n leaves splits at the
largest power of two below n. Building level by level and carrying an unpaired last node up
unchanged gives exactly that shape. Verification follows RFC 9162's algorithm step for step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class MerkleTree:
    """All levels of the tree over the given leaf hashes (level 0 = the leaves)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        if not leaf_hashes:
            raise ValueError("a Merkle tree needs at least one leaf")
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])  # unpaired: carried up unchanged
            self.levels.append(above)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index``: sibling hashes from the leaf up to the root."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in a tree of {self.size} leaves")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of
    ``size`` leaves with root ``root`` (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            result = node_hash(sibling, result)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


__all__ = ["MerkleTree", "leaf_hash", "node_hash", "verify_inclusion"]
