"""Delivering alerts: the outbox read model, email over SMTP, the webhook, and the sender that drives them."""

# The outbox is one of the read models that inventory.projections lists: load that package first, so
# importing a module of this one first does not find the outbox half-loaded when the list is built.
import inventory.projections  # noqa: F401
