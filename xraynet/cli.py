"""Command line: ``xraynet fit | evaluate | predict | explain | report | audit | info | tune |
train-best | download``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .defaults import (DEFAULT_ASPECT_JITTER, DEFAULT_BLUR_AUG, DEFAULT_GAMMA_AUG,
                       DEFAULT_IMAGE_SIZE, DEFAULT_INTENSITY, DEFAULT_NOISE_AUG, DEFAULT_RESIZE,
                       DEFAULT_RESOLUTION_AUG, DEFAULT_STEM_STRIDE, INTENSITY_MODES, RESIZE_MODES)
from .errors import XRayNetError

log = logging.getLogger("xraynet")


DATA_HELP = ("dataset folder in Kaggle layout (default: $XRAYNET_DATA, ./data/Covid19-dataset, "
             "../shared/data/Covid19-dataset)")


def add_data_args(p: argparse.ArgumentParser, *, image_size: bool = True,
                  data_help: str = DATA_HELP) -> None:
    """The options every data-reading command shares: --data, --out, cache, image size."""
    p.add_argument("--data", help=data_help)
    p.add_argument("--out", default="runs", help="folder that receives run directories (default: runs)")
    p.add_argument("--cache-dir", help="cache of decoded images (default: ~/.cache/xraynet)")
    p.add_argument("--no-cache", action="store_true", help="decode every image, write no cache")
    if image_size:
        p.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE,
                       help=f"square input side (default: {DEFAULT_IMAGE_SIZE})")
        p.add_argument("--resize", choices=RESIZE_MODES, default=DEFAULT_RESIZE,
                       help="fit images to the square by keeping their central square "
                            f"(crop: no framing cue) or by squeezing them in (default: {DEFAULT_RESIZE})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xraynet", description="Train, evaluate and use chest "
                                     "X-ray classifiers (Covid / Normal / Viral Pneumonia) on Keras 3.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and results")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = sub.add_parser("fit", help="train a model, save its bundle and report on test")
    add_data_args(fit)
    fit.add_argument("--epochs", type=int, default=40, help="maximum epochs (default: 40)")
    fit.add_argument("--batch-size", type=int, default=16, help="default: 16")
    fit.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 1e-3)")
    fit.add_argument("--depth", type=int, default=4, help="conv blocks (default: 4)")
    fit.add_argument("--base-filters", type=int, default=16, help="first block's filters (default: 16)")
    fit.add_argument("--stem-stride", type=int, default=DEFAULT_STEM_STRIDE,
                     help=f"stride of the first convolution (default: {DEFAULT_STEM_STRIDE})")
    fit.add_argument("--dropout", type=float, default=0.3, help="default: 0.3")
    fit.add_argument("--intensity", choices=INTENSITY_MODES, default=DEFAULT_INTENSITY,
                     help="how raw intensities enter the model: standardised per image, divided by "
                          f"255 or equalised (default: {DEFAULT_INTENSITY})")
    fit.add_argument("--patience", type=int, default=15, help="early-stopping patience (default: 15)")
    fit.add_argument("--val-fraction", type=float, default=0.2, help="validation share of train (default: 0.2)")
    fit.add_argument("--seed", type=int, default=42, help="default: 42")
    fit.add_argument("--hflip", action="store_true", help="augment with horizontal flips (off: anatomy)")
    fit.add_argument("--aspect", type=float, default=DEFAULT_ASPECT_JITTER,
                     help="augment with random aspect-ratio changes up to this share "
                          f"(default: {DEFAULT_ASPECT_JITTER})")
    fit.add_argument("--aug-gamma", type=float, default=DEFAULT_GAMMA_AUG, metavar="G",
                     help="augment: exposure jitter, gamma in 1/(1+G)..1+G "
                          f"(default: {DEFAULT_GAMMA_AUG:g})")
    fit.add_argument("--aug-resolution", type=float, default=DEFAULT_RESOLUTION_AUG, metavar="P",
                     help="augment: probability of a half-resolution round trip "
                          f"(default: {DEFAULT_RESOLUTION_AUG:g})")
    fit.add_argument("--aug-blur", type=float, default=DEFAULT_BLUR_AUG, metavar="SIGMA",
                     help=f"augment: largest Gaussian blur in pixels (default: {DEFAULT_BLUR_AUG:g})")
    fit.add_argument("--aug-noise", type=float, default=DEFAULT_NOISE_AUG, metavar="LEVELS",
                     help=f"augment: largest sensor noise in grey levels (default: {DEFAULT_NOISE_AUG:g})")
    fit.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run in RUN_DIR")

    ev = sub.add_parser("evaluate", help="score a saved model on the test split (full and leak-free), "
                        "or on any folder of class sub-folders (external validation)")
    ev.add_argument("model", help="run directory or its model.keras")
    add_data_args(ev, image_size=False, data_help=(
        "the Kaggle dataset (its test split is scored), or any folder of class sub-folders "
        "DIR/<class>/**/<images> (an external set: written to external-<name>/ in the model's "
        "run directory and added to its report)"))
    ev.add_argument("--class-map", action="append", metavar="FOLDER=CLASS",
                    help="external set: the model's class for a folder of another name "
                         "(repeatable; names match case-insensitively without it)")
    ev.add_argument("--name", help="external set: its name (default: the folder's name)")
    ev.add_argument("--json", action="store_true", help="external set: print its metrics as JSON")
    ev.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")

    pr = sub.add_parser("predict", help="diagnose image files with a saved model")
    pr.add_argument("model", help="run directory or its model.keras")
    pr.add_argument("images", nargs="+", help="image files, or folders (their images, recursively)")
    pr.add_argument("--json", action="store_true", help="print a JSON list of {path, label, probabilities}")
    pr.add_argument("--csv", metavar="FILE", help="also write every prediction to FILE as CSV")
    pr.add_argument("--tta", type=int, default=0, metavar="N",
                    help="average N test-time augmentations and report their spread (default: off)")
    pr.add_argument("--seed", type=int, default=0, help="seed of the test-time augmentations (default: 0)")

    ex = sub.add_parser("explain", help="heatmaps of where the model looks (Grad-CAM, occlusion)")
    ex.add_argument("model", help="run directory or its model.keras")
    ex.add_argument("images", nargs="+", help="image files")
    ex.add_argument("--out", default="explanations",
                    help="folder for one overlay PNG per image and method (default: explanations)")
    ex.add_argument("--method", choices=("gradcam", "occlusion", "both"), default="both",
                    help="explanation method (default: both)")

    rp = sub.add_parser("report", help="(re)write a run directory's evaluation, calibration and "
                        "model report (model_card.md, report.html)")
    rp.add_argument("model", help="run directory or its model.keras")
    add_data_args(rp, image_size=False, data_help="dataset folder (default: the one the run used)")
    rp.add_argument("--seed", type=int, help="bootstrap seed (default: the run's seed)")

    au = sub.add_parser("audit", help="find duplicate images within and across splits")
    add_data_args(au)

    info = sub.add_parser("info", help="backend, library versions and dataset summary")
    add_data_args(info)

    from tuning.commands import add_train_best_args, add_tune_args

    add_tune_args(sub.add_parser("tune", help="Hyperband search over depth, learning rate, batch size"))
    add_train_best_args(sub.add_parser("train-best", help="retrain, export and evaluate the best model"))

    dl = sub.add_parser("download", help="download the Kaggle dataset with kagglehub (needs network)")
    dl.add_argument("--dest", help="kagglehub cache folder (default: kagglehub's)")
    return parser


def make_datamodule(args, **overrides):
    """The data module the parsed options describe (``overrides`` win)."""
    from .data import XRayDataModule
    from .locate import resolve_data_dir

    settings = {"root": resolve_data_dir(args.data), "cache_dir": args.cache_dir,
                "use_cache": not args.no_cache}
    if getattr(args, "image_size", None):
        settings["image_size"] = args.image_size
    if getattr(args, "resize", None):
        settings["resize"] = args.resize
    settings.update(overrides)
    return XRayDataModule(**settings)


def cmd_fit(args) -> int:
    from .data import XRayDataModule
    from .models import AugmentationConfig, ModelConfig
    from .module import XRayClassifier
    from .trainer import Trainer

    if args.resume:
        config = json.loads((Path(args.resume) / "config.json").read_text())
        dm = XRayDataModule(**config["data"], cache_dir=args.cache_dir, use_cache=not args.no_cache)
        module_cfg = dict(config["module"])
        module = XRayClassifier(model=ModelConfig.from_dict(module_cfg.pop("model")), **module_cfg)
        trainer = Trainer(**config["trainer"])
    else:
        dm = make_datamodule(args, val_fraction=args.val_fraction, seed=args.seed)
        dm.setup()
        model = ModelConfig(image_size=args.image_size, n_classes=len(dm.class_names),
                            depth=args.depth, base_filters=args.base_filters, dropout=args.dropout,
                            stem_stride=args.stem_stride, intensity=args.intensity,
                            augmentation=AugmentationConfig(
                                horizontal_flip=args.hflip, aspect=args.aspect, gamma=args.aug_gamma,
                                resolution=args.aug_resolution, blur=args.aug_blur,
                                noise=args.aug_noise), seed=args.seed)
        module = XRayClassifier(model=model, learning_rate=args.lr)
        trainer = Trainer(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                          patience=args.patience, out_dir=args.out)
    result = trainer.fit(module, dm, run_dir=args.resume)
    print("\n".join(dm.audit_result.summary_lines()[:3]))
    print(trainer.test(result.model, dm, result.run_dir))
    print(f"run directory: {result.run_dir}")
    return 0


def cmd_evaluate(args) -> int:
    from .bundle import load_bundle
    from .data.folders import is_split_layout
    from .evaluation import evaluate_splits, write_evaluation
    from .locate import resolve_data_dir
    from .trainer import new_run_dir

    bundle = load_bundle(args.model)
    root = resolve_data_dir(args.data)
    if args.class_map or (root.is_dir() and not is_split_layout(root)):
        return _evaluate_external(args, bundle, root)
    data_cfg = bundle.config.get("data", {})
    dm = make_datamodule(args, image_size=bundle.image_size, resize=bundle.resize,
                     **{k: data_cfg[k] for k in ("max_pixels", "dup_max_distance") if k in data_cfg})
    dm.setup()
    if dm.class_names != bundle.class_names:
        raise XRayNetError(f"dataset classes {dm.class_names} differ from the model's {bundle.class_names}")
    splits = {"test": dm.test, "test_leak_free": dm.test_leak_free}
    results = evaluate_splits(bundle.model, splits, dm.class_names)
    out = new_run_dir(args.out, prefix="eval")
    text = write_evaluation(results, dm.class_names, out, extra={"model": str(bundle.directory)})
    print(text)
    print(f"evaluation written to {out}")
    return 0


def _evaluate_external(args, bundle, root: Path) -> int:
    """``evaluate`` on a folder of class sub-folders: write ``external-<name>/`` beside the
    model and add it to the model's report."""
    from .data.folders import class_folder_set, parse_class_map
    from .evaluation.external import external_dir_name, format_external, write_external
    from .predict import Predictor
    from .reporting import write_model_report

    folder_set = class_folder_set(root, bundle.class_names, parse_class_map(args.class_map))
    name = args.name or root.resolve().name
    log.info("external set '%s': %d images in %d folder(s) (%s)", name, len(folder_set.files),
             len(folder_set.folders), ", ".join(f"{f} -> {c}" for f, c in folder_set.folders.items()))
    if folder_set.missing:
        log.warning("warning: no images of %s in %s; macro figures average over the classes present",
                    ", ".join(folder_set.missing), root)
    if folder_set.ignored:
        log.warning("warning: %d non-image file(s) ignored (e.g. %s)", len(folder_set.ignored),
                    folder_set.ignored[0])
    predictor = Predictor(bundle)
    images, kept, failed = predictor.decode(folder_set.files)
    for path, reason in failed:
        log.warning("warning: skipped %s: %s", path, reason)
    if not kept:
        raise XRayNetError(f"no readable image in {root}")
    proba = predictor.predict_arrays(images)
    out = bundle.directory / external_dir_name(name)
    summary = write_external(out, name=name, root=root, files=[str(folder_set.files[i]) for i in kept],
                             y_true=[folder_set.labels[i] for i in kept], proba=proba,
                             class_names=bundle.class_names, folders=folder_set.folders,
                             missing=folder_set.missing, skipped=failed,
                             model=str(bundle.directory), seed=args.seed)
    write_model_report(bundle.directory)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(format_external(summary))
        print(f"external validation written to {out}; report: {bundle.directory / 'report.html'}")
    return 0


def cmd_predict(args) -> int:
    from .data.folders import expand_paths
    from .predict import Predictor

    predictor = Predictor.from_path(args.model)
    files, ignored = expand_paths(args.images)
    if ignored:
        log.warning("warning: %d non-image file(s) in the folders ignored (e.g. %s)", len(ignored), ignored[0])
    if not files:
        raise XRayNetError(f"no image files in {', '.join(args.images)}")
    predictions, failed = predictor.predict_files(files, tta=args.tta, seed=args.seed)
    for path, reason in failed:
        log.warning("warning: skipped %s: %s", path, reason)
    if args.csv:
        write_predictions_csv(args.csv, predictions, predictor.class_names)
        log.info("predictions written to %s", args.csv)
    if args.json:
        print(json.dumps([p.to_dict() for p in predictions], indent=2))
    else:
        for p in predictions:
            probs = "  ".join(f"{c}={v:.3f}" + (f"±{p.std[c]:.3f}" if p.std else "")
                              for c, v in p.probabilities.items())
            print(f"{p.path}: {p.label}  ({probs})")
    return 0 if predictions else 2


def write_predictions_csv(path: str | Path, predictions, class_names: list[str]) -> None:
    """One row per prediction: path, label, every class's probability (and spread with TTA)."""
    import csv

    with_std = any(p.std for p in predictions)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label"] + [f"p_{c}" for c in class_names]
                        + ([f"std_{c}" for c in class_names] if with_std else []))
        for p in predictions:
            writer.writerow([p.path, p.label] + [p.probabilities[c] for c in class_names]
                            + ([p.std[c] for c in class_names] if with_std else []))


def cmd_explain(args) -> int:
    from .explain import METHODS, Explainer

    methods = METHODS if args.method == "both" else (args.method,)
    explainer = Explainer.from_path(args.model)
    explanations, failed = explainer.explain_files(args.images, args.out, methods=methods)
    for path, reason in failed:
        log.warning("warning: skipped %s: %s", path, reason)
    for e in explanations:
        print(f"{e.source}: {e.method} -> {Path(args.out) / e.figure}  predicted {e.label} "
              f"(p = {e.probability:.3f}), border share {e.border_share:.2f}")
    if explanations:
        print(f"explanations written to {args.out} (summary: explanations.json)")
    return 0 if explanations else 2


def cmd_report(args) -> int:
    from .bundle import load_bundle
    from .data import XRayDataModule
    from .locate import resolve_data_dir
    from .trainer import Trainer, write_audit

    bundle = load_bundle(args.model)
    data_cfg = dict(bundle.config.get("data", {}))
    if not data_cfg:
        raise XRayNetError(f"{bundle.directory} has no config.json with the data settings")
    if args.data or not Path(data_cfg.get("root", "")).is_dir():
        data_cfg["root"] = resolve_data_dir(args.data)
    dm = XRayDataModule(**data_cfg, cache_dir=args.cache_dir, use_cache=not args.no_cache).setup()
    if dm.class_names != bundle.class_names:
        raise XRayNetError(f"dataset classes {dm.class_names} differ from the model's {bundle.class_names}")
    seed = args.seed if args.seed is not None else int(bundle.config.get("trainer", {}).get("seed", 42))
    write_audit(dm, bundle.directory)  # runs written before the audit was kept get one too
    print(Trainer(seed=seed).test(bundle.model, dm, bundle.directory))
    print(f"report written to {bundle.directory / 'report.html'} and model_card.md")
    return 0


def cmd_audit(args) -> int:
    from .trainer import new_run_dir, write_audit

    dm = make_datamodule(args).setup()
    print("\n".join(dm.audit_result.summary_lines()))
    out = new_run_dir(args.out, prefix="audit")
    out.mkdir(parents=True)
    write_audit(dm, out)
    print(f"audit written to {out}")
    return 0


def cmd_info(args) -> int:
    from .backend import backend_name, cpu_threads, versions

    print(f"backend: {backend_name()}  (CPU threads: {cpu_threads()})", flush=True)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    summary = make_datamodule(args).setup().summary()
    print(f"dataset: {summary['root']}  classes: {', '.join(summary['classes'])}")
    for split, counts in summary["splits"].items():
        print(f"  {split:15s} " + "  ".join(f"{c}: {n}" for c, n in counts.items())
              + f"  (total {sum(counts.values())})")
    print(f"  skipped files: {len(summary['skipped'])}")
    return 0


def cmd_download(args) -> int:
    from .locate import download_dataset

    print(f"dataset downloaded to {download_dataset(args.dest)}")
    return 0


def cmd_tune(args) -> int:
    from tuning.commands import run_tune

    return run_tune(args)


def cmd_train_best(args) -> int:
    from tuning.commands import run_train_best

    return run_train_best(args)


COMMANDS = {"fit": cmd_fit, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "explain": cmd_explain, "report": cmd_report, "audit": cmd_audit,
            "info": cmd_info, "download": cmd_download, "tune": cmd_tune,
            "train-best": cmd_train_best}


def setup_logging(quiet: bool = False) -> None:
    """xraynet's log lines go to stderr as plain messages."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False


def setup_process(quiet: bool = False) -> None:
    """What every xraynet entry point does first: logging, then JAX's compilation cache."""
    from .backend import enable_compilation_cache

    setup_logging(quiet)
    enable_compilation_cache()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "download":  # needs no Keras
        setup_logging(args.quiet)
    else:
        import keras

        setup_process(args.quiet)
        log.info("backend: %s (keras %s)", keras.backend.backend(), keras.__version__)
    try:
        return COMMANDS[args.command](args)
    except XRayNetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
