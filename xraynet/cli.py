"""Command line: ``xraynet fit | evaluate | predict | explain | report | audit | info | tune |
train-best | download``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from .command_line import (Parser, add_common_args, at_least, add_data_args, add_setting_flags,
                           make_datamodule, run_command, settings_from_args, setup_logging,
                           setup_process)
from .errors import XRayNetError

log = logging.getLogger("xraynet")
#: entry-point group through which other packages add commands (``tuning`` adds tune and
#: train-best): a callable that takes the sub-parsers and returns {name: handler}
COMMAND_PLUGINS = "xraynet.commands"


def load_plugin_commands(sub) -> dict:
    """Commands other installed packages add through the :data:`COMMAND_PLUGINS` entry points."""
    from importlib.metadata import entry_points

    commands: dict = {}
    for entry in entry_points(group=COMMAND_PLUGINS):
        commands.update(entry.load()(sub))
    return commands


def add_fit_args(p: argparse.ArgumentParser) -> None:
    """``fit``'s flags: the data options and every setting of the run config that has a flag."""
    from .config import AugmentationConfig, ModelConfig, OptimConfig, TrainerConfig

    add_data_args(p)
    add_setting_flags(p, TrainerConfig, section="trainer")
    add_setting_flags(p, OptimConfig, section="module")
    add_setting_flags(p, ModelConfig, section="model")
    add_setting_flags(p, AugmentationConfig, section="aug")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run in RUN_DIR")
    p.add_argument("--config", metavar="FILE", help="start from this run config (.json or .toml; a "
                   "run directory's config.json reproduces that run); flags given as well override it")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved run config as JSON and exit (nothing is trained)")


#: handlers of the commands that plugins add (filled by :func:`build_parser`)
plugin_commands: dict = {}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="xraynet", description="Train, evaluate and use chest X-ray classifiers "
                    "(Covid / Normal / Viral Pneumonia) on Keras 3.")
    add_common_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=Parser)

    fit = sub.add_parser("fit", help="train a model, save its bundle and report on test")
    add_fit_args(fit)

    ev = sub.add_parser("evaluate", help="score a saved model on the test split (full and leak-free), "
                        "or on any folder of class sub-folders (external validation)")
    ev.add_argument("model", help="run directory or its model.keras")
    add_data_args(ev, image_size=False, data_help=(
        "omitted: the model's own dataset (its recorded test split is scored); a dataset in "
        "the Kaggle layout (its test split); or any folder of class sub-folders "
        "DIR/<class>/**/<images> (an external set: written to external-<name>/ in the model's "
        "run directory and added to its report)"))
    ev.add_argument("--class-map", action="append", metavar="FOLDER=CLASS",
                    help="external set: the model's class for a folder of another name "
                         "(repeatable; names match case-insensitively without it)")
    ev.add_argument("--name", help="external set: its name (default: the folder's name)")
    ev.add_argument("--json", action="store_true", help="external set: print its metrics as JSON")
    ev.add_argument("--seed", type=at_least(0), default=0, help="bootstrap seed (default: 0)")

    pr = sub.add_parser("predict", help="diagnose image files with a saved model")
    pr.add_argument("model", help="run directory or its model.keras")
    pr.add_argument("images", nargs="+", help="image files, or folders (their images, recursively)")
    pr.add_argument("--json", action="store_true", help="print a JSON list of {path, label, probabilities}")
    pr.add_argument("--csv", metavar="FILE", help="also write every prediction to FILE as CSV")
    pr.add_argument("--tta", type=at_least(0), default=0, metavar="N",
                    help="average N test-time augmentations and report their spread (default: off)")
    pr.add_argument("--seed", type=at_least(0), default=0,
                    help="seed of the test-time augmentations (default: 0)")

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
    rp.add_argument("--seed", type=at_least(0), help="bootstrap seed (default: the run's seed)")

    au = sub.add_parser("audit", help="find duplicate images within and across splits")
    add_data_args(au)

    info = sub.add_parser("info", help="backend, library versions and dataset summary")
    add_data_args(info)

    plugin_commands.update(load_plugin_commands(sub))

    dl = sub.add_parser("download", help="download the Kaggle dataset with kagglehub (needs network)")
    dl.add_argument("--dest", help="kagglehub cache folder (default: kagglehub's)")
    return parser


def run_config_from_args(args: argparse.Namespace, n_classes: int):
    """The run config ``fit``'s flags describe; every invalid value is reported at once."""
    from .config import (DEFAULT_SEED, AugmentationConfig, DataConfig, ModelConfig, OptimConfig,
                         RunConfig, TrainerConfig)
    from .locate import resolve_data_dir
    from .settings import ConfigError

    problems: list[str] = []
    parts: dict = {}

    def seed() -> int:  # one --seed for all; an invalid one is reported once, by the trainer
        return parts["trainer"].seed if "trainer" in parts else DEFAULT_SEED

    builders = {
        "trainer": lambda: settings_from_args(args, TrainerConfig, section="trainer", out_dir=args.out),
        "module": lambda: settings_from_args(args, OptimConfig, section="module"),
        "aug": lambda: settings_from_args(args, AugmentationConfig, section="aug"),
        "data": lambda: settings_from_args(args, DataConfig, section="data", seed=seed(),
                                           root=str(resolve_data_dir(args.data))),
        "model": lambda: settings_from_args(  # the data's size (its own errors reported once)
            args, ModelConfig, section="model", seed=seed(), n_classes=n_classes,
            augmentation=parts.get("aug", AugmentationConfig()),
            **({"image_size": parts["data"].image_size} if "data" in parts else {})),
    }
    for name, build in builders.items():
        try:
            parts[name] = build()
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return RunConfig(data=parts["data"], model=parts["model"], module=parts["module"],
                     trainer=parts["trainer"])


def run_config_from_file(path: str | Path, args: argparse.Namespace):
    """The run config in ``path`` (``.json`` or ``.toml``; any format :func:`~xraynet.config.
    migrate_config` reads), with the settings whose flags were given a value other than their
    default, and ``--data`` / ``--out`` when given, put in its place."""
    import tomllib
    from dataclasses import MISSING, fields, replace

    from .config import AugmentationConfig, DataConfig, ModelConfig, OptimConfig, RunConfig, TrainerConfig
    from .locate import resolve_data_dir

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise XRayNetError(f"cannot read the run config {path} ({exc})") from exc
    if "members" in data:
        raise XRayNetError(f"{path} is an ensemble's config: pass one member's config.json "
                           "(members/memberN/config.json)")
    try:
        base = RunConfig.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise XRayNetError(f"{path} is not a run config ({exc})") from exc

    def given(cls: type, section: str) -> dict:
        prefix, defaults = f"{section}__", {f.name: f.default for f in fields(cls) if f.default is not MISSING}
        return {k[len(prefix):]: v for k, v in vars(args).items()
                if k.startswith(prefix) and k[len(prefix):] in defaults and v != defaults[k[len(prefix):]]}

    trainer_given = given(TrainerConfig, "trainer")
    trainer = replace(base.trainer, **trainer_given, **({"out_dir": args.out} if args.out != "runs" else {}))
    seed = {"seed": trainer.seed} if "seed" in trainer_given else {}
    data = replace(base.data, **given(DataConfig, "data"), **seed,
                   **({"root": str(resolve_data_dir(args.data))} if args.data else {}))
    aug = base.model.augmentation
    if aug is not None:
        aug = replace(aug, **given(AugmentationConfig, "aug"))
    model = replace(base.model, **given(ModelConfig, "model"), **seed, augmentation=aug,
                    image_size=data.image_size)
    return RunConfig(data=data, model=model, module=replace(base.module, **given(OptimConfig, "module")),
                     trainer=trainer)


def resolved_config(config) -> dict:
    """The run config as ``config.json`` records it (training length resolved for the model's
    kind, the backend that would run it)."""
    from .backend import backend_name

    return config.resolved(backend_name()).to_dict()


def cmd_fit(args) -> int:
    from .bundle import read_run_config
    from .data import XRayDataModule
    from .evaluation import evaluate_run
    from .module import XRayClassifier
    from .reporting import write_report
    from .trainer import Trainer

    if args.resume:
        config = read_run_config(Path(args.resume))
    elif args.config:
        config = run_config_from_file(args.config, args)
    else:
        config = run_config_from_args(args, n_classes=3)  # validated before any decoding
    if args.print_config:
        print(json.dumps(resolved_config(config), indent=2))
        return 0
    dm = XRayDataModule.from_config(config.data, cache_dir=args.cache_dir,
                                    use_cache=not args.no_cache).setup()
    model = dataclasses.replace(config.model, n_classes=len(dm.class_names))
    module = XRayClassifier.from_config(model, config.module)
    trainer = Trainer.from_config(config.trainer)
    result = trainer.fit(module, dm, run_dir=args.resume)
    print("\n".join(dm.audit_result.summary_lines()[:3]))
    evaluation = evaluate_run(result.model, dm, result.run_dir)
    write_report(result.model, dm, result.run_dir, seed=config.trainer.seed,
                 probabilities=evaluation.probabilities)
    print(evaluation.text)
    print(f"run directory: {result.run_dir}")
    return 0


def cmd_evaluate(args) -> int:
    from .bundle import load_bundle
    from .data import XRayDataModule
    from .data.folders import is_split_layout
    from .evaluation import evaluate_splits, write_evaluation
    from .locate import resolve_data_dir
    from .trainer import new_run_dir

    bundle = load_bundle(args.model)
    own = Path(bundle.data_config.root) if bundle.config.get("data") else None
    if args.data is None and own is not None and own.exists():
        root = own  # the model's own dataset (any layout), with its recorded split
    else:
        root = resolve_data_dir(args.data)
        if args.class_map or (root.is_dir() and not is_split_layout(root)):
            return _evaluate_external(args, bundle, root)
    dm = XRayDataModule.from_config(bundle.data_config, root=root, cache_dir=args.cache_dir,
                                    use_cache=not args.no_cache,
                                    splits_file=recorded_splits(bundle.directory)).setup()
    if dm.class_names != bundle.class_names:
        raise XRayNetError(f"dataset classes {dm.class_names} differ from the model's {bundle.class_names}")
    datasets = {name: dm.dataset(name) for name in ("test", "test_leak_free")}
    results = evaluate_splits(bundle.model, datasets, dm.class_names)
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
            doubt = "" if p.quality is None or p.quality.ok else (
                "  UNRELIABLE INPUT: " + "; ".join(p.quality.reasons))
            print(f"{p.path}: {p.label}  ({probs}){doubt}")
    flagged = sum(1 for p in predictions if p.quality is not None and not p.quality.ok)
    if flagged:
        log.warning("warning: %d of %d image(s) look unlike the training X-rays; their "
                    "probabilities are unreliable", flagged, len(predictions))
    return 0 if predictions else 2


def recorded_splits(directory) -> Path | None:
    """A run's ``splits.csv`` (the data module applies it only to data without a split of its
    own); None for runs written before it was kept."""
    from .data.split_record import SPLITS_FILE

    path = Path(directory) / SPLITS_FILE if directory else None
    return path if path is not None and path.is_file() else None


def write_predictions_csv(path: str | Path, predictions, class_names: list[str]) -> None:
    """One row per prediction: path, label, every class's probability (and spread with TTA),
    and the input-quality verdict."""
    import csv

    with_std = any(p.std for p in predictions)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label"] + [f"p_{c}" for c in class_names]
                        + ([f"std_{c}" for c in class_names] if with_std else [])
                        + ["quality_ok", "quality_reasons"])
        for p in predictions:
            quality = ([p.quality.ok, "; ".join(p.quality.reasons)] if p.quality is not None
                       else ["", ""])
            writer.writerow([p.path, p.label] + [p.probabilities[c] for c in class_names]
                            + ([p.std[c] for c in class_names] if with_std else []) + quality)


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
    from .config import DEFAULT_SEED
    from .data import XRayDataModule
    from .locate import resolve_data_dir
    from .evaluation import evaluate_run
    from .reporting import write_report
    from .trainer import write_audit

    bundle = load_bundle(args.model)
    if not bundle.config.get("data"):
        raise XRayNetError(f"{bundle.directory} has no config.json with the data settings")
    data = bundle.data_config
    root = resolve_data_dir(args.data) if args.data or not Path(data.root).exists() else None
    dm = XRayDataModule.from_config(data, root=root, cache_dir=args.cache_dir,
                                    use_cache=not args.no_cache,
                                    splits_file=recorded_splits(bundle.directory)).setup()
    if dm.class_names != bundle.class_names:
        raise XRayNetError(f"dataset classes {dm.class_names} differ from the model's {bundle.class_names}")
    run_config = bundle.run_config
    seed = args.seed if args.seed is not None else (run_config.trainer.seed if run_config
                                                     else DEFAULT_SEED)
    write_audit(dm, bundle.directory)  # runs written before the audit was kept get one too
    evaluation = evaluate_run(bundle.model, dm, bundle.directory)
    write_report(bundle.model, dm, bundle.directory, seed=seed,
                 probabilities=evaluation.probabilities)
    print(evaluation.text)
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


COMMANDS = {"fit": cmd_fit, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "explain": cmd_explain, "report": cmd_report, "audit": cmd_audit,
            "info": cmd_info, "download": cmd_download}


def main(argv: list[str] | None = None) -> int:
    from .default_backend import choose_default_backend

    choose_default_backend()  # before anything loads Keras (KERAS_BACKEND or keras.json wins)
    args = build_parser().parse_args(argv)
    if args.command == "download":  # needs no Keras
        setup_logging(args.quiet)
    else:
        setup_process(args.quiet)
        import keras

        log.info("backend: %s (keras %s)", keras.backend.backend(), keras.__version__)
    return run_command({**COMMANDS, **plugin_commands}[args.command], args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
