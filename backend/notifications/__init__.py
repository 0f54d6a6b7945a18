"""The email outbox: queue messages in a transaction, deliver them after it commits."""
