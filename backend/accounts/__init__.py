"""Accounts: registration, sign-in, sessions, profile and passwords."""
