"""`python -m foryou` runs the same command line as `foryou`."""

from foryou.cli import main

main()
