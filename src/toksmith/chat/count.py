"""Counting conversations per tokenizer, as each model family formats them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from toksmith.chat.formats import ChatFormat, chat_format_for
from toksmith.chat.messages import Conversation
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer


@dataclass
class ChatTokenizerInfo(Result):
    """A tokenizer and the chat format its conversations are counted with."""

    name: str
    backend: str
    vocab_size: int
    source: str
    format: str
    format_description: str


@dataclass
class MessageCount(Result):
    """One conversation counted by one tokenizer.

    ``content_tokens`` is the sum of each message's content encoded alone, as ``count`` counts
    a text; ``total_tokens`` is what the model reads for the formatted conversation, ready for
    its reply; ``overhead_tokens`` is the difference: roles, headers, control tokens and the
    reply priming (it can be below the header count where the format's joins merge with the
    text, e.g. a SentencePiece word boundary).
    """

    tokenizer: str
    conversation: int  # 1-based position in the file
    line: int
    messages: int
    content_tokens: int
    overhead_tokens: int
    total_tokens: int
    format: str


@dataclass
class MessageTotal(Result):
    """All conversations of the file, per tokenizer."""

    tokenizer: str
    conversations: int
    messages: int
    content_tokens: int
    overhead_tokens: int
    total_tokens: int
    format: str


@dataclass
class MessageCountResult(Result):
    """Every tokenizer × conversation, the totals per tokenizer and the formats used."""

    file: str
    tokenizers: list[ChatTokenizerInfo]
    results: list[MessageCount]
    totals: list[MessageTotal]
    notes: list[str] = field(default_factory=list)


def chat_formats(tokenizers: Sequence[Tokenizer]) -> list[ChatFormat]:
    """The chat format of each tokenizer; the first one without a known format is a UserError
    (raised before anything is counted)."""
    return [chat_format_for(tokenizer) for tokenizer in tokenizers]


def count_messages(
    tokenizers: Sequence[Tokenizer],
    conversations: Sequence[Conversation],
    *,
    formats: Sequence[ChatFormat] | None = None,
    notes: Sequence[str] = (),
) -> MessageCountResult:
    """Content tokens, template overhead and total tokens of every conversation for every
    tokenizer, each formatted as its model family formats it (see
    :mod:`toksmith.chat.formats`). ``formats`` (one per tokenizer) skips the format lookup when
    the caller already made it."""
    chosen = list(formats) if formats is not None else chat_formats(tokenizers)
    results: list[MessageCount] = []
    totals: list[MessageTotal] = []
    for tokenizer, chat_format in zip(tokenizers, chosen, strict=True):
        rows = [_count_one(tokenizer, chat_format, conversation) for conversation in conversations]
        results.extend(rows)
        totals.append(
            MessageTotal(
                tokenizer=tokenizer.name,
                conversations=len(rows),
                messages=sum(row.messages for row in rows),
                content_tokens=sum(row.content_tokens for row in rows),
                overhead_tokens=sum(row.overhead_tokens for row in rows),
                total_tokens=sum(row.total_tokens for row in rows),
                format=chat_format.name,
            )
        )
    infos = [
        ChatTokenizerInfo(
            name=tokenizer.name,
            backend=tokenizer.backend,
            vocab_size=tokenizer.vocab_size,
            source=tokenizer.source,
            format=chat_format.name,
            format_description=chat_format.description,
        )
        for tokenizer, chat_format in zip(tokenizers, chosen, strict=True)
    ]
    files = list(dict.fromkeys(conversation.source for conversation in conversations))
    return MessageCountResult(
        file=", ".join(files), tokenizers=infos, results=results, totals=totals, notes=list(notes)
    )


def _count_one(
    tokenizer: Tokenizer, chat_format: ChatFormat, conversation: Conversation
) -> MessageCount:
    contents = [message.content for message in conversation.messages]
    content_tokens = sum(len(ids) for ids in tokenizer.encode_batch(contents))
    total = chat_format.total_tokens(conversation)
    return MessageCount(
        tokenizer=tokenizer.name,
        conversation=conversation.index,
        line=conversation.line,
        messages=len(conversation.messages),
        content_tokens=content_tokens,
        overhead_tokens=total - content_tokens,
        total_tokens=total,
        format=chat_format.name,
    )
