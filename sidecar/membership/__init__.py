"""The authoritative membership database: organizations, members, their emails, and who is eligible.

The pure core (``records``, ``eligibility``, ``plan``) decides from values; ``repository``, ``importing``
and ``exporting`` are the database and file edges; ``cli`` is the ``mug-sidecar members`` command group.
This package imports nothing at the top level so ``sidecar.db.models`` and ``sidecar.config`` can use its
records and statuses without a cycle.
"""
