#!/usr/bin/env python3
"""Build the valuation workbook: the same as ``xlfuncs build`` (same options)."""

import sys

from xlfuncs.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
