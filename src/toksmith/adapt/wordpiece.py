"""A BERT-style WordPiece vocabulary trained here: the new tokenizer for transplanting MiniLM.

A BERT encoder needs what its own tokenizer gives it: lowercasing and accent stripping (MiniLM
is uncased), BERT's pre-tokenizer, ``##`` continuations and ``[CLS] … [SEP]`` around every text.
``toksmith train --algorithm wordpiece`` trains byte-level WordPiece for causal LMs; this
trains the BERT pipeline with the same HF ``tokenizers`` trainer, so a transplanted MiniLM
is fed exactly as the original is.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def train_bert_wordpiece(texts: Iterable[str], vocab_size: int, *, min_frequency: int = 2) -> str:
    """The ``tokenizer.json`` text of an uncased BERT WordPiece tokenizer of ``vocab_size``
    ids trained on ``texts``."""
    tokenizer = HFTokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=None)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(BERT_SPECIALS),
        continuing_subword_prefix="##",
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return tokenizer.to_str(pretty=True)
