#!/usr/bin/env python
"""Hyperband search over CNN depth, learning rate, batch size (and more): see tuning/space.py."""

import sys

from tuning.commands import add_tune_args, run_tune, script_main

if __name__ == "__main__":
    sys.exit(script_main("tune.py", __doc__, add_tune_args, run_tune))
