"""``python -m sts_props.cli ARGS``: the same as the ``sts-props ARGS`` console script."""

from __future__ import annotations

import sys

from sts_props.cli.app import main

if __name__ == "__main__":  # not when imported (pytest's doctest collection imports it)
    sys.exit(main())
