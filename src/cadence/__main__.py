"""``python -m cadence`` runs the command line."""

from cadence.cli import main

main()
