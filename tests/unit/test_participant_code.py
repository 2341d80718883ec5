"""The optional participant code: short, random or self-chosen, never built from a birth date."""

from __future__ import annotations

import pytest

from inventory.domain.errors import InvalidInput
from inventory.domain.participant import check_participant_code


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("K7QX", "K7QX"),
        ("blue42", "BLUE42"),
        ("  zx81  ", "ZX81"),
        ("ABCDEFGHJKLM", "ABCDEFGHJKLM"),
        ("1234", "1234"),
        ("123456", "123456"),
        ("RAVEN999999", "RAVEN999999"),
    ],
)
def test_a_code_of_4_to_12_letters_and_digits_is_accepted_in_upper_case(raw: str, stored: str) -> None:
    assert check_participant_code(raw) == stored


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_a_blank_code_means_no_code(raw: str | None) -> None:
    assert check_participant_code(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "AB1",  # too short
        "ABCDEFGHJKLMN",  # too long
        "AB-12",
        "AB 12",
        "AB_12",
        "J.DOE",
        "ab@12",
        "ÄBCD",
    ],
)
def test_a_code_that_is_too_short_too_long_or_has_symbols_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_participant_code(raw)

    assert refused.value.field == "participant_code"
    assert "4 to 12 letters and digits" in refused.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "AB19900101",  # YYYYMMDD
        "010190XY",  # DDMMYY
        "XY01311985",  # MMDDYYYY
        "31121975",  # DDMMYYYY
        "JD850704",  # YYMMDD
        "Q20011231Z",
        "jd19900101",
        # A month by name, beside a day or a year: a birthday written another way.
        "1985JAN12",
        "12jan1985",
        "JAN121985",
        "AB7JAN",
        "MARCH1985",
        "X9DEC85",
        "SEPT30",
    ],
)
def test_a_code_with_a_date_inside_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_participant_code(raw)

    assert refused.value.field == "participant_code"
    assert "must not contain a date" in refused.value.message
    assert "random code" in refused.value.message


@pytest.mark.parametrize("raw", ["AB1990", "X123456", "999999", "PIN4821", "JANE", "MAYBE", "XJAN0X", "DECK42"])
def test_digits_that_cannot_be_a_date_are_accepted(raw: str) -> None:
    assert check_participant_code(raw) == raw
