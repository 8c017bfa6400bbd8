"""Labelled corpus for evaluating the sensitive-information scanner (see README.md)."""
