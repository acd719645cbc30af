"""The playground's messages mode: a conversation counted by several tokenizers, each as its
model family formats it (:mod:`toksmith.chat`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from toksmith.chat import chat_format_for, count_messages, parse_conversations
from toksmith.errors import UserError
from toksmith.tokenizers import unique_names
from toksmith.web.errors import ApiError, backend_failure
from toksmith.web.guards import MAX_PLAYGROUND_TOKENIZERS, checked_text
from toksmith.web.models import ERRORS, LOCAL_PREFIX
from toksmith.web.sources import load_requested, tokenizer_spec
from toksmith.web.state import State

router = APIRouter(tags=["tokenizers"])
SOURCE = "<messages>"  # how errors name the text: "messages, line 3, message 2: ..."


class MessagesRequest(BaseModel):
    text: str = Field(
        description='One conversation as JSON: a list of {"role", "content"} messages (roles '
        'system, user, assistant; optional "name"), or {"messages": [...]}; at most 1 MB'
    )
    tokenizers: list[str] = Field(
        min_length=1,
        max_length=MAX_PLAYGROUND_TOKENIZERS,
        description="Built-in names (GET /api/tokenizers) or "
        f"'{LOCAL_PREFIX}<path under --tokenizers>'",
    )


class MessagesResult(BaseModel):
    requested: str
    name: str
    format: str | None = Field(description="The chat format used; null when there is none")
    format_description: str | None
    content_tokens: int | None = Field(description="The message contents, each encoded alone")
    overhead_tokens: int | None = Field(description="total - content: roles, headers, priming")
    total_tokens: int | None = Field(description="The formatted conversation, ready for a reply")
    error: str | None = Field(
        description="Why this tokenizer has no count (no known chat format, or its format "
        "refuses the conversation); the counts are null then"
    )


class MessagesResponse(BaseModel):
    messages: int
    results: list[MessagesResult]


@router.post("/api/messages", response_model=MessagesResponse, responses=ERRORS)
def count_conversation(request: MessagesRequest, state: State) -> MessagesResponse:
    """Content tokens, template overhead and total of the conversation for each tokenizer.

    A conversation that is not valid is a 422 naming the line and message; a tokenizer without
    a known chat format (or whose format refuses the conversation) gets its own ``error``.
    """
    text = checked_text(request.text)
    try:
        [conversation] = parse_conversations(text, SOURCE, jsonl=False)
    except UserError as error:
        raise ApiError(str(error), 422) from None
    names = list(dict.fromkeys(request.tokenizers))
    loaded = [load_requested(name, tokenizer_spec(name, state.roots)) for name in names]
    results = []
    for requested, tokenizer in zip(names, unique_names(loaded), strict=True):
        try:
            with backend_failure(f"tokenizer {requested!r} on these messages"):
                chat_format = chat_format_for(tokenizer)
                [row] = count_messages([tokenizer], [conversation], formats=[chat_format]).results
        except ApiError as error:
            results.append(
                MessagesResult(
                    requested=requested,
                    name=tokenizer.name,
                    format=None,
                    format_description=None,
                    content_tokens=None,
                    overhead_tokens=None,
                    total_tokens=None,
                    error=state.roots.hide(str(error)),
                )
            )
            continue
        results.append(
            MessagesResult(
                requested=requested,
                name=tokenizer.name,
                format=row.format,
                format_description=state.roots.hide(chat_format.description),
                content_tokens=row.content_tokens,
                overhead_tokens=row.overhead_tokens,
                total_tokens=row.total_tokens,
                error=None,
            )
        )
    return MessagesResponse(messages=len(conversation.messages), results=results)
