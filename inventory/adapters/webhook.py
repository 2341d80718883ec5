"""The optional webhook: a JSON POST per alert episode, in a shape Slack-style integrations take (`text`)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from inventory.adapters.mail import alert_lines, link, title
from inventory.adapters.settings import Settings

TIMEOUT = 15.0
# httpx logs each request's URL at INFO; a webhook URL (Slack's, for one) is a secret.
logging.getLogger("httpx").setLevel(logging.WARNING)


def payload(alert: dict[str, Any], names: dict[str, str], settings: Settings) -> dict[str, Any]:
    """The body: a readable `text` and the alert's figures (stock only, never about a participant)."""
    details: dict[str, Any] = alert.get("details") or {}
    text = f"{title(alert['kind'])}: " + "; ".join(alert_lines(alert, names)) + f". {link(settings)}"
    return {
        "text": text,
        "alert": {
            "id": alert["alert_id"],
            "kind": alert["kind"],
            "episode": alert["episode"],
            "site": alert["site"],
            "sku": alert["sku"],
            "lot": alert.get("lot"),
            "on_hand": details.get("on_hand"),
            "days_of_supply": details.get("days_of_supply"),
            "expires_on": details.get("expires_on"),
            "link": link(settings),
        },
    }


def post(url: str, body: dict[str, Any]) -> None:
    """POST the JSON body; raises on a connection failure or an answer other than 2xx."""
    response = httpx.post(url, json=body, timeout=TIMEOUT)
    response.raise_for_status()
