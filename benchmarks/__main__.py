"""``python -m benchmarks [--size tiny|default|large] [--only NAME ...] [--out DIR]``."""

import sys

from .harness import main

if __name__ == "__main__":
    sys.exit(main())
