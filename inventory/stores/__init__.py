"""Tables kept beside the read models that are not built from the log: idempotency claims, sign-in
counts, signed-in sessions and export jobs."""
