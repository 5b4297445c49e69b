#!/usr/bin/env python
"""Hyperband search over CNN depth, learning rate, batch size (and more): see tuning/space.py."""

import sys

from xraynet.default_backend import choose_default_backend

choose_default_backend()  # an entry point: before Keras loads (KERAS_BACKEND or keras.json wins)

from tuning.commands import add_tune_args, run_tune
from xraynet.cli.arguments import script_main

if __name__ == "__main__":
    sys.exit(script_main("tune.py", __doc__, add_tune_args, run_tune))
