"""Reconciliation and sweeps: pure planners (plan.py) and idempotent executors (apply.py).

Everything here compares the membership database with the forum and acts through the ForumClient port;
it never imports the webhook intake, and the intake never imports it.
"""
