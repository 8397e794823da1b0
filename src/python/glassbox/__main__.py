"""``python -m glassbox``: the same command line as the ``glassbox`` console script."""

from __future__ import annotations

from glassbox.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
