#!/usr/bin/env python
"""Retrain with the best hyperparameters of the latest search, export and evaluate the model."""

import sys

from tuning.commands import add_train_best_args, run_train_best, script_main

if __name__ == "__main__":
    sys.exit(script_main("train_best.py", __doc__, add_train_best_args, run_train_best))
