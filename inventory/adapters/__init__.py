"""What the service uses of the world: persistence settings, locks, encryption, mail, webhooks,
backups, the schedule."""
