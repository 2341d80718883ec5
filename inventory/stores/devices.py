"""What a browser is, in a person's words ("Chrome on Android", a phone), from its User-Agent header.

Only this short description is kept with a session, never the header itself.
"""

from __future__ import annotations

from dataclasses import dataclass

# The first match wins: Edge, Opera and Samsung Internet also say "Chrome", and Chrome says "Safari".
BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
SYSTEMS = (
    ("iPhone", "iPhone", "phone"),
    ("iPad", "iPad", "tablet"),
    ("Android", "Android", "phone"),
    ("CrOS", "ChromeOS", "computer"),
    ("Windows", "Windows", "computer"),
    ("Macintosh", "Mac", "computer"),
    ("Linux", "Linux", "computer"),
)


@dataclass(frozen=True)
class Device:
    name: str  # "Chrome on Android"
    kind: str  # phone, tablet or computer

    @property
    def this(self) -> str:
        """How the list names the device a person is using now: "This phone"."""
        return f"This {self.kind}"


def describe(user_agent: str | None) -> Device:
    """The browser and system a User-Agent names, or "Unknown browser"."""
    text = (user_agent or "")[:500]
    browser = next((name for marker, name in BROWSERS if marker in text), "Unknown browser")
    found = next(((name, kind) for marker, name, kind in SYSTEMS if marker in text), None)
    if found is None:
        return Device(browser, "computer")
    system, kind = found
    if system == "Android" and "Mobile" not in text:
        kind = "tablet"  # Android tablets leave "Mobile" out
    return Device(f"{browser} on {system}", kind)
