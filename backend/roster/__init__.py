"""The certified roster: every certificate issued here or imported from the earlier register, its public
statistics and opt-in directory, the legacy import, the exports and the demo training base."""
