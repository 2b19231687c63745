"""``python -m pmipview`` runs the command line (pmipview/quick.py first)."""

from pmipview.quick import main

main()
