"""Generic input validation: collect errors per field; clean free text (limits, control
characters, Trojan-Source bidi controls)."""

from __future__ import annotations

import unicodedata

from remit.core.errors import ValidationFailed


class FieldErrors:
    """Collects messages per field, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


# Bidirectional embeddings, overrides and isolates can make a document display text in an
# order other than the stored one ("Trojan Source"); right-to-left text itself needs none of them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


NUL = "\x00"


def holds_nul(value: object) -> bool:
    """A NUL character anywhere in a decoded JSON document (keys included): no text column can
    store it, and PostgreSQL refuses it with an error."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def without_nul(value: object) -> object:
    """The same document with every NUL replaced by U+FFFD, so it can be stored and looked at."""
    if isinstance(value, str):
        return value.replace(NUL, "\ufffd")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _has_control_characters(value: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\t"} if allow_newlines else set()
    return any(
        (unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS)
        and char not in allowed
        for char in value
    )


def _visible(text: str) -> bool:
    """Whether ``text`` has a character a reader can see: not only spaces, zero-width or other
    format characters (U+200B, U+2060, U+FEFF…)."""
    return any(not unicodedata.category(char).startswith(("Z", "C")) for char in text)


def clean_text(
    errors: FieldErrors,
    name: str,
    value: str | None,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Strip, length-check and refuse control characters (newlines only where ``multiline``)."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not _visible(text):
        errors.add(name, "This field is required.")
    elif len(text) > max_length:
        errors.add(name, f"Use at most {max_length} characters (you used {len(text)}).")
    elif _has_control_characters(text, allow_newlines=multiline):
        errors.add(
            name,
            "Line breaks and control characters are not allowed here."
            if not multiline
            else "Control characters are not allowed.",
        )
    return text
