"""SentencePiece backend: a ``.model`` protobuf file."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import sentencepiece as spm

from toksmith.errors import UserError
from toksmith.tokenizers.base import Pipeline, Tokenizer

_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
_WORKERS = max(1, os.cpu_count() or 1)


class SentencePieceTokenizer(Tokenizer):
    """A ``sentencepiece.SentencePieceProcessor`` behind the toksmith interface.

    Not byte-exact: SentencePiece adds a word-boundary marker before the first word and may
    normalize the text, so token bytes describe the normalized text.
    """

    backend = "sentencepiece"

    def __init__(self, path: Path, *, name: str | None = None, source: str | None = None):
        self.processor = spm.SentencePieceProcessor()
        try:
            self.processor.Load(str(path))
        except (OSError, RuntimeError) as error:
            raise UserError(f"{path}: not a SentencePiece model ({error})") from None
        self.path = path
        self.name = name or path.name
        self.source = source or str(path)
        size = self.processor.get_piece_size()
        self._special_ids = frozenset(
            i for i in range(size) if self.processor.is_control(i) or self.processor.is_unused(i)
        )

    @property
    def vocab_size(self) -> int:
        return self.processor.get_piece_size()

    @property
    def special_ids(self) -> frozenset[int]:
        return self._special_ids

    def encode(self, text: str) -> list[int]:
        return self.processor.encode(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.processor.encode(list(texts), num_threads=_WORKERS)

    def decode(self, ids: Sequence[int]) -> str:
        return self.processor.decode(list(ids))

    def token_bytes(self, token_id: int) -> bytes:
        if token_id in self._special_ids:
            return b""
        piece = self.processor.id_to_piece(token_id)
        if self.processor.is_byte(token_id):
            match = _BYTE_PIECE.match(piece)
            if match:
                return bytes([int(match.group(1), 16)])
        if self.processor.is_unknown(token_id):
            return b""
        return piece.replace("\u2581", " ").encode("utf-8")

    def pipeline(self) -> Pipeline:
        normalizer, model_type, notes = "?", "?", []
        try:
            from sentencepiece import sentencepiece_model_pb2

            proto = sentencepiece_model_pb2.ModelProto()
            proto.ParseFromString(self.path.read_bytes())
            normalizer = proto.normalizer_spec.name or "identity"
            model_type = sentencepiece_model_pb2.TrainerSpec.ModelType.Name(
                proto.trainer_spec.model_type
            )
            if proto.normalizer_spec.add_dummy_prefix:
                notes.append("adds a dummy prefix space")
            if proto.trainer_spec.byte_fallback:
                notes.append("byte fallback")
        except Exception:  # protobuf missing or an old proto: describe what we can
            notes.append("model details unavailable (protobuf could not parse the file)")
        return Pipeline(
            normalizer=normalizer,
            pre_tokenizer="whitespace to \u2581 (Metaspace)",
            model=f"SentencePiece {model_type}",
            decoder="\u2581 to space, byte pieces to bytes",
            notes=tuple(notes),
        )
