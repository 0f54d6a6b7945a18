"""Background jobs with progress, for long administrative actions."""
