"""`python -m bench`: run the benchmarks and print the table (see bench/__init__.py)."""

from __future__ import annotations

import sys

from bench.cli import main

sys.exit(main())
