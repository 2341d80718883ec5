"""Alert emails: what they say (figures about stock, never about a participant) and sending one over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from datetime import date
from email.message import EmailMessage
from typing import Any

from inventory.adapters.settings import Settings
from inventory.domain.time_words import day_in_words

TIMEOUT = 30.0  # seconds for the connection and each SMTP reply

KIND_TITLES = {
    "out_of_stock": "Out of stock",
    "below_reorder_point": "Below reorder point",
    "runs_out_within_lead_time": "Runs out within the lead time",
    "expiring_soon": "Lot expiring soon",
    "expired_on_hand": "Expired lot on hand",
    "recalled": "Recalled lot to pull",
}


def title(kind: str) -> str:
    return KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())


def alert_lines(alert: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The facts of one alert, one per line: site, item, lot and expiry, on hand, days of supply."""
    details: dict[str, Any] = alert.get("details") or {}
    site, sku = alert["site"], alert["sku"]
    lines = [
        f"Site: {site}" + (f" ({names[site]})" if site in names else ""),
        f"Item: {sku}" + (f" ({names[sku]})" if sku in names else ""),
    ]
    if alert.get("lot"):
        lines.append(f"Lot: {alert['lot']}")
    if details.get("expires_on"):
        lines.append(f"Expires on: {day_in_words(date.fromisoformat(str(details['expires_on'])[:10]))}")
    lines.append(f"On hand: {details.get('on_hand', 'unknown')}")
    if alert["kind"] == "recalled":
        lines.append("The maker has recalled this lot. It is held: nothing more can be handed out from it.")
        lines.append("Pull it from the shelf, then record it as returned to the supplier or destroyed.")
    if details.get("reorder_point") is not None:
        lines.append(f"Reorder point: {details['reorder_point']}, par level: {details.get('par_level')}")
    if details.get("on_order") or details.get("in_transit"):
        lines.append(f"On order: {details.get('on_order') or 0}, in transit: {details.get('in_transit') or 0}")
    supply = details.get("days_of_supply")
    if alert.get("lot") is None:
        lines.append(f"Days of supply: {_days(supply)}")
    return lines


def _days(supply: Any) -> str:
    if supply is None:
        return "unknown (no recent use)"
    return f"{float(supply):.1f}"


def alert_message(alert: dict[str, Any], names: dict[str, str], settings: Settings, to: str) -> EmailMessage:
    """One email about one alert episode, to one person."""
    message = EmailMessage()
    message["Subject"] = f"[Inventory] {title(alert['kind'])}: {alert['sku']} at {alert['site']}"
    message["From"] = settings.smtp_from
    message["To"] = to
    body = [f"{title(alert['kind'])}.", "", *alert_lines(alert, names), "", f"See and acknowledge it: {link(settings)}"]
    message.set_content("\n".join(body) + "\n")
    return message


def digest_message(
    alerts: list[dict[str, Any]], names: dict[str, str], settings: Settings, to: str, day: date
) -> EmailMessage:
    """The daily summary of every open alert on `day` (local), to one person in purchasing."""
    message = EmailMessage()
    count = len(alerts)
    message["Subject"] = (
        f"[Inventory] Daily digest for {day_in_words(day)}: {count} open alert{'s' if count != 1 else ''}"
    )
    message["From"] = settings.smtp_from
    message["To"] = to
    body = [f"{count} open alert{'s' if count != 1 else ''}.", ""]
    for alert in alerts:
        body += [f"- {title(alert['kind'])}", *(f"  {line}" for line in alert_lines(alert, names)), ""]
    body.append(f"See and acknowledge them: {link(settings)}")
    message.set_content("\n".join(body) + "\n")
    return message


def link(settings: Settings) -> str:
    return f"{settings.base_url}/alerts"


def send(settings: Settings, message: EmailMessage) -> None:
    """Send one message with the configured server and security; raises on any failure."""
    if not settings.smtp_host:
        raise RuntimeError("INVENTORY_SMTP_HOST is not set")
    host, port = settings.smtp_host, settings.smtp_port
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)
