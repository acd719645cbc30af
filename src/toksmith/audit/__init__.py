"""Auditing a vocabulary: problem tokens, language coverage, morphology, numbers, characters.

Import the feature modules directly (``toksmith.audit.vocab``, ``.weights``, ``.coverage``,
``.morphology``, ``.numbers``, ``.chars``); this package file stays empty so that importing one
audit never loads the others.
"""
