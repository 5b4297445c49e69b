#!/usr/bin/env python
"""Gate study (docs/studies/GATE.md): how often does the input-quality gate flag X-rays it has not
seen, and non-X-rays, under each rule for its limit? Train folder only (never test).

Each (fold, seed) fit of the recipe saves its features (training split, validation split, the
fold's held-out train images, the non-X-ray images) to ``--out/fold<F>-seed<S>.npz``; a fit already
saved is skipped, so an interrupted study resumes. ``--analyse`` applies every rule to each fit
and to each fold's fits as one ensemble (features side by side) and writes the summary.

  python scripts/gate_cv.py --data ../shared/data/Covid19-dataset --folds 5 --seeds 1,2,3 --out runs/study/gate
  python scripts/gate_cv.py --analyse --out runs/study/gate --summary runs/study/gate.md
"""

from __future__ import annotations

import argparse
import functools
import io
import sys
from pathlib import Path

import numpy as np


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/data/Covid19-dataset", help="dataset folder")
    p.add_argument("--recipe", default="g_body_shared", help="recipe (default: g_body_shared)")
    p.add_argument("--folds", type=int, default=5, help="outer folds (default: 5)")
    p.add_argument("--seeds", default="1,2,3", help="seeds (default: 1,2,3)")
    p.add_argument("--split-seed", type=int, default=1000, help="outer split seed (default: 1000)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs (smoke runs)")
    p.add_argument("--image-size", type=int, help="override the recipe's image size (smoke runs)")
    p.add_argument("--out", default="runs/study/gate", help="folder of the saved features")
    p.add_argument("--cache-dir", help="decoded-image cache (default: xraynet's)")
    p.add_argument("--analyse", action="store_true", help="apply the rules to the saved features")
    p.add_argument("--summary", default="runs/study/gate.md", help="Markdown summary of --analyse")
    return p.parse_args(argv)


@functools.lru_cache(maxsize=1)
def non_xray_inputs(settings) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The non-X-ray images decoded as ``predict`` decodes an upload: names, images of the
    readable ones, whether the pixel checks flag each readable one, and which were refused.
    Decoded once per decoding settings (every fit of a recipe shares them)."""
    from xraynet.data.decode import ImageDecodeError, decode_with_facts
    from xraynet.quality.checks import pixel_reasons
    from xraynet_bench.non_xrays import non_xray_images

    names, images, pixel_flag, refused = [], [], [], []
    for name, data in non_xray_images():
        names.append(name)
        try:
            image, facts = decode_with_facts(io.BytesIO(data), settings)
        except ImageDecodeError:
            refused.append(True)
            continue
        refused.append(False)
        images.append(image)
        pixel_flag.append(bool(pixel_reasons(facts, image)))
    return names, np.stack(images), np.array(pixel_flag), np.array(refused)


def run_fit(args: argparse.Namespace, fold: int, seed: int, path: Path) -> None:
    import keras

    from xraynet.quality.features import feature_model
    from xraynet.quality.fitting import FEATURE_CHUNK, batched_features
    from xraynet_bench.recipes import fit_fold

    overrides = {k: v for k, v in (("epochs", args.epochs), ("image_size", args.image_size)) if v}
    fit = fit_fold(args.data, args.recipe, fold=fold, seed=seed, n_folds=args.folds,
                   split_seed=args.split_seed, overrides=overrides, cache_dir=args.cache_dir)
    both = feature_model(fit.model)
    dm, held_out = fit.dm, fit.held_out
    names, images, pixel_flag, refused = non_xray_inputs(dm.decode_settings)
    x_held = fit.folder.x[held_out]
    train = dm.dataset("train")
    np.savez(path,
             train=batched_features(both, train.chunks(FEATURE_CHUNK)),
             train_y=np.asarray(train.labels),
             val=batched_features(both, dm.dataset("val").chunks(FEATURE_CHUNK)),
             held_out=batched_features(both, [x_held[i:i + FEATURE_CHUNK]
                                              for i in range(0, len(x_held), FEATURE_CHUNK)]),
             held_out_index=held_out,
             non_xray=batched_features(both, [images[..., None]]),
             non_xray_names=np.array(names), non_xray_pixel_flag=pixel_flag,
             non_xray_refused=refused, best_epoch=fit.best_epoch or -1)
    keras.backend.clear_session()


def limit_q99(gate, val: np.ndarray) -> float:
    """Today's rule: the empirical 0.99 quantile of the validation distances."""
    return float(np.quantile(gate.distances(val), 0.99))


def limit_gamma99(gate, val: np.ndarray) -> float:
    """The 0.99 quantile of a gamma (location 0) fitted to the squared validation distances."""
    from scipy import stats

    squared = gate.distances(val) ** 2
    shape, _, scale = stats.gamma.fit(squared, floc=0)
    return float(np.sqrt(stats.gamma.ppf(0.99, shape, scale=scale)))


def limit_q99x11(gate, val: np.ndarray) -> float:
    """1.1 times the empirical 0.99 quantile (the study's second part)."""
    return 1.1 * limit_q99(gate, val)


RULES = {"q99": limit_q99, "gamma99": limit_gamma99, "q99x1.1": limit_q99x11}


def assess(parts: dict, rule) -> dict:
    """Flags of one model (its saved features, several fits' side by side for an ensemble)."""
    from xraynet.quality.features import fit_feature_gate

    gate = fit_feature_gate(parts["train"], parts["train_y"], parts["val"])
    limit = rule(gate, parts["val"])
    held = gate.distances(parts["held_out"])
    other = gate.distances(parts["non_xray"])
    readable = ~parts["non_xray_refused"]
    detected = parts["non_xray_refused"].copy()
    detected[readable] = parts["non_xray_pixel_flag"] | (other > limit)
    by_distance_only = ~parts["non_xray_pixel_flag"]
    return {"limit": limit, "held_n": len(held), "held_flagged": int((held > limit).sum()),
            "non_xray_n": len(detected), "detected": int(detected.sum()),
            "closest_non_xray": float(other[by_distance_only].min() / limit)
            if by_distance_only.any() else float("nan")}


def analyse(args: argparse.Namespace) -> int:
    files = sorted(Path(args.out).glob("fold*-seed*.npz"))
    if not files:
        sys.exit(f"error: no saved fits in {args.out}")
    fits = {}
    for f in files:
        fold, seed = (int(x) for x in f.stem.replace("fold", "").split("-seed"))
        with np.load(f) as d:
            fits[(fold, seed)] = {k: d[k] for k in d.files}
    models = {f"fold {fold} seed {seed}": parts for (fold, seed), parts in sorted(fits.items())}
    for fold in sorted({k[0] for k in fits}):
        members = [fits[k] for k in sorted(fits) if k[0] == fold]
        if len(members) > 1:
            joined = dict(members[0])
            for key in ("train", "val", "held_out", "non_xray"):
                joined[key] = np.concatenate([m[key] for m in members], axis=1)
            models[f"fold {fold} ensemble"] = joined
    rows = {name: {rule: assess(parts, fn) for rule, fn in RULES.items()}
            for name, parts in models.items()}
    lines = ["# Gate study: flags per rule", "",
             f"Fits: {len(fits)} from `{args.out}`; held-out X-rays of the train folder, non-X-ray images.", "",
             "| model | " + " | ".join(f"{r} limit | {r} held-out flagged | {r} non-X-rays detected"
                                      for r in RULES) + " |",
             "|---|" + "---|---|---|" * len(RULES)]
    for name, by_rule in rows.items():
        cells = [f"{v['limit']:.2f} | {v['held_flagged']}/{v['held_n']} | {v['detected']}/{v['non_xray_n']}"
                 for v in by_rule.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| rule | kind | held-out flagged (pooled) | rate | per-model rates (min to max, sd) | "
              "lowest detection | closest non-X-ray (distance / limit) |", "|---|---|---|---|---|---|---|"]
    for rule in RULES:
        for kind, keep in (("single fits", lambda n: "seed" in n), ("ensembles", lambda n: "ensemble" in n)):
            chosen = [v[rule] for n, v in rows.items() if keep(n)]
            if not chosen:
                continue
            flagged = sum(v["held_flagged"] for v in chosen)
            n = sum(v["held_n"] for v in chosen)
            rates = np.array([v["held_flagged"] / v["held_n"] for v in chosen])
            lines.append(f"| {rule} | {kind} | {flagged}/{n} | {flagged / n:.1%} | {rates.min():.1%} to "
                         f"{rates.max():.1%}, {rates.std():.1%} | "
                         f"{min(v['detected'] / v['non_xray_n'] for v in chosen):.1%} | "
                         f"{min(v['closest_non_xray'] for v in chosen):.2f} |")
    text = "\n".join(lines) + "\n"
    Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
    Path(args.summary).write_text(text)
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.analyse:
        return analyse(args)
    from xraynet.cli.arguments import setup_process

    setup_process(quiet=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for fold in range(args.folds):
        for seed in (int(s) for s in args.seeds.split(",")):
            path = out / f"fold{fold}-seed{seed}.npz"
            if path.is_file():
                continue
            print(f"fit: fold {fold}, seed {seed}", flush=True)
            run_fit(args, fold, seed, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
