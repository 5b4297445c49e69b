#!/usr/bin/env python
"""Retrain with the best hyperparameters of the latest search, export and evaluate the model."""

import sys

from xraynet.default_backend import choose_default_backend

choose_default_backend()  # an entry point: before Keras loads (KERAS_BACKEND or keras.json wins)

from tuning.commands import add_train_best_args, run_train_best
from xraynet.cli.arguments import script_main

if __name__ == "__main__":
    sys.exit(script_main("train_best.py", __doc__, add_train_best_args, run_train_best))
