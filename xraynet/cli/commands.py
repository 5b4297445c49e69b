"""The handlers of the ``xraynet`` commands (``fit``, ``evaluate``, ``predict``, ``explain``,
``report``, ``audit``, ``info``, ``download``): each takes the parsed arguments and returns its
exit code. Keras loads here, not at parse time."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

from ..errors import XRayNetError
from ..runs import HTML_FILE
from .arguments import make_datamodule, settings_from_args, storage_from_args
from .run_config import (count_classes, resolved_config, run_config_from_args, run_config_from_file,
                         run_flags_given)
from .settings import (EvaluateSettings, ExplainSettings, ExportSettings, PredictSettings,
                       ReportSettings)

log = logging.getLogger("xraynet")


def cmd_fit(args) -> int:
    from ..backend import backend_name
    from ..bundle import read_run_config
    from ..data import XRayDataModule
    from ..distributed import (CHILD_ENV, ClusterSettings, barrier, cluster_problems, join_cluster,
                               supervise)
    from ..evaluation import evaluate_run
    from ..module import XRayClassifier
    from ..reporting import write_report
    from ..trainer import Trainer

    if args.resume:
        config = read_run_config(Path(args.resume))
        ignored = run_flags_given(args) + (["--config"] if args.config else [])
        if ignored:
            log.warning("warning: --resume continues %s with the settings it recorded; ignored: %s",
                        args.resume, ", ".join(ignored))
    elif args.config:
        config = run_config_from_file(args.config, args)
    else:  # validated before any decoding; the classes are counted from the file list
        config = run_config_from_args(args, n_classes=count_classes(args) if args.print_config else 3)
    if args.print_config:
        print(json.dumps(resolved_config(config), indent=2))
        return 0
    cluster = settings_from_args(args, ClusterSettings, section="cluster").resolved()
    if cluster.num_processes > 1 and not os.environ.get(CHILD_ENV):
        problems = cluster_problems(cluster, backend_name())
        if problems:
            raise XRayNetError("\n".join(problems))
        return supervise(args.argv, debug=args.debug)  # JAX aborts on a lost peer: watch it
    process = join_cluster(cluster)
    storage = storage_from_args(args)
    dm = XRayDataModule(config=config.data, cache_dir=storage.cache_dir, use_cache=storage.cache)
    if process.is_chief:  # decodes and records the split first; the others then read them
        dm.setup()
    barrier("data", process)
    dm.setup()
    model = dataclasses.replace(config.model, n_classes=len(dm.class_names))
    module = XRayClassifier(model=model, config=config.module)
    trainer = Trainer(config=config.trainer, process=process)
    result = trainer.fit(module, dm, run_dir=args.resume)
    if not process.is_chief:
        return 0  # its share is trained; process 0 writes the run
    print("\n".join(dm.audit_result.summary_lines()[:3]))
    data = dm.split_data()
    evaluation = evaluate_run(result.model, data, result.run_dir)
    write_report(result.model, data, result.run_dir, probabilities=evaluation.probabilities)
    print(evaluation.text)
    print(f"run directory: {result.run_dir}")
    return 0


def cmd_evaluate(args) -> int:
    from ..bundle import load_bundle
    from ..data.folders import is_split_layout
    from ..data.sources import is_sourced_manifest
    from ..evaluation import evaluate_splits, write_evaluation
    from ..runs import load_run_data, new_run_dir, own_data_root, run_data_root

    settings = settings_from_args(args, EvaluateSettings, section="evaluate")
    storage = storage_from_args(args)
    bundle = load_bundle(args.model)
    root = run_data_root(bundle, args.data)
    external = (is_sourced_manifest(root) if root.is_file()
                else root.is_dir() and not is_split_layout(root))
    if root != own_data_root(bundle) and (args.class_map or external):
        return _evaluate_external(args, settings, bundle, root)
    dm = load_run_data(bundle, root, cache_dir=storage.cache_dir, use_cache=storage.cache)
    datasets = {name: dm.dataset(name) for name in ("test", "test_leak_free")}
    results = evaluate_splits(bundle.model, datasets, dm.class_names)
    out = new_run_dir(storage.out, prefix="eval")
    text = write_evaluation(results, dm.class_names, out, extra={"model": str(bundle.directory)})
    print(text)
    print(f"evaluation written to {out}")
    return 0


def _evaluate_external(args, settings: EvaluateSettings, bundle, root: Path) -> int:
    """``evaluate`` on a folder of class sub-folders, a folder of sources or a manifest with a
    ``source`` column: write ``external-<name>/`` (pooled and per source) beside the model and
    add it to the model's report."""
    from ..data.folders import parse_class_map
    from ..data.sources import set_name, sourced_set
    from ..evaluation.external import external_dir_name, format_external, write_external
    from ..predict import Predictor
    from ..reporting import write_model_report

    labelled = sourced_set(root, bundle.class_names, parse_class_map(args.class_map))
    name = settings.name or set_name(root)
    log.info("external set '%s': %d images from %d source(s) (%s)", name, len(labelled.files),
             len(labelled.source_names), ", ".join(labelled.source_names))
    if labelled.missing:
        log.warning("warning: no images of %s in %s; macro figures average over the classes present",
                    ", ".join(labelled.missing), root)
    if labelled.ignored:
        log.warning("warning: %d non-image file(s) ignored (e.g. %s)", len(labelled.ignored),
                    labelled.ignored[0])
    predictor = Predictor(bundle)
    images, kept, failed = predictor.decode(labelled.files)
    for path, reason in failed:
        log.warning("warning: skipped %s: %s", path, reason)
    if not kept:
        raise XRayNetError(f"no readable image in {root}")
    proba = predictor.predict_arrays(images)
    out = bundle.directory / external_dir_name(name)
    summary = write_external(out, name=name, root=root, files=[str(labelled.files[i]) for i in kept],
                             y_true=[labelled.labels[i] for i in kept], proba=proba,
                             sources=[labelled.sources[i] for i in kept],
                             class_names=bundle.class_names, folders=labelled.folders,
                             missing=labelled.missing, skipped=failed,
                             model=str(bundle.directory), seed=settings.seed)
    write_model_report(bundle.directory)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(format_external(summary))
        print(f"external validation written to {out}; report: {bundle.directory / HTML_FILE}")
    return 0


def cmd_predict(args) -> int:
    from ..data.folders import expand_paths
    from ..predict import Predictor, write_predictions_csv

    settings = settings_from_args(args, PredictSettings, section="predict")
    predictor = Predictor.from_path(args.model)
    files, ignored = expand_paths(args.images)
    if ignored:
        log.warning("warning: %d non-image file(s) in the folders ignored (e.g. %s)", len(ignored), ignored[0])
    if not files:
        raise XRayNetError(f"no image files in {', '.join(args.images)}")
    predictions, failed = predictor.predict_files(files, tta=settings.tta, seed=settings.seed)
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


def cmd_explain(args) -> int:
    from ..explain import METHODS, Explainer

    settings = settings_from_args(args, ExplainSettings, section="explain")
    methods = METHODS if settings.method == "both" else (settings.method,)
    explainer = Explainer.from_path(args.model)
    explanations, failed = explainer.explain_files(args.images, settings.out, methods=methods)
    for path, reason in failed:
        log.warning("warning: skipped %s: %s", path, reason)
    for e in explanations:
        print(f"{e.source}: {e.method} -> {Path(settings.out) / e.figure}  predicted {e.label} "
              f"(p = {e.probability:.3f}), border share {e.border_share:.2f}")
    if explanations:
        print(f"explanations written to {settings.out} (summary: explanations.json)")
    return 0 if explanations else 2


def cmd_report(args) -> int:
    from ..evaluation import evaluate_run
    from ..reporting import write_report
    from ..runs import load_run, write_audit

    settings = settings_from_args(args, ReportSettings, section="report")
    storage = storage_from_args(args)
    bundle, dm = load_run(args.model, data=args.data, cache_dir=storage.cache_dir,
                          use_cache=storage.cache)
    write_audit(dm, bundle.directory)  # runs written before the audit was kept get one too
    data = dm.split_data()
    evaluation = evaluate_run(bundle.model, data, bundle.directory)
    write_report(bundle.model, data, bundle.directory, seed=settings.seed,  # None: the run's
                 probabilities=evaluation.probabilities)
    print(evaluation.text)
    print(f"report written to {bundle.directory / HTML_FILE} and model_card.md")
    return 0


def cmd_export(args) -> int:
    from ..bundle import load_bundle
    from ..export import export_bundle, export_problems
    from ..runs import export_description_path

    settings = settings_from_args(args, ExportSettings, section="export")
    problems = export_problems(settings.format)  # before the model loads
    if problems:
        raise XRayNetError("\n".join(problems))
    path = export_bundle(load_bundle(args.model), settings.format, settings.out or None)
    print(f"exported {settings.format} to {path}; its description: {export_description_path(path)}")
    return 0


def cmd_audit(args) -> int:
    from ..runs import new_run_dir, write_audit

    dm = make_datamodule(args).setup()
    print("\n".join(dm.audit_result.summary_lines()))
    out = new_run_dir(storage_from_args(args).out, prefix="audit")
    out.mkdir(parents=True)
    write_audit(dm, out)
    print(f"audit written to {out}")
    return 0


def cmd_info(args) -> int:
    from ..backend import backend_name, cpu_threads, versions

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
    from ..locate import download_dataset

    print(f"dataset downloaded to {download_dataset(args.dest)}")
    return 0


COMMANDS = {"fit": cmd_fit, "evaluate": cmd_evaluate, "predict": cmd_predict, "export": cmd_export,
            "explain": cmd_explain, "report": cmd_report, "audit": cmd_audit,
            "info": cmd_info, "download": cmd_download}
