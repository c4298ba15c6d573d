"""``python -m gapsearch``."""

from gapsearch.cli import main

main()
