"""SentencePiece backend: a ``.model`` protobuf file."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import sentencepiece as spm

from toksmith.errors import UserError
from toksmith.tokenizers.base import Pipeline, Tokenizer, check_special_policy
from toksmith.tokenizers.failures import backend_failure

_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
_WORKERS = max(1, os.cpu_count() or 1)


class SentencePieceTokenizer(Tokenizer):
    """A ``sentencepiece.SentencePieceProcessor`` behind the toksmith interface.

    Not byte-exact: SentencePiece adds a word-boundary marker before the first word and may
    normalize the text, so token bytes describe the normalized text.

    SentencePiece never reads control pieces (``<s>``, ``</s>``, ``[INST]``) from text. Under
    the ``allow`` special-token policy the text is cut at the strings of special and unknown
    pieces, which become those tokens, and every piece of text between them is encoded on its
    own (so each gets SentencePiece's dummy prefix, as HF's ``legacy`` Llama tokenizer does).
    """

    backend = "sentencepiece"
    vendor_attributes = ("processor",)

    def __init__(
        self,
        path: Path,
        *,
        name: str | None = None,
        source: str | None = None,
        special: str = "text",
    ):
        self.special_policy = check_special_policy(special)
        self.processor = spm.SentencePieceProcessor()
        try:
            self.processor.Load(str(path))
        except (OSError, RuntimeError) as error:
            raise UserError(f"{path}: not a SentencePiece model ({error})") from None
        self.path = path
        self.name = name or path.name
        self.source = source or str(path)
        size = self.processor.get_piece_size()
        self._vocab_size = size  # kept when the processor is released
        self._special_ids = frozenset(
            i for i in range(size) if self.processor.is_control(i) or self.processor.is_unused(i)
        )
        self._special_split: re.Pattern[str] | None = None
        if special == "allow":
            names = sorted(self.special_strings(), key=len, reverse=True)
            if names:
                self._special_split = re.compile("|".join(map(re.escape, names)))

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    @property
    def special_ids(self) -> frozenset[int]:
        return self._special_ids

    def encode(self, text: str) -> list[int]:
        try:
            if self._special_split is not None and self._special_split.search(text):
                return self._encode_with_specials(text)
            return self.processor.encode(text)
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, [text]) from None

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        try:
            if self._special_split is None:
                return self.processor.encode(list(texts), num_threads=_WORKERS)
            split = self._special_split
            encoded = self.processor.encode(list(texts), num_threads=_WORKERS)
            for position, text in enumerate(texts):
                if split.search(text):
                    encoded[position] = self._encode_with_specials(text)
            return encoded
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, texts) from None

    def _encode_with_specials(self, text: str) -> list[int]:
        assert self._special_split is not None
        strings = self.special_strings()
        ids: list[int] = []
        start = 0
        for match in self._special_split.finditer(text):
            if match.start() > start:
                ids.extend(self.processor.encode(text[start : match.start()]))
            ids.append(strings[match.group()])
            start = match.end()
        if start < len(text):
            ids.extend(self.processor.encode(text[start:]))
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        try:
            return self.processor.decode(list(ids))
        except BaseException as error:
            raise backend_failure(self.name, "decode", error) from None

    # ---- what features read ---------------------------------------------------------------

    @cached_property
    def unknown_ids(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset(i for i in range(self.vocab_size) if self.processor.is_unknown(i))

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset(i for i in range(self.vocab_size) if self.processor.is_byte(i))

    @cached_property
    def unused_ids(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset(i for i in range(self.vocab_size) if self.processor.is_unused(i))

    @property
    def pattern(self) -> str | None:
        return None  # SentencePiece splits on whitespace inside its model, by no regex

    @property
    def continuation_prefix(self) -> str | None:
        return None

    @property
    def byte_encoding(self) -> str | None:
        return None

    def merges(self) -> list[tuple[bytes, bytes]]:
        raise UserError(
            f"tokenizer {self.name!r} is a SentencePiece model, which has no ordered merge list"
        )

    def token_label(self, token_id: int) -> str | None:
        if 0 <= token_id < self.processor.get_piece_size():
            return str(self.processor.id_to_piece(token_id))
        return None

    def special_strings(self) -> dict[str, int]:
        strings: dict[str, int] = {}
        for token_id in sorted(self._special_ids | self.unknown_ids):
            piece = self.processor.id_to_piece(token_id)
            if piece:
                strings.setdefault(piece, token_id)
        return strings

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

            proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
            proto.ParseFromString(self.path.read_bytes())
            normalizer = proto.normalizer_spec.name or "identity"
            trainer_spec = sentencepiece_model_pb2.TrainerSpec  # type: ignore[attr-defined]
            model_type = trainer_spec.ModelType.Name(proto.trainer_spec.model_type)
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
