"""Delivering alerts: the sender that claims due deliveries from the outbox (inventory.projections.deliveries)
and sends them by email and webhook, the daily digest, and the notice that the read models stopped."""

# The outbox is one of the read models that inventory.projections lists: load that package first, so
# importing a module of this one first does not find the outbox half-loaded when the list is built.
import inventory.projections  # noqa: F401
