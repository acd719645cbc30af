"""HF `tokenizers` backend: a ``tokenizer.json`` file or a model folder holding one."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache, cached_property
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer as HFTokenizer

from toksmith.errors import UserError
from toksmith.tokenizers.base import Pipeline, Tokenizer, check_special_policy, split_ids
from toksmith.tokenizers.failures import backend_errors, backend_failure

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


def byte_level_stage() -> dict:
    """The ``ByteLevel`` pre-tokenizer or decoder entry of a tokenizer.json as GPT-2 uses it: no
    prefix space, offsets trimmed, no regex of its own (a ``Split`` stage before it splits)."""
    return {
        "type": "ByteLevel",
        "add_prefix_space": False,
        "trim_offsets": True,
        "use_regex": False,
    }


def split_stage(regex: str) -> dict:
    """The ``Split`` pre-tokenizer entry of a tokenizer.json that isolates each match of
    ``regex``."""
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


@cache
def _byte_level_tables() -> tuple[dict[int, int], re.Pattern[str]]:
    """A ``str.translate`` table from stand-in characters to the code points of their bytes
    (so ``.encode("latin-1")`` gives the bytes), and a regex finding any other character."""
    alphabet = byte_level_alphabet()
    table = {ord(char): byte for char, byte in alphabet.items()}
    not_stand_in = re.compile("[^" + "".join(re.escape(char) for char in alphabet) + "]")
    return table, not_stand_in


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


# The GPT-2 pre-tokenization regex: what an HF ByteLevel pre-tokenizer with use_regex splits by.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# The regex of HF's Whitespace pre-tokenizer.
WHITESPACE_PATTERN = r"\w+|[^\w\s]+"


class HFJsonTokenizer(Tokenizer):
    """An HF ``tokenizers.Tokenizer`` read from ``tokenizer.json``."""

    backend = "hf"
    vendor_attributes = ("hf", "config", "_model", "_id_to_token")
    vendor_caches = (*Tokenizer.vendor_caches, "_merges")

    def __init__(
        self,
        config: dict,
        *,
        name: str,
        source: str,
        special: str = "text",
        config_text: str | None = None,
    ) -> None:
        """``config_text``, when given, is the JSON text ``config`` was parsed from: HF reads it
        as it is, which saves writing the parsed file back to JSON (a third of the load time
        of a 6 MB tokenizer.json)."""
        self.special_policy = check_special_policy(special)
        _validate_regexes(config, source)
        try:
            with backend_errors(name, "load"):
                self.hf = HFTokenizer.from_str(
                    config_text if config_text is not None else json.dumps(config)
                )
        except UserError:
            raise
        except Exception as error:  # the Rust side raises a plain Exception
            raise UserError(f"{source}: HF tokenizers cannot load it ({error})") from None
        # Counting must see every token: a saved padding or truncation setting would hide some.
        self.hf.no_padding()
        self.hf.no_truncation()
        # Under the "text" policy "<|endoftext|>" typed by a user is not a control token;
        # under "allow" it is, as HF tokenizers does by default.
        self.hf.encode_special_tokens = special == "text"
        self.config = config
        self.name = name
        self.source = source
        model = config.get("model") or {}
        self._model = model
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
        added = config.get("added_tokens", [])
        self._special_ids = frozenset(token["id"] for token in added if token.get("special"))
        self._special_strings = {
            str(token["content"]): int(token["id"]) for token in added if token.get("special")
        }
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
        fast = self._fast_batch_numpy([text])
        if fast is not None:
            return [int(i) for i in fast[0]]
        try:
            return self.hf.encode(text, add_special_tokens=False).ids
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, [text]) from None

    def _encodings(self, texts: Sequence[str]) -> list:
        # encode_batch_fast (tokenizers >= 0.20) skips the offsets nothing here reads.
        try:
            return self.hf.encode_batch_fast(list(texts), add_special_tokens=False)
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, texts) from None

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        fast = self._fast_batch_numpy(texts)
        if fast is not None:
            return split_ids(*fast)
        return [e.ids for e in self._encodings(texts)]

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        fast = self._fast_batch_numpy(texts)
        if fast is not None:
            return fast
        return self.vendor_batch_numpy(texts)

    def vendor_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode_batch_numpy` by HF ``tokenizers`` itself (the parity reference)."""
        encodings = self._encodings(texts)
        lengths = np.fromiter(map(len, encodings), dtype=np.int64, count=len(encodings))
        flat = np.fromiter(
            chain.from_iterable(e.ids for e in encodings), dtype=np.int64, count=int(lengths.sum())
        )
        return flat, lengths

    def build_fast_engine(self) -> Any:
        """A fastokens engine for this tokenizer.json, or None (see :mod:`.fast`)."""
        from toksmith.tokenizers.fast import hf_engine

        return hf_engine(self.config, special=self.special_policy)

    def parity_key(self) -> str:
        """A hash of what the encoding depends on: the tokenizer.json and the special policy."""
        import hashlib

        text = json.dumps(self.config, sort_keys=True, ensure_ascii=False)
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16)
        digest.update(self.special_policy.encode())
        return digest.hexdigest()

    def decode(self, ids: Sequence[int]) -> str:
        try:
            return self.hf.decode(list(ids), skip_special_tokens=False)
        except BaseException as error:
            raise backend_failure(self.name, "decode", error) from None

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
        return self._piece_bytes(token)

    def _piece_bytes(self, token: str) -> bytes:
        """The bytes a vocabulary string (or one side of a merge) stands for."""
        if self.is_byte_level:
            table, not_stand_in = _byte_level_tables()
            if not_stand_in.search(token) is None:
                return token.translate(table).encode("latin-1")
            return token.encode("utf-8")  # an added token stored as plain text
        if self.is_wordpiece:
            return token.encode("utf-8")
        match = _BYTE_FALLBACK_PIECE.match(token)
        if match:
            return bytes([int(match.group(1), 16)])
        return token.replace(METASPACE, " ").encode("utf-8")

    # ---- what features read ---------------------------------------------------------------

    @cached_property
    def unknown_ids(self) -> frozenset[int]:  # type: ignore[override]
        ids = set()
        unk = self._model.get("unk_token")
        unk_token_id = self.hf.token_to_id(unk) if isinstance(unk, str) else None
        if unk_token_id is not None:
            ids.add(unk_token_id)
        unk_id = self._model.get("unk_id")  # Unigram
        if self._model.get("type") == "Unigram" and isinstance(unk_id, int):
            ids.add(unk_id)
        return frozenset(ids)

    @cached_property
    def byte_fallback_ids(self) -> frozenset[int]:  # type: ignore[override]
        if not self._model.get("byte_fallback"):
            return frozenset()
        return frozenset(
            token_id
            for token_id, token in self._id_to_token.items()
            if token_id not in self._special_ids and _BYTE_FALLBACK_PIECE.match(token)
        )

    @property
    def unused_ids(self) -> frozenset[int]:
        return frozenset()

    @cached_property
    def pattern(self) -> str | None:  # type: ignore[override]
        return _pre_tokenizer_pattern(self.config.get("pre_tokenizer"))

    @property
    def continuation_prefix(self) -> str | None:
        return (self.continuing_prefix or None) if self.is_wordpiece else None

    @property
    def byte_encoding(self) -> str | None:
        return "gpt2" if self.is_byte_level else None

    def merges(self) -> list[tuple[bytes, bytes]]:
        return list(self._merges)

    @cached_property
    def _merges(self) -> tuple[tuple[bytes, bytes], ...]:
        kind = self._model.get("type", "?")
        if kind != "BPE":
            raise UserError(f"tokenizer {self.name!r} is a {kind} model, which has no merge list")
        merges = []
        for entry in self._model.get("merges") or []:
            left, right = entry.split(" ", 1) if isinstance(entry, str) else entry
            merges.append((self._piece_bytes(left), self._piece_bytes(right)))
        return tuple(merges)

    def token_label(self, token_id: int) -> str | None:
        return self._id_to_token.get(token_id)

    def normalizer_spec(self) -> dict[str, Any] | None:
        return self.config.get("normalizer") or None

    def pre_tokenizer_spec(self) -> dict[str, Any] | None:
        return self.config.get("pre_tokenizer") or None

    def pre_tokens(self, text: str) -> list[bytes]:
        normalizer = self.hf.normalizer
        pre_tokenizer = self.hf.pre_tokenizer
        try:
            if normalizer is not None:
                text = normalizer.normalize_str(text)
            if pre_tokenizer is None:
                pieces = [text]
            else:
                pieces = [piece for piece, _ in pre_tokenizer.pre_tokenize_str(text)]
        except BaseException as error:
            raise backend_failure(self.name, "pre-tokenize", error, [text]) from None
        if self.is_byte_level:
            alphabet = byte_level_alphabet()
            return [bytes(alphabet[char] for char in piece) for piece in pieces]
        return [piece.encode("utf-8") for piece in pieces]

    def special_strings(self) -> dict[str, int]:
        return dict(self._special_strings)

    def pipeline(self) -> Pipeline:
        model = self.config.get("model") or {}
        return Pipeline(
            normalizer=_stage_name(self.config.get("normalizer")),
            pre_tokenizer=_stage_name(self.config.get("pre_tokenizer")),
            model=str(model.get("type", "?")),
            decoder=_stage_name(self.config.get("decoder")),
        )


def _pre_tokenizer_pattern(stage: dict | None) -> str | None:
    """The first regex a pre-tokenizer splits by: a Split pattern, or the GPT-2 pattern of a
    ByteLevel pre-tokenizer with ``use_regex``, or HF's Whitespace regex."""
    if not stage:
        return None
    kind = stage.get("type")
    if kind == "Split":
        pattern = stage.get("pattern") or {}
        if "Regex" in pattern:
            return str(pattern["Regex"])
        if "String" in pattern:
            return re.escape(str(pattern["String"]))
    if kind == "ByteLevel" and stage.get("use_regex", True):
        return GPT2_PATTERN
    if kind == "Whitespace":
        return WHITESPACE_PATTERN
    for sub in stage.get("pretokenizers", []) or []:
        found = _pre_tokenizer_pattern(sub)
        if found is not None:
            return found
    return None


def _stage_regexes(stage: object) -> list[str]:
    """Every ``{"Regex": ...}`` pattern inside a pipeline stage (Split, Replace, nested)."""
    found: list[str] = []
    if isinstance(stage, dict):
        for key, value in stage.items():
            if key == "Regex" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_stage_regexes(value))
    elif isinstance(stage, list):
        for item in stage:
            found.extend(_stage_regexes(item))
    return found


def _validate_regexes(config: dict, source: str) -> None:
    """Compile and trial every regex of the normalizer and pre-tokenizer (see validate.py)."""
    from toksmith.tokenizers.validate import validate_pattern

    for key in ("normalizer", "pre_tokenizer"):
        for pattern in dict.fromkeys(_stage_regexes(config.get(key))):
            validate_pattern(pattern, f"{source} ({key.replace('_', '-')})")


def _adds_prefix_space(stage: dict | None) -> bool:
    if not stage:
        return False
    if stage.get("add_prefix_space") or stage.get("prepend_scheme") in ("always", "first"):
        return True
    return any(_adds_prefix_space(sub) for sub in stage.get("pretokenizers", []) or [])


def load_hf_json(
    path: Path, *, name: str | None = None, source: str | None = None, special: str = "text"
) -> Tokenizer:
    """Load an HF ``tokenizer.json``; a folder is read through the ``tokenizer.json`` inside."""
    if path.is_dir():
        path = path / "tokenizer.json"
    try:
        text = path.read_text(encoding="utf-8")
        config = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: not a readable tokenizer.json ({error})") from None
    if not isinstance(config, dict) or "model" not in config:
        raise UserError(f"{path}: JSON without a 'model' entry is not an HF tokenizer.json")
    default_name = path.parent.name if path.name == "tokenizer.json" else path.stem
    return HFJsonTokenizer(
        config,
        name=name or default_name,
        source=source or str(path),
        special=special,
        config_text=text,
    )


HUB_PROBE_TIMEOUT_S = 1.5


def load_hf_hub(repo_id: str, special: str = "text") -> Tokenizer:
    """Load ``tokenizer.json`` of a hub repository from the local HF cache, else the hub.

    Offline and not cached, this fails at once with one message: with ``HF_HUB_OFFLINE`` set
    the hub is not tried, and otherwise one connection attempt (at most
    :data:`HUB_PROBE_TIMEOUT_S`) decides before huggingface_hub, which would retry for about
    24 s and log every retry, is called.
    """
    cached = _find_in_hf_cache(repo_id)
    if cached is not None:
        return load_hf_json(
            cached, name=repo_id, source=f"hf:{repo_id} (cache {cached})", special=special
        )
    unreachable = (
        f"hf:{repo_id}: not in the local HF cache and the hub cannot be reached "
        "({why}); download it once while online or pass a file path"
    )
    if _hub_offline():
        raise UserError(unreachable.format(why="HF_HUB_OFFLINE is set"))
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise UserError(
            f"hf:{repo_id} is not in the local HF cache and huggingface_hub is not installed "
            "(pip install 'toksmith[hub]')"
        ) from None
    problem = _hub_unreachable()
    if problem is not None:
        raise UserError(unreachable.format(why=problem))
    import logging

    hub_logger = logging.getLogger("huggingface_hub")
    level = hub_logger.level
    hub_logger.setLevel(logging.ERROR)  # no "Retrying in 1s" lines for a flaky connection
    try:
        downloaded = hf_hub_download(repo_id, "tokenizer.json")
    except Exception as error:  # network and missing-repository errors come in many types
        raise UserError(unreachable.format(why=type(error).__name__)) from None
    finally:
        hub_logger.setLevel(level)
    return load_hf_json(Path(downloaded), name=repo_id, source=f"hf:{repo_id}", special=special)


def _hub_offline() -> bool:
    import os

    value = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def _hub_unreachable() -> str | None:
    """Why the hub cannot be reached (one connection attempt), or None when it can."""
    import os
    import socket
    from urllib.parse import urlsplit

    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        connection = socket.create_connection((host, port), timeout=HUB_PROBE_TIMEOUT_S)
    except OSError as error:
        return f"{host}: {error.strerror or type(error).__name__}"
    connection.close()
    return None


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
