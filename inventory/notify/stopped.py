"""Telling the admins, once, that the read models stopped at an event they cannot apply."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from inventory.adapters import mail as email
from inventory.adapters.settings import Settings
from inventory.domain.users import Role
from inventory.projections import staff, stopped
from inventory.projections.stopped import Stop
from inventory.projections.store import ReadStore

log = logging.getLogger(__name__)


def admins(store: ReadStore) -> list[str]:
    return staff.active_emails(store, Role.ADMIN)


def stop_message(stop: Stop, settings: Settings, to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "[Inventory] The stock figures stopped updating"
    message["From"] = settings.smtp_from
    message["To"] = to
    message.set_content(
        "\n".join(
            [
                "The stock figures stopped updating, and new entries are refused until this is fixed.",
                "",
                stop.describe(),
                "",
                "On the server, `inventory projections status` shows it. The worker tries the event again every",
                "half minute: once it applies (for example after an upgrade that fixes the cause), the figures",
                "catch up by themselves and entries are taken again. Nothing in the log is lost.",
                "",
                f"The service: {settings.base_url}",
            ]
        )
        + "\n"
    )
    return message


def tell_admins(store: ReadStore, settings: Settings) -> bool:
    """Email every active admin about the stop in force, if they have not been told; True once told."""
    stop = stopped.current(store)
    if stop is None or stop.notified_at is not None or not settings.smtp_host:
        return False
    recipients = admins(store)
    for to in recipients:
        email.send(settings, stop_message(stop, settings, to))
    stopped.mark_notified(store, stop)
    log.warning("admins told that the read models stopped at position %s: %s", stop.position, ", ".join(recipients))
    return True
