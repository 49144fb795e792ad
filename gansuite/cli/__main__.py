"""`python -m gansuite.cli` runs the command line."""

from gansuite.cli import main

if __name__ == "__main__":
    main()
