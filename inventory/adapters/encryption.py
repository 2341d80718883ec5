"""Encryption at rest: a start-up check that this process reads the log it was pointed at.

AES-GCM authenticates what it decrypts, so the wrong key never yields garbage: reading fails. This
check makes that failure happen at start-up, with a message that says what to fix, rather than in
the middle of the first request that reads an event.
"""

from __future__ import annotations

from typing import Any

from inventory.domain.errors import InvalidInput


class WrongCipherKey(InvalidInput):
    code = "wrong_cipher_key"


def check_cipher_key(app: Any, *, encrypted: bool) -> None:
    """Decode the log's first event, or explain why it cannot be: the wrong key, or none for an encrypted log."""
    try:
        first = app.recorder.select_notifications(start=1, limit=1)
    except Exception:  # no tables yet (a web worker before `inventory init`): nothing to check
        return
    if not first:
        return
    try:
        app.mapper.to_domain_event(first[0])
    except Exception as error:
        if encrypted:
            raise WrongCipherKey(
                "INVENTORY_CIPHER_KEY does not decrypt this database's events: it is not the key they were "
                "written with, or they were written without encryption. Start with the key they were written "
                "with; nothing has been changed."
            ) from error
        raise WrongCipherKey(
            "This database's events cannot be read without a key: they were written encrypted. "
            "Set INVENTORY_CIPHER_KEY to the key they were written with; nothing has been changed."
        ) from error
