"""Chat messages counted as the model APIs count them: read a conversation file, format each
conversation as each tokenizer's model family does, count content, overhead and total."""

from toksmith.chat.count import (
    ChatTokenizerInfo,
    MessageCount,
    MessageCountResult,
    MessageTotal,
    chat_formats,
    count_messages,
)
from toksmith.chat.formats import ChatFormat, chat_format_for
from toksmith.chat.messages import (
    ROLES,
    Conversation,
    Message,
    parse_conversations,
    read_conversations,
)

__all__ = [
    "ROLES",
    "ChatFormat",
    "ChatTokenizerInfo",
    "Conversation",
    "Message",
    "MessageCount",
    "MessageCountResult",
    "MessageTotal",
    "chat_format_for",
    "chat_formats",
    "count_messages",
    "parse_conversations",
    "read_conversations",
]
