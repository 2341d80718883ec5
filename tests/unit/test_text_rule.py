"""The one text rule: what may be stored, where the first bad character is, NFC, and the rules for codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.errors import InvalidInput
from inventory.domain.text import (
    bad_character,
    check_storable,
    clean_code,
    clean_lot,
    clean_note,
    clean_text,
)


@pytest.mark.parametrize(
    ("text", "index", "code_point"),
    [
        ("\ud800", 0, 0xD800),
        ("ab\udfff", 2, 0xDFFF),
        ("A\x00B", 1, 0),
        ("x\ufffe", 1, 0xFFFE),
        ("\uffff", 0, 0xFFFF),
        ("\ufdd0", 0, 0xFDD0),
        ("\U0001fffe", 0, 0x1FFFE),
        ("\U0010ffff", 0, 0x10FFFF),
        ("bell\x07", 4, 7),
        ("esc\x1b[2J", 3, 0x1B),
        ("del\x7f", 3, 0x7F),
        ("c1\x85", 2, 0x85),
        ("one\ttwo", 3, 9),
        ("one\ntwo", 3, 10),
        ("one\rtwo", 3, 13),
    ],
)
def test_the_first_character_that_may_not_be_stored_is_found_with_its_position(
    text: str, index: int, code_point: int
) -> None:
    found = bad_character(text)
    assert found is not None and (found[0], ord(found[1])) == (index, code_point)
    with pytest.raises(InvalidInput) as refused:
        clean_text(text, "supplier", max_length=100)
    assert refused.value.field == "supplier"
    assert f"character {index + 1} is U+{code_point:04X}" in refused.value.message


@pytest.mark.parametrize("text", ["Pharmacie M\u00e9dicale", "\u0645\u0633\u062a\u0648\u062f\u0639", "\u200fRTL",
                                  "\U0001f489 kits", "zero\u200bwidth", "tab\tin a note"])  # fmt: skip
def test_real_text_in_any_script_with_marks_and_emoji_is_taken(text: str) -> None:
    assert clean_note(text) == text.strip()


def test_a_note_keeps_its_line_breaks_and_tabs_and_a_browser_s_crlf_becomes_a_line_feed() -> None:
    assert clean_note("first line\r\nsecond\tline\rthird") == "first line\nsecond\tline\nthird"
    with pytest.raises(InvalidInput):
        clean_text("first line\nsecond", "name", max_length=80)


def test_text_is_normalised_to_nfc_and_trimmed_and_its_length_counted_after() -> None:
    assert clean_text("  Me\u0301dicale ", "name", max_length=8) == "M\u00e9dicale"
    with pytest.raises(InvalidInput, match="at most 3 characters"):
        clean_text("abcd", "name", max_length=3)
    with pytest.raises(InvalidInput, match="name is required"):
        clean_text("   ", "name", max_length=3)
    assert clean_text(None, "number", max_length=3, required=False) == ""
    with pytest.raises(InvalidInput, match="must be text"):
        clean_text(12, "name", max_length=3)


@pytest.mark.parametrize(("typed", "stored"), [("van-1", "VAN-1"), (" nalox_4mg.v2 ", "NALOX_4MG.V2")])
def test_a_code_is_upper_cased_letters_digits_and_three_signs(typed: str, stored: str) -> None:
    assert clean_code(typed, "site") == stored


@pytest.mark.parametrize("typed", ["VAN 1", "VAN/1", "VAN\u00c91", "\u0412\u0410\u041d", "V\x00", "=1"])
def test_a_code_with_anything_else_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_code(typed, "site")
    assert refused.value.field == "site"


@pytest.mark.parametrize("typed", ["NAL-2611-3", "a1b2c3", "L 2345/A", "LOT#7", "X.1_2"])
def test_a_lot_number_keeps_its_case_and_may_hold_spaces_and_common_signs(typed: str) -> None:
    assert clean_lot(typed) == typed


@pytest.mark.parametrize(
    ("typed", "why"),
    [("=1+2", "only"), ("-12", "start and end"), ("12-", "start and end"), ("A  B", "two spaces"),
     ("L\u00d8T", "only"), ("", "required")],
)  # fmt: skip
def test_a_lot_number_that_could_read_as_a_formula_or_holds_odd_signs_is_refused(typed: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        clean_lot(typed)
    assert clean_lot("  ", required=False) is None


def test_events_are_checked_for_storable_text_at_any_depth() -> None:
    class Event:
        def __init__(self) -> None:
            self.lot = "N-1"
            self.picks = [{"lot": "N-2", "quantity": 1}, {"lot": "bad\x00", "quantity": 2}]

    with pytest.raises(InvalidInput) as refused:
        check_storable([Event()])
    assert refused.value.field == "picks[1].lot"
    check_storable([{"note": "two\nlines\tand a tab"}])


@given(st.text())
def test_any_text_is_either_refused_by_field_or_comes_back_storable(text: str) -> None:
    try:
        cleaned = clean_text(text, "note", max_length=10_000, multiline=True, required=False)
    except InvalidInput as refused:
        assert refused.field == "note" and "U+" in refused.message
    else:
        assert bad_character(cleaned, multiline=True) is None
        cleaned.encode("utf-8")
