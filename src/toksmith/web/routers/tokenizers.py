"""The tokenizers a request may name."""

from __future__ import annotations

from fastapi import APIRouter

from toksmith.tokenizers import BUILTINS
from toksmith.tokenizers.fast import builtin_engine
from toksmith.web.models import LOCAL_PREFIX, TokenizerEntry
from toksmith.web.roots import list_tokenizer_files
from toksmith.web.sources import BASELINE
from toksmith.web.state import State

router = APIRouter(tags=["tokenizers"])


@router.get("/api/tokenizers", response_model=list[TokenizerEntry])
def tokenizers(state: State) -> list[TokenizerEntry]:
    """Built-in tokenizers, the whitespace baseline ``ws:``, then tokenizer files under the
    --tokenizers folder."""
    entries = [
        TokenizerEntry(
            name=builtin.name,
            kind="builtin",
            backend=builtin.backend,
            description=builtin.description,
            engine=builtin_engine(builtin.name)[0],
            engine_note=builtin_engine(builtin.name)[1],
        )
        for builtin in BUILTINS
    ]
    entries.append(
        TokenizerEntry(
            name=BASELINE,
            kind="builtin",
            backend="whitespace",
            description="baseline: one token per whitespace-separated word (a reference row)",
            engine_note="vendor: toksmith's own whitespace split",
        )
    )
    for relative in list_tokenizer_files(state.roots.tokenizers):
        entries.append(
            TokenizerEntry(
                name=LOCAL_PREFIX + relative,
                kind="local",
                backend="detected when loaded",
                description=f"{relative} under --tokenizers",
                engine="decided when loaded",
                engine_note="the parity gate runs on first load",
            )
        )
    return entries
