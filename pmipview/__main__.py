"""``python -m pmipview`` runs the command line."""

from pmipview.cli import main

main()
