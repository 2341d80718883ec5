"""What text the service accepts: one rule for every text field, and a stricter one for codes.

Text arrives from phones, spreadsheets, scripts and attackers. Some characters cannot be stored or
shown safely: a lone surrogate cannot be written as UTF-8 (the save fails), PostgreSQL refuses NUL,
U+FFFE and U+FFFF make a workbook invalid XML, and control characters hide in logs and exports. So
every text field is checked here, where each command is checked, and a refusal names the field and
the position of the first character to remove. Accepted text is NFC-normalised, so "é" typed two
ways is one lot, one supplier, one name.

Codes (site codes, SKUs, funding source codes, lot numbers) are printed on boxes and typed into
URLs: they have their own, stricter alphabet, the same wherever a code is entered.
"""

from __future__ import annotations

import unicodedata

from inventory.domain.errors import InvalidInput

# Multi-line notes may hold tabs and line breaks; one-line fields may not.
NOTE_CONTROLS = frozenset("\t\n")
NAME_LENGTH = 80  # a site, item or supplier name
NOTE_LENGTH = 200  # a note or a reason, which may run over several lines
CODE_LENGTH = 40
LOT_LENGTH = 60
CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
# A lot number as printed on a box: letters and digits, with '-', '.', '/', '_', '#' or single spaces
# between them. It starts and ends with a letter or digit, so it never reads as a spreadsheet formula.
LOT_ALPHANUMERIC = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
LOT_ALPHABET = LOT_ALPHANUMERIC | frozenset("-./_# ")


def bad_character(text: str, *, multiline: bool = False) -> tuple[int, str, str] | None:
    """The first character that may not be stored, as (index, character, what it is), or None."""
    allowed_controls = NOTE_CONTROLS if multiline else frozenset()
    for index, char in enumerate(text):
        point = ord(char)
        if 0xD800 <= point <= 0xDFFF:
            return index, char, "half of a character pair (a broken character, often from a bad copy and paste)"
        if point == 0:
            return index, char, "a NUL (an invisible control character)"
        if _is_noncharacter(point):
            return index, char, "a Unicode noncharacter (reserved, never part of real text)"
        if (point < 0x20 or 0x7F <= point <= 0x9F) and char not in allowed_controls:
            name = {"\t": "a tab", "\n": "a line break", "\r": "a carriage return"}.get(char, "a control character")
            return index, char, f"{name} (invisible)"
    return None


def _is_noncharacter(point: int) -> bool:
    """U+FDD0..U+FDEF, and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE, ...)."""
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_characters(text: str, field: str, *, multiline: bool = False) -> None:
    """Refuse text holding a character that may not be stored, naming the field and its position."""
    found = bad_character(text, multiline=multiline)
    if found is not None:
        index, char, what = found
        raise InvalidInput(
            f"{field}: character {index + 1} is {describe(char)}, {what}. Remove it and send again.",
            field=field,
        )


def clean_text(value: object, field: str, *, max_length: int, multiline: bool = False, required: bool = True) -> str:
    """Text checked and normalised: no character that may not be stored, NFC, trimmed, within `max_length`.

    Line breaks in multi-line text are stored as "\\n" whatever the browser sent ("\\r\\n" from forms).
    An empty result is refused when `required`, and returned as "" otherwise.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text.", field=field)
    text = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    check_characters(text, field, multiline=multiline)
    text = unicodedata.normalize("NFC", text).strip()
    if required and not text:
        raise InvalidInput(f"{field} is required.", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters (it has {len(text)}).", field=field)
    return text


def clean_note(value: object, field: str = "note") -> str:
    """An optional note or reason typed in a box of several lines: "" when blank."""
    return clean_text(value, field, max_length=NOTE_LENGTH, multiline=True, required=False)


def clean_code(value: object, field: str) -> str:
    """A site code, SKU or funding source code: upper-cased letters, digits, '-', '_' and '.'."""
    code = clean_text(value, field, max_length=CODE_LENGTH).upper()
    bad = sorted(set(code) - CODE_ALPHABET)
    if bad:
        raise InvalidInput(
            f"{field} may use letters, digits, '-', '_' and '.' only (not {' '.join(repr(c) for c in bad)}).",
            field=field,
        )
    return code


def clean_lot(value: object, field: str = "lot", *, required: bool = True) -> str | None:
    """A lot number as printed on the box, as typed (letters keep their case); None when blank and optional."""
    lot = clean_text(value, field, max_length=LOT_LENGTH, required=False)
    if not lot:
        if required:
            raise InvalidInput(f"{field} is required: enter the lot number printed on the box.", field=field)
        return None
    bad = sorted(set(lot) - LOT_ALPHABET)
    if bad:
        raise InvalidInput(
            f"{field} may use letters, digits, spaces and '-', '.', '/', '_', '#' only "
            f"(not {' '.join(repr(c) for c in bad)}).",
            field=field,
        )
    if lot[0] not in LOT_ALPHANUMERIC or lot[-1] not in LOT_ALPHANUMERIC:
        raise InvalidInput(f"{field} must start and end with a letter or digit (got {lot!r}).", field=field)
    if "  " in lot:
        raise InvalidInput(f"{field} may not hold two spaces in a row.", field=field)
    return lot


def check_storable(events: object, where: str = "") -> None:
    """Refuse any text in these events (their attributes, lists and dicts, at any depth) that may not be stored.

    The second line behind the checks of each field: whichever verb or field a text came through,
    what cannot be written to the log (a lone surrogate), to PostgreSQL (NUL) or to a workbook (U+FFFE)
    is refused before the save, with the attribute it was found in.
    """
    if isinstance(events, str):
        check_characters(events, where or "text", multiline=True)
    elif isinstance(events, dict):
        for key, value in events.items():
            check_storable(key, where or "text")
            check_storable(value, f"{where}.{key}" if where else str(key))
    elif isinstance(events, list | tuple | set | frozenset):
        for index, value in enumerate(events):
            check_storable(value, f"{where}[{index}]" if where else "")
    elif hasattr(events, "__dict__") and not isinstance(events, type):
        check_storable(vars(events), where)
