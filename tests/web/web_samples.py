"""Sample data shared by the web tests (a module of its own: every test folder has a
``conftest``, so importing constants from one would be ambiguous)."""

from __future__ import annotations

PARALLEL = {
    "eng": ["All human beings are born free.", "Everyone has the right to life.", "No slavery."],
    "fra": [
        "Tous les êtres humains naissent libres.",
        "Tout individu a droit à la vie.",
        "Nul ne sera tenu en esclavage.",
    ],
    "rus": [
        "Все люди рождаются свободными.",
        "Каждый человек имеет право на жизнь.",
        "Никто не должен содержаться в рабстве.",
    ],
}
SECRET = "top secret: outside every started folder"
# One row with many unknown tokens, and the warning compare writes for it.
UNKNOWN_SHARE = {("beta", "rus"): 0.12}
NOTE = "beta: 12% of the tokens are unknown in rus; its counts there flatter it"


def compare_json() -> dict:
    """A compare result in the documented JSON shape, with a premium per language."""
    rows = []
    for tokenizer, scale in (("alpha", 1.0), ("beta", 1.3)):
        for language, premium in (("eng", 1.0), ("fra", 1.2), ("rus", 1.9)):
            tokens = int(100 * premium * scale)
            rows.append(
                {
                    "tokenizer": tokenizer, "language": language, "tokens": tokens,
                    "bytes": 400, "chars": 380, "words": 80, "bytes_per_token": 400 / tokens,
                    "chars_per_token": 380 / tokens, "fertility": tokens / 80,
                    "continued_word_ratio": 0.2, "premium": premium,
                    "vocab_utilization": 0.01, "renyi_efficiency": 0.4,
                    "partial_char_token_ratio": 0.0,
                    "unknown_token_ratio": UNKNOWN_SHARE.get((tokenizer, language), 0.0),
                    "byte_fallback_ratio": 0.0, "premium_median": premium,
                    "premium_q1": round(premium * 0.9, 3), "premium_q3": round(premium * 1.1, 3),
                    "premium_ci_low": round(premium * 0.95, 3),
                    "premium_ci_high": round(premium * 1.05, 3),
                }
            )  # fmt: skip
    tokenizers = [
        {"name": name, "backend": "hf", "vocab_size": 1000, "source": "test"}
        for name in ("alpha", "beta")
    ]
    return {"tokenizers": tokenizers, "reference": "eng", "notes": [NOTE], "results": rows}
