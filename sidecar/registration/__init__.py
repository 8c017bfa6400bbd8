"""Registration: the gate for forum sign-ups (decide who is approved, held or refused, and act on it)."""
