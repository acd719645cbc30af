"""HF `tokenizers` backend: a ``tokenizer.json`` file or a model folder holding one."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from itertools import chain
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer as HFTokenizer

from toksmith.errors import UserError
from toksmith.tokenizers.base import Pipeline, Tokenizer

_BYTE_FALLBACK_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
METASPACE = "\u2581"


@cache
def byte_level_alphabet() -> dict[str, int]:
    """The printable stand-in character of each byte in GPT-2 style byte-level BPE."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    stand_in = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in stand_in:
            stand_in[byte] = chr(256 + extra)
            extra += 1
    return {char: byte for byte, char in stand_in.items()}


def _stage_name(stage: dict | None) -> str:
    """A readable name for one pipeline stage of a tokenizer.json (``Sequence[A, B]``)."""
    if not stage:
        return "none"
    kind = stage.get("type", "?")
    for key in ("normalizers", "pretokenizers", "decoders", "processors"):
        if key in stage:
            return f"{kind}[{', '.join(_stage_name(s) for s in stage[key])}]"
    return kind


def _stage_types(stage: dict | None) -> set[str]:
    if not stage:
        return set()
    types = {stage.get("type", "")}
    for key in ("normalizers", "pretokenizers", "decoders"):
        for sub in stage.get(key, []) or []:
            types |= _stage_types(sub)
    return types


class HFJsonTokenizer(Tokenizer):
    """An HF ``tokenizers.Tokenizer`` read from ``tokenizer.json``."""

    backend = "hf"

    def __init__(self, config: dict, *, name: str, source: str) -> None:
        try:
            self.hf = HFTokenizer.from_str(json.dumps(config))
        except Exception as error:  # the Rust side raises a plain Exception
            raise UserError(f"{source}: HF tokenizers cannot load it ({error})") from None
        # Counting must see every token: a saved padding or truncation setting would hide some.
        self.hf.no_padding()
        self.hf.no_truncation()
        # Plain text is encoded as text: "<|endoftext|>" typed by a user is not a control token.
        self.hf.encode_special_tokens = True
        self.config = config
        self.name = name
        self.source = source
        model = config.get("model") or {}
        decoder_types = _stage_types(config.get("decoder"))
        pre_types = _stage_types(config.get("pre_tokenizer"))
        self.is_byte_level = "ByteLevel" in decoder_types or "ByteLevel" in pre_types
        self.is_wordpiece = model.get("type") == "WordPiece"
        self.continuing_prefix = model.get("continuing_subword_prefix", "##") or ""
        self.byte_exact = (
            self.is_byte_level
            and not (_stage_types(config.get("normalizer")) - {"Sequence"})
            and not _adds_prefix_space(config.get("pre_tokenizer"))
        )
        self._special_ids = frozenset(
            token["id"] for token in config.get("added_tokens", []) if token.get("special")
        )
        self._vocab_size = self.hf.get_vocab_size(with_added_tokens=True)
        id_to_token = {}
        for token, token_id in self.hf.get_vocab(with_added_tokens=True).items():
            id_to_token[token_id] = token
        self._id_to_token = id_to_token
        self._vocab_size = max(self._vocab_size, max(id_to_token, default=-1) + 1)

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    @property
    def special_ids(self) -> frozenset[int]:
        return self._special_ids

    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False).ids

    def _encodings(self, texts: Sequence[str]) -> list:
        # encode_batch_fast (tokenizers >= 0.20) skips the offsets nothing here reads.
        encode_fast = getattr(self.hf, "encode_batch_fast", self.hf.encode_batch)
        return encode_fast(list(texts), add_special_tokens=False)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._encodings(texts)]

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encodings = self._encodings(texts)
        lengths = np.fromiter(map(len, encodings), dtype=np.int64, count=len(encodings))
        flat = np.fromiter(
            chain.from_iterable(e.ids for e in encodings), dtype=np.int64, count=int(lengths.sum())
        )
        return flat, lengths

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=False)

    def token_bytes(self, token_id: int) -> bytes:
        if token_id in self._special_ids:
            return b""
        token = self._id_to_token.get(token_id)
        if token is None:
            return b""
        if (
            self.is_wordpiece
            and self.continuing_prefix
            and token.startswith(self.continuing_prefix)
        ):
            token = token[len(self.continuing_prefix) :]
        if self.is_byte_level:
            alphabet = byte_level_alphabet()
            if all(char in alphabet for char in token):
                return bytes(alphabet[char] for char in token)
            return token.encode("utf-8")  # an added token stored as plain text
        if self.is_wordpiece:
            return token.encode("utf-8")
        match = _BYTE_FALLBACK_PIECE.match(token)
        if match:
            return bytes([int(match.group(1), 16)])
        return token.replace(METASPACE, " ").encode("utf-8")

    def pipeline(self) -> Pipeline:
        model = self.config.get("model") or {}
        return Pipeline(
            normalizer=_stage_name(self.config.get("normalizer")),
            pre_tokenizer=_stage_name(self.config.get("pre_tokenizer")),
            model=str(model.get("type", "?")),
            decoder=_stage_name(self.config.get("decoder")),
        )


def _adds_prefix_space(stage: dict | None) -> bool:
    if not stage:
        return False
    if stage.get("add_prefix_space") or stage.get("prepend_scheme") in ("always", "first"):
        return True
    return any(_adds_prefix_space(sub) for sub in stage.get("pretokenizers", []) or [])


def load_hf_json(path: Path, *, name: str | None = None, source: str | None = None) -> Tokenizer:
    """Load an HF ``tokenizer.json``; a folder is read through the ``tokenizer.json`` inside."""
    if path.is_dir():
        path = path / "tokenizer.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: not a readable tokenizer.json ({error})") from None
    if not isinstance(config, dict) or "model" not in config:
        raise UserError(f"{path}: JSON without a 'model' entry is not an HF tokenizer.json")
    default_name = path.parent.name if path.name == "tokenizer.json" else path.stem
    return HFJsonTokenizer(config, name=name or default_name, source=source or str(path))


def load_hf_hub(repo_id: str) -> Tokenizer:
    """Load ``tokenizer.json`` of a hub repository from the local HF cache, else the hub.

    Offline and not cached, this fails with a message saying so rather than hanging.
    """
    cached = _find_in_hf_cache(repo_id)
    if cached is not None:
        return load_hf_json(cached, name=repo_id, source=f"hf:{repo_id} (cache {cached})")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise UserError(
            f"hf:{repo_id} is not in the local HF cache and huggingface_hub is not installed "
            "(pip install 'toksmith[hub]')"
        ) from None
    try:
        downloaded = hf_hub_download(repo_id, "tokenizer.json")
    except Exception as error:  # network errors come in many types
        raise UserError(
            f"hf:{repo_id}: not in the local HF cache and the hub cannot be reached "
            f"({type(error).__name__}); download it once while online or pass a file path"
        ) from None
    return load_hf_json(Path(downloaded), name=repo_id, source=f"hf:{repo_id}")


def _find_in_hf_cache(repo_id: str) -> Path | None:
    import os

    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    hub = Path(os.environ.get("HF_HUB_CACHE", home / "hub"))
    folder = hub / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    if not folder.is_dir():
        return None
    for snapshot in sorted(folder.iterdir(), reverse=True):
        candidate = snapshot / "tokenizer.json"
        if candidate.is_file():
            return candidate
    return None
