"""Sensitive-information findings in forum posts: warnings to authors, flags, and the moderators' queue."""
