"""``python -m sidecar.forum.simulator``: the ``simulator`` command on its own."""

from sidecar.forum.simulator.cli import main

main()
