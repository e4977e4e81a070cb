"""Refusals of the service layer that carry a stable code, and how an object id from user
input is read (``object_id``).

The services raise Django's ``ValidationError``; a refusal that is a state conflict (the
object is no longer in a state that allows the verb) or an idempotency key used for another
object carries the code here (``ValidationError.code``), so the API answers 409 with the
right error code without reading the Chinese message. ``replayed`` marks what an idempotent
verb returns again instead of creating it (the API's 200 instead of 201)."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError

CONFLICT = "conflict"
KEY_REUSED = "idempotency_key_reused"


def conflict(message: str) -> ValidationError:
    """The object's state does not allow the verb now (the API's 409 ``conflict``)."""
    return ValidationError(message, code=CONFLICT)


def key_reused() -> ValidationError:
    """The idempotency key was used for another object (409 ``idempotency_key_reused``)."""
    return ValidationError("幂等键已被使用。", code=KEY_REUSED)


def parse_key(value) -> uuid.UUID | None:
    """The idempotency key a form or an API call sent, or None when it sent none."""
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationError("幂等键格式不正确。") from None


_REPLAYED = "_gongwen_replayed"


def replayed(obj):
    """Mark ``obj`` as the first answer of an idempotent verb, returned again (a retry with
    the same key, or a second click that found the work done). The API answers 200 instead
    of 201 for it. Set by the service that found the object, under its lock, so two
    concurrent requests with one key get one 201 and one 200; a check made before the verb
    could not tell them apart."""
    setattr(obj, _REPLAYED, True)
    return obj


def was_replayed(obj) -> bool:
    """Whether an idempotent verb returned ``obj`` again rather than creating it."""
    return bool(getattr(obj, _REPLAYED, False))


def object_id(raw) -> int | None:
    """A primary key from user input (a form field, a URL, a JSON list), or None for a value
    that cannot be one: such a value never reaches the database (a 404 for the user)."""
    if isinstance(raw, bool):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if 0 < value < 2**63 else None
