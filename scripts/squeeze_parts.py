#!/usr/bin/env python
"""Which part of the 224 px squeeze moves held-out predictions: the downscale, or the squeeze?

A diagnostic of docs/studies/RESIZEMIX.md. For each outer fold of the recipe study's protocol
(train folder only, 5 folds, split seed 1000), trains the default recipe (`acq_gamma`, seed 2:
the same fits as the study's baseline) and counts the held-out predictions each change alone
moves: the suite's squeeze (downscaled and squeezed to 224 x 224), a downscale to 224 px that
keeps the proportions, and a squeeze into the square at full resolution. The test split is
never read.

    python scripts/squeeze_parts.py --data ../shared/data/Covid19-dataset --folds 0,1,2,3,4
"""

import argparse
import sys
from pathlib import Path

import numpy as np


from xraynet.default_backend import choose_default_backend  # noqa: E402

choose_default_backend()

from xraynet.data.decode import fit_to_square, load_grayscale  # noqa: E402
from xraynet.evaluation.acquisition import at_scale, squeeze  # noqa: E402
from xraynet_bench.recipes import fit_fold  # noqa: E402

#: the suite's own squeeze and downscale (xraynet.evaluation.acquisition), apart and together
CHANGES = {
    "squeeze_224": lambda g: squeeze(g, 0, None),
    "downscale_224_keep_aspect": lambda g: at_scale(g, 224),
    "squeeze_full_resolution": lambda g: squeeze(g, 0, None, side=min(g.size)),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/Covid19-dataset")
    p.add_argument("--folds", default="0,1,2,3,4")
    p.add_argument("--seed", type=int, default=2)
    args = p.parse_args()
    totals = dict.fromkeys(CHANGES, 0)
    for fold in (int(f) for f in args.folds.split(",")):
        fit = fit_fold(args.data, "acq_gamma", fold=fold, seed=args.seed, n_folds=5, split_seed=1000)
        settings = fit.dm.decode_settings
        grays = [load_grayscale(Path(args.data) / fit.folder.paths[i], settings) for i in fit.held_out]

        def predicted(images: list[np.ndarray]) -> np.ndarray:
            return np.asarray(fit.model.predict(np.stack(images)[..., None], verbose=0)).argmax(axis=1)

        base = predicted([fit_to_square(g, settings) for g in grays])
        moved = {name: int((predicted([fit_to_square(change(g), settings) for g in grays]) != base).sum())
                 for name, change in CHANGES.items()}
        for name, n in moved.items():
            totals[name] += n
        print(f"fold {fold}: {moved} of {len(fit.held_out)} held-out images", flush=True)
    print(f"all folds: {totals}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
