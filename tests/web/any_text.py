"""Text as people and attackers send it, for the property tests of every text field (issue 16).

Surrogates (which JSON can carry as escapes), NUL, noncharacters, control characters, combining
marks, right-to-left and other format marks, emoji and other astral characters, and strings of up to
10,000 characters, mixed with ordinary letters, digits and the punctuation codes use.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from inventory.domain.text import bad_character

AWKWARD = (
    "\ud800",  # a lone high surrogate
    "\udfff",  # a lone low surrogate
    "\x00",
    "\ufffe",
    "\uffff",
    "\ufdd0",
    "\U0010fffe",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\u0301",  # a combining acute accent
    "e\u0301",
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066",
    "\u200b",  # zero-width space
    "\ufeff",
    "\U0001f489",  # syringe emoji
    "\u0645\u0627",  # Arabic
    "\uff1d",  # full-width equals sign
    "=",
    "+",
    "@",
    "-",
    " ",
    "'",
    '"',
    "<script>",
    "%00",
    "..",
    "/",
    "\\",
)

pieces = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(codec="utf-8"), max_size=8),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._", min_size=1, max_size=12),
)
short_texts = st.lists(pieces, max_size=8).map("".join)
long_texts = st.builds(lambda piece, times: piece * times, st.sampled_from(["a", "\u0301", "N-1 ", "\U0001f489"]),
                       st.integers(50, 10_000))  # fmt: skip
texts = st.one_of(short_texts, short_texts, short_texts, long_texts)


def refusable(text: Any) -> bool:
    """Whether the one text rule refuses this text whatever field it is in (ignoring line breaks and tabs,
    which notes may hold; a note takes a carriage return as the line break a browser sends with it)."""
    return isinstance(text, str) and bad_character(text.replace("\r", "\n"), multiline=True) is not None


def names(fields: dict[str, Any], path: str) -> bool:
    """Whether a refusal's fields name `path` ("lines[0].lot") or its last part ("lot")."""
    leaf = path.rsplit(".", 1)[-1]
    return any(key in (path, leaf) or key.endswith(f".{leaf}") for key in fields)
