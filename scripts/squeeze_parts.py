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
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xraynet.default_backend import choose_default_backend  # noqa: E402

choose_default_backend()

from xraynet.data import XRayDataModule  # noqa: E402
from xraynet.data.decode import fit_to_square, load_grayscale  # noqa: E402
from xraynet.data.split import stratified_group_folds, stratified_group_split  # noqa: E402
from xraynet.models import AugmentationConfig, ModelConfig  # noqa: E402
from xraynet.module import XRayClassifier  # noqa: E402
from xraynet.trainer import Trainer  # noqa: E402
from xraynet_bench.recipes import RECIPE_BASE, RECIPES  # noqa: E402

BILINEAR = Image.Resampling.BILINEAR


def _short_side(gray: Image.Image, side: int) -> Image.Image:
    """Proportions kept, the shorter side ``side`` (never enlarged)."""
    w, h = gray.size
    f = side / min(w, h)
    return gray.resize((round(w * f), round(h * f)), BILINEAR, reducing_gap=2.0) if f < 1 else gray


CHANGES = {
    "squeeze_224": lambda g: g.resize((224, 224), BILINEAR, reducing_gap=2.0),
    "downscale_224_keep_aspect": lambda g: _short_side(g, 224),
    "squeeze_full_resolution": lambda g: g.resize((min(g.size),) * 2, BILINEAR, reducing_gap=2.0),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/Covid19-dataset")
    p.add_argument("--folds", default="0,1,2,3,4")
    p.add_argument("--seed", type=int, default=2)
    args = p.parse_args()
    spec = {**RECIPE_BASE, **RECIPES["acq_gamma"]}
    dm = XRayDataModule(root=args.data, image_size=spec["image_size"], resize=spec["resize"]).setup()
    folder, groups = dm.train_folder()
    settings = dm.decode_settings
    augmentation = AugmentationConfig(**{f.name: spec[f.name] for f in fields(AugmentationConfig)
                                         if f.name in spec})
    keys = {f.name for f in fields(ModelConfig)} - {"augmentation", "seed", "n_classes"}
    totals = dict.fromkeys(CHANGES, 0)
    for fold in (int(f) for f in args.folds.split(",")):
        train_all, held = stratified_group_folds(folder.y, groups, n_splits=5, seed=1000)[fold]
        tr, va = stratified_group_split(folder.y[train_all], groups[train_all],
                                        val_fraction=dm.val_fraction, seed=args.seed)
        dm.train, dm.val = folder.subset(train_all[tr]), folder.subset(train_all[va])
        model = ModelConfig(n_classes=len(dm.class_names), augmentation=augmentation, seed=args.seed,
                            **{k: v for k, v in spec.items() if k in keys})
        with tempfile.TemporaryDirectory() as tmp:
            fitted = Trainer(seed=args.seed, out_dir=tmp, tensorboard=False, verbose=0).fit(
                XRayClassifier(model=model), dm, run_dir=Path(tmp) / "run").model
        grays = [load_grayscale(Path(args.data) / folder.paths[i], settings) for i in held]

        def predicted(images: list[np.ndarray]) -> np.ndarray:
            return np.asarray(fitted.predict(np.stack(images)[..., None], verbose=0)).argmax(axis=1)

        base = predicted([fit_to_square(g, settings) for g in grays])
        moved = {name: int((predicted([fit_to_square(change(g), settings) for g in grays]) != base).sum())
                 for name, change in CHANGES.items()}
        for name, n in moved.items():
            totals[name] += n
        print(f"fold {fold}: {moved} of {len(held)} held-out images", flush=True)
    print(f"all folds: {totals}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
