"""``python -m truceline`` runs the command line (guarded: ingest workers re-import this module)."""

from truceline.cli import main

if __name__ == "__main__":
    main()
