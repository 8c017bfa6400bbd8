"""Automatic termination of ineligible members, Board deferrals and reinstatement."""
