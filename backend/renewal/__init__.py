"""Renewal and continuing education: validity periods, CE hours, expiry reminders, renewal and lapse."""
