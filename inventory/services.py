"""Everything a process needs, built in one place: the application, the read store, the projector."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.application import InventoryApplication
from inventory.encryption import check_cipher_key
from inventory.projections import all_projections
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, read_store_for
from inventory.settings import Settings, load_settings


@dataclass
class Services:
    settings: Settings
    app: InventoryApplication
    store: ReadStore
    projector: Projector

    def close(self) -> None:
        self.app.close()
        self.store.close()


def build_services(settings: Settings | None = None, *, create_tables: bool = True) -> Services:
    """Build the application and its read models for these settings (default: the environment).

    `create_tables=False` (production web workers) leaves the event store's tables to `inventory init`.
    """
    settings = settings or load_settings()
    app = InventoryApplication(
        settings.database_url,
        timezone_name=settings.timezone,
        cipher_key=settings.cipher_key,
        env=None if create_tables else {"CREATE_TABLE": "n"},
        lock_wait=settings.lock_wait_seconds,
    )
    try:
        check_cipher_key(app, encrypted=settings.cipher_key is not None)
    except Exception:
        app.close()
        raise
    store = read_store_for(settings.database_url, lock_wait=settings.lock_wait_seconds)
    app.read_store = store  # what check_alerts reads conditions from
    projector = Projector(app, store, all_projections(app.zone, settings.seal_key))
    return Services(settings, app, store, projector)
