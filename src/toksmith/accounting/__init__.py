"""What text costs and whether a bill is honest.

One module per job, as tiktoken lays out its files:

- :mod:`~toksmith.accounting.prices`: the model price table, read offline from litellm's wheel
  (or a user file of the same shape), with package, version and snapshot date.
- :mod:`~toksmith.accounting.mapping`: which tokenizer counts a model's tokens (exact or
  estimate), explicit and shown.
- :mod:`~toksmith.accounting.cost`: tokens × USD per token, part by part.
- :mod:`~toksmith.accounting.check`: a claimed count or id sequence against the canonical
  encoding ("Is Your LLM Overcharging You?", Velasco et al. 2025).
- :mod:`~toksmith.accounting.merkle`, :mod:`~toksmith.accounting.coin`,
  :mod:`~toksmith.accounting.embed`: CoIn ("CoIn: Counting the Invisible Reasoning Tokens in
  Commercial Opaque LLM APIs", 2025), provider and auditor.
- :mod:`~toksmith.accounting.calibration`: the audit limit with a certified false-positive
  rate, and exact intervals for rates.
- :mod:`~toksmith.accounting.experiment`: detection rates on inflated stand-in traces.

Nothing is imported here, so ``import toksmith.accounting`` loads no model or table.
"""
