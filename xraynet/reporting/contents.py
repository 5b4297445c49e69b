"""What a model report says, gathered from a run directory's files into renderer-neutral blocks.

The same sections feed ``model_card.md`` and ``report.html`` (see :mod:`.render`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..bundle import read_json, read_metadata
from ..config import EnsembleConfig, RunConfig, config_from_dict
from ..metadata import BundleMetadata
from ..data.audit import AuditResult
from ..data.description import DatasetDescription, shipped_description
from ..data.layouts import public_summary
from ..evaluation.external import read_external_sets
from ..evaluation.tables import (METRIC_HEADER, fmt, interval_text, metric_rows, source_header,
                                 source_rows)
from ..defaults import CONFIDENT
from ..runs import (AUDIT_FILE, CONFIG_FILE, CURVES_FILE, EXTERNAL_CONFUSION_FILE, HYPERPARAMETERS_FILE,
                    METRICS_FILE, TRUST_FILE, confusion_file)
from .assessment import AcquisitionCheck, Assessment, ExposureCheck, ShiftResult

NOT_FOR_CLINICAL_USE = (
    "NOT FOR CLINICAL USE. This model is a research prototype. It is not a medical device, has "
    "not been validated on patients of any hospital, and must not be used to diagnose, treat, "
    "triage or rule out disease in any person.")
INTENDED_USE = (
    "Research and teaching: to let a research team and medical staff discuss what a "
    "convolutional network learns from frontal chest X-rays labelled {classes}, how sure it is, "
    "and where it looks. Out of scope: any decision about a patient; other views, modalities, "
    "diseases or age groups; images unlike the training data.")
#: limitations of every model xraynet trains, whatever its data
LIMITATIONS = [
    "Small test set: every figure carries a wide bootstrap interval (below); differences "
    "inside the intervals are not evidence.",
    "Test images that duplicate train images inflate the full test score; the leak-free "
    "split leaves them out.",
    "Probabilities are calibrated on the small validation split; read them as rough.",
]


def data_description(data: dict) -> DatasetDescription:
    """The description a bundle's data summary records; for a bundle from before descriptions
    were recorded, the shipped one where its layout and classes are the Kaggle set's."""
    if "description" in data:
        return DatasetDescription.from_dict(data["description"])
    return shipped_description(data.get("layout") or "split-folders", data.get("classes") or [])


def limitations(data: dict) -> list[str]:
    """The data's own known limitations, then those of every model."""
    described = data_description(data)
    own = described.limitations or (
        [] if described.given else ["The data's own limitations are unknown: no description "
                                    "was given (docs/data.md)."])
    return [*own, *LIMITATIONS]


@dataclass
class Paragraph:
    text: str
    strong: bool = False


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    path: str  # relative to the run directory
    caption: str


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)


def _read(run_dir: Path, name: str) -> dict:
    path = run_dir / name
    return read_json(path, name, fix="run `xraynet report` on the run directory to write it "
                     "again") if path.is_file() else {}


def _model_configs(config: dict) -> list[tuple[str, RunConfig]]:
    """(name, typed run config) of the single model or of each ensemble member (none for a
    run without ``config.json``)."""
    if not config:
        return []
    typed = config_from_dict(config)
    if isinstance(typed, EnsembleConfig):
        return [(f"member {i + 1}", m) for i, m in enumerate(typed.members)]
    return [("model", typed)]


def gather(run_dir: str | Path) -> tuple[str, list[Section]]:
    """The report's title and sections from ``run_dir``'s config, metadata, metrics, audit and
    trust files."""
    run_dir = Path(run_dir)
    config = _read(run_dir, CONFIG_FILE)
    metadata = read_metadata(run_dir)
    metrics, audit = _read(run_dir, METRICS_FILE), _read(run_dir, AUDIT_FILE)
    trust = Assessment.from_dict(_read(run_dir, TRUST_FILE))
    splits = metrics.get("splits", {})
    names = metadata.class_names
    title = f"xraynet model report: {run_dir.name}"
    sections = [_overview(metadata, splits, trust), _intended_use(metadata), _data(metadata, audit),
                _preprocessing(config, metadata),
                _hyperparameters(config, metadata, _read(run_dir, HYPERPARAMETERS_FILE)),
                _metrics(splits, trust, names), _populations(metadata, run_dir), _external(run_dir), _calibration(trust), _quality(trust), _shortcut(trust),
                _exposure(trust), _acquisition(trust),
                _explanations(trust), Section("Known limitations", [Bullets(limitations(metadata.data))]),
                _environment(metadata)]
    return title, sections


def _overview(metadata: BundleMetadata, splits: dict, trust: Assessment) -> Section:
    lf = trust.bootstrap.get("test_leak_free")
    lines = [f"Classes: {', '.join(metadata.class_names)}. Architecture: {metadata.architecture}. "
             f"Backend: {fmt(metadata.backend)}. Created {fmt(metadata.created)}."]
    if metadata.backbone:
        lines.append(backbone_line(metadata.backbone))
    if lf:
        lines.append(f"Leak-free test accuracy {interval_text(lf['accuracy'])} (95% bootstrap "
                     f"interval, {lf.n} images); macro-F1 {interval_text(lf['macro_f1'])}.")
    return Section("Overview", [Paragraph(NOT_FOR_CLINICAL_USE, strong=True)]
                   + [Paragraph(line) for line in lines])


def backbone_line(source: dict) -> str:
    """Where the model's features and its starting weights came from (metadata's ``backbone``)."""
    line = f"Backbone: {source.get('name', 'n/a')}; starting weights: {source.get('weights', 'n/a')}"
    if source.get("package"):
        line += (f", from the package {source['package']} {fmt(source.get('version'))}"
                 f" ({source.get('licence', 'licence n/a')})")
    elif source.get("preset"):
        line += f", preset {source['preset']} (keras-hub {fmt(source.get('keras_hub'))})"
    if source.get("sha256"):
        line += f", file {source.get('file')} (SHA-256 {source['sha256']})"
    return line + "."


def _intended_use(metadata: BundleMetadata) -> Section:
    use = INTENDED_USE.format(classes=" or ".join(metadata.class_names))
    return Section("Intended use", [Paragraph(use), Paragraph(NOT_FOR_CLINICAL_USE, strong=True)])


def _data(metadata: BundleMetadata, audit: dict) -> Section:
    data = metadata.data
    counts = data.get("splits", {})
    classes = data.get("classes", metadata.class_names)
    rows = [[split] + [str(c.get(k, 0)) for k in classes] + [str(sum(c.values()))]
            for split, c in counts.items()]
    blocks = [Bullets(data_description(data).lines()), Paragraph(f"Dataset: {public_summary(data)['description']}. Images "
                                             "per split and class (validation: a stratified, "
                                             "duplicate-aware split of train):"),
              Table(["split"] + classes + ["total"], rows)]
    if not audit:
        blocks.append(Paragraph("Duplicate audit: not in this run directory."))
        return Section("Data", blocks)
    result = AuditResult.from_dict(audit)
    blocks.append(Paragraph("Duplicate audit (SHA-256 and perceptual dHash over every file):"))
    blocks.append(Bullets(result.summary_lines()[:3]))
    if result.pairs:
        blocks.append(Table(["kind", "dHash distance", "file", "same image as"],
                            [[p.kind, str(p.distance), p.a, p.b] for p in result.pairs]))
    return Section("Data", blocks)


def _preprocessing(config: dict, metadata: BundleMetadata) -> Section:
    size, resize = metadata.image_size, metadata.resize
    blocks = [Bullets([
        "Decoding: any image mode to 8-bit grayscale; JPEG draft decoding for large scans; "
        "oversized and truncated files refused.",
        f"Resizing: to {size} x {size} pixels by '{resize}' "
        + ("(the whole image squeezed into the square)." if resize == "stretch"
           else "(the dark background around the body cut away, the body's box squeezed into "
                "the square)." if resize == "body"
           else "(the central square kept, proportions intact; the sides of a wide scan, or "
                "the top and bottom of a tall one, are not seen)."),
        "Inside the model (so an exported model takes raw 0..255 pixels): training-time "
        "augmentation, then intensity normalisation.",
    ])]
    header, rows = ["setting"], {}
    for name, cfg in _model_configs(config):
        header.append(name)
        aug = asdict(cfg.model.augmentation) if cfg.model.augmentation else {}
        values = {"intensity normalisation": cfg.model.intensity,
                  **{f"augmentation: {k}": v for k, v in aug.items()}}
        if not aug:
            values["augmentation"] = "none"
        for key, value in values.items():
            rows.setdefault(key, {})[name] = f"{value:g}" if isinstance(value, float) else fmt(value)
    blocks.append(Table(header, [[k] + [v.get(h, "") for h in header[1:]] for k, v in rows.items()]))
    return Section("Preprocessing and augmentation, as run", blocks)


def _hyperparameters(config: dict, metadata: BundleMetadata, search: dict) -> Section:
    header, rows = ["hyperparameter"], {}
    for name, cfg in _model_configs(config):
        header.append(name)
        model = asdict(cfg.model)
        values = {**{k: v for k, v in model.items() if k not in ("augmentation", "intensity")},
                  **asdict(cfg.module), **{f"trainer {k}": v for k, v in asdict(cfg.trainer).items()
                                           if k not in ("out_dir", "tensorboard")}}
        for key, value in values.items():
            rows.setdefault(key, {})[name] = f"{value:.6g}" if isinstance(value, float) else fmt(value)
    blocks = [Table(header, [[k] + [v.get(h, "") for h in header[1:]] for k, v in rows.items()])]
    for member in metadata.members:
        blocks.append(Paragraph(f"{member.name}: best epoch {member.best_epoch} "
                                f"(validation loss {fmt(member.best_value)})."))
    if metadata.best_epoch:
        blocks.append(Paragraph(f"Best epoch {metadata.best_epoch} by {metadata.monitor} "
                                f"= {fmt(metadata.best_value)}."))
    return Section("Hyperparameters", blocks + _selection(search))


def _selection(search: dict) -> list:
    """How train-best chose its members (``hyperparameters.json``'s ``selection``), if it did."""
    selection = search.get("selection") or {}
    ranking = selection.get("ranking")
    if not ranking:
        return []
    chosen = len(search.get("members", []))
    rows = [[str(i + 1), c["source"], fmt(c["cross_validation"]["log_loss"]),
             fmt(c["cross_validation"]["accuracy"]), fmt(c["cross_validation"]["macro_f1"]),
             fmt(c.get("validation_score")),
             ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in c["hyperparameters"].items())]
            for i, c in enumerate(ranking)]
    return [Paragraph(f"How the members were chosen: the search's best configurations and the "
                      f"default one, each trained on {selection['folds']} cross-validation folds "
                      f"of the train folder and scored on the {ranking[0]['cross_validation']['n']} "
                      f"held-out train images (test never read), ranked by held-out log-loss; "
                      f"the first {chosen} are the members (a configuration repeats, with another "
                      f"seed, where fewer were ranked)."),
            Table(["rank", "candidate", "held-out log-loss", "held-out accuracy",
                   "held-out macro-F1", "search's validation loss", "hyperparameters"], rows)
            ] + ([Paragraph(
                f"The average of the members' held-out probabilities (one fit per fold each): "
                f"log-loss {fmt(estimate['log_loss'])}, accuracy {fmt(estimate['accuracy'])}, "
                f"macro-F1 {fmt(estimate['macro_f1'])} on those {estimate['n']} train images, "
                f"an estimate of this model that does not read the test split (its members are "
                f"trained on more images: the whole train folder but its validation split).")]
                 if (estimate := selection.get("members_estimate")) else [])


def _metrics(splits: dict, trust: Assessment, names: list[str]) -> Section:
    blocks = []
    boot = trust.bootstrap
    for split, title in (("test", "Test, full"), ("test_leak_free", "Test, leak-free (duplicates of train removed)")):
        ci, m = boot.get(split), splits.get(split)
        if not ci or not m:
            continue
        blocks += [Paragraph(f"{title}: {m['n']} images; estimate (95% percentile bootstrap "
                             f"interval, {ci.n_resamples} resamples, seed {ci.seed})."),
                   Table(METRIC_HEADER, metric_rows(ci, names, m.get("macro_auc_ovr"))),
                   Figure(confusion_file(split), f"Confusion matrix, {title.lower()}")]
    if "val" in splits:
        blocks.append(Paragraph(f"Validation ({splits['val']['n']} images, used for early stopping and "
                                f"calibration): accuracy {fmt(splits['val']['accuracy'])}, macro-F1 "
                                f"{fmt(splits['val']['macro_f1'])}."))
        blocks.append(Figure(confusion_file("val"), "Confusion matrix, validation"))
    blocks.append(Figure(CURVES_FILE, "Loss and AUC per epoch, train and validation"))
    return Section("Performance with confidence intervals", blocks)


#: what the tool can and cannot say of an input's population
POPULATION_SIGNAL = (
    "An X-ray from a population the model has not seen for a class (an adult's Normal X-ray "
    "where every Normal training image is a child's, another hospital's scanner) is outside "
    "what it has learned: its answer may follow the population or the source, not the disease. "
    "No measured signal tells an input's age or source, so neither this report nor the page "
    "flags such an input: the reader must ask who the patient is.")


def _populations(metadata: BundleMetadata, run_dir: Path) -> Section:
    """Who each class's training images show (the data's description; ages where known), how
    many came from each source, and what external sets showed per source."""
    data = metadata.data
    described = data_description(data).populations
    sources = data.get("sources") or {}
    classes = data.get("classes", metadata.class_names)
    rows = [[c, described.get(c, "not described (dataset.json's populations)"),
             "; ".join(f"{s} {n[c]}" for s, n in sources.items() if n.get(c)) or "n/a"]
            for c in classes]
    blocks = [Paragraph("Who each class was trained on (train and validation images, by source; "
                        + (f"validated on the held-out source(s) {data['val_source']})."
                           if data.get("val_source") else "validation is a share of train).")),
              Table(["class", "population", "images by source"], rows),
              Paragraph(POPULATION_SIGNAL)]
    for _, ext in read_external_sets(run_dir):
        per_source = ext.get("sources") or {}
        weak = []
        for source, m in per_source.items():
            sens = m.get("sensitivity", {})
            low = [f"{c} {fmt(v, 2)}" for c, v in sens.items()
                   if isinstance(v, (int, float)) and v == v and v < 0.8]
            if low:
                weak.append(f"{source}: sensitivity {', '.join(low)}")
        if weak:
            blocks.append(Paragraph(f"External set {ext['name']}: classes recognised less than 80% "
                                    f"of the time, by source: {'; '.join(weak)}."))
    return Section("Populations the model has seen", blocks)


def _external(run_dir: Path) -> Section:
    """Every external set evaluated so far (``external-*/`` folders of the run directory)."""
    found = read_external_sets(run_dir)
    if not found:
        return Section("External validation", [Paragraph(
            "No external set evaluated yet. Images from other hospitals are the real test of this "
            "model: 'xraynet evaluate RUN_DIR --data DIR' scores any folder of class sub-folders "
            "(or of sources, each with class sub-folders, or a manifest with a source column) and "
            "adds it here, per source and pooled.")])
    blocks = [Paragraph("Images from outside the training collection, scored with the calibrated "
                        "model; estimates with 95% percentile bootstrap intervals. Macro figures "
                        "average over the classes each set holds.")]
    for folder, ext in found:
        m = ext["metrics"]
        counts = ", ".join(f"{c} {n}" for c, n in m["counts"].items())
        blocks.append(Paragraph(f"{ext['name']}: {m['n']} images ({counts}) from the folder {Path(ext['root']).name}, "
                                f"evaluated {ext.get('evaluated', 'n/a')}. Folders: "
                                + ", ".join(f"{f} -> {c}" for f, c in ext["folders"].items()) + "."
                                + (f" Missing classes: {', '.join(ext['missing_classes'])}."
                                   if ext["missing_classes"] else "")
                                + (f" Skipped {len(ext['skipped'])} unreadable file(s)."
                                   if ext["skipped"] else "")))
        per_source = ext.get("sources") or {}
        if len(per_source) > 1:
            worst = ext.get("worst_source")
            blocks += [Paragraph(f"By source ({len(per_source)} sources; worst: {worst}, the lowest "
                                 "macro-F1 over the classes it holds). Each class's sensitivity "
                                 "and specificity; n/a where a source holds no image of the class."),
                       Table(source_header(list(m["counts"])),
                             source_rows(per_source, list(m["counts"]), pooled=m, worst=worst)),
                       Paragraph("Pooled over every source:")]
        blocks += [Table(METRIC_HEADER, metric_rows(m["bootstrap"], list(m["counts"]),
                                                    m.get("macro_auc_ovr"))),
                   Figure(f"{folder}/{ext.get('confusion_matrix', EXTERNAL_CONFUSION_FILE)}",
                          f"Confusion matrix, external set {ext['name']}")]
    return Section("External validation", blocks)


def _calibration(trust: Assessment) -> Section:
    cal = trust.calibration
    if not cal:
        return Section("Calibration", [Paragraph("Not assessed.")])
    rows = [[split, str(c.n), f"{fmt(c.ece_before)} -> {fmt(c.ece_after)}",
             f"{fmt(c.brier_before)} -> {fmt(c.brier_after)}",
             f"{fmt(c.nll_before)} -> {fmt(c.nll_after)}"] for split, c in cal.items()]
    return Section("Calibration", [
        Paragraph(f"Temperature scaling fitted on the validation split: T = {fmt(trust.temperature)} "
                  "(T > 1 softens over-confident probabilities); predict applies it. Calibration "
                  "only softens (T >= 1): the validation split also chose the checkpoint, so it "
                  "flatters the model, and sharpening on its evidence would make the model surer "
                  "than it has shown it deserves. Unconstrained, validation would choose T = "
                  f"{fmt(trust.unconstrained_temperature)}."),
        Table(["split", "images", "ECE (15 bins) before -> after", "Brier before -> after",
               "NLL before -> after"], rows),
        Figure(trust.reliability_diagram, "Reliability diagram on test")])


def _quality(trust: Assessment) -> Section:
    q = trust.quality
    if not q:
        return Section("Input-quality gate", [Paragraph("Not assessed.")])
    rows = [[split, str(f.n), f"{f.flagged} ({f.flag_rate:.1%})",
             ", ".join(f"{k}: {v}" for k, v in f.reasons.items()) or "none"]
            for split, f in q.flags.items()]
    return Section("Input-quality gate", [
        Paragraph("predict, the web page and the API flag an image as unreliable when it is a "
                  "colour image, very small, near-uniform, or when its features lie far from the "
                  f"training X-rays' ({q.method}; limit {fmt(q.limit)}, "
                  f"{_times(q.margin)}the {q.quantile:.0%} quantile of the "
                  "validation distances). Flagged images "
                  "still get probabilities, shown with the reason."),
        Table(["split", "images", "flagged", "reasons"], rows)])


def _times(margin: float) -> str:
    """``"1.1 times "`` before a quantile, nothing for a margin of 1."""
    return "" if margin == 1.0 else f"{margin:g} times "


def _shortcut(trust: Assessment) -> Section:
    sc = trust.shortcut
    if not sc:
        return Section("Shortcut check", [Paragraph("Not assessed.")])
    rows = [[name, str(v.n), fmt(v.mean_border_share), "FLAGGED" if v.flagged else "ok"]
            for name, v in sc.per_class.items()]
    verdict = (f"Flagged: {', '.join(sc.flagged)}. The model puts much of its attention on the "
               "image border, where markers and text sit; question these predictions."
               if sc.flagged else "No class above the threshold.")
    return Section("Shortcut check", [
        Paragraph(f"Share of Grad-CAM mass in the outer {sc.border_fraction:.0%} border of each "
                  f"image, mean over the test images of each true class; flagged above "
                  f"{sc.threshold:.0%}. For scale: a uniform map puts {sc.uniform_share:.0%} "
                  "there."),
        Table(["class", "images", "mean border share", "flag"], rows),
        Paragraph(verdict, strong=bool(sc.flagged))])


def _stress_section(title: str, intro: str, first_column: str,
                    result: ExposureCheck | AcquisitionCheck,
                    rows: list[tuple[str, ShiftResult]], verdict: str) -> Section:
    """A stress test's section: the unchanged accuracy, then per change its accuracy, the share
    of predictions it moved and where they went, and the verdict (strong when flagged)."""
    table = [["unchanged", fmt(result.accuracy), "", "", ""]]
    table += [[label, fmt(v.accuracy), _share(v, result.n) + (" FLAGGED" if v.flagged else ""),
               fmt(v.changed_confident), _moves(v.moves)]
              for label, v in rows]
    return Section(title, [
        Paragraph(intro),
        Table([first_column, "accuracy", "predictions changed (95% interval)",
               f"of them confident (p >= {CONFIDENT:g})", "changes (from -> to)"], table),
        Paragraph(verdict, strong=bool(result.flagged)),
        Paragraph(f"On {result.n} images one image is {1 / max(result.n, 1):.1%}; the interval "
                  "(Wilson) is the range of rates that would give the share seen, so a share "
                  "near the flag may lie on either side of it. A change that tips an uncertain "
                  "prediction (shown as such to the user) says less than one that overturns a "
                  "confident one: the confident column counts those, by the calibrated "
                  "probability of the unchanged image.")])


def _share(v: ShiftResult, n: int) -> str:
    """``11% (6 of 57; 5-21%)``: a stress test's share of changed predictions, how many, and its
    interval (reports written before the interval was recorded give the share alone)."""
    if v.changed_interval is None:
        return f"{v.changed:.0%}"
    low, high = v.changed_interval
    return f"{v.changed:.0%} ({v.n_changed} of {n}; {low:.0%}-{high:.0%})"


def _moves(moves: dict[str, int]) -> str:
    """``{"A -> B": n}`` as text, most frequent first."""
    return ", ".join(f"{k}: {n}" for k, n in sorted(moves.items(), key=lambda kv: -kv[1])) or "none"


def _exposure(trust: Assessment) -> Section:
    ex = trust.exposure
    if not ex:
        return Section("Exposure stress test", [Paragraph("Not assessed.")])
    rows = [(f"gamma {gamma} ({'brighter' if float(gamma) < 1 else 'darker'})", v)
            for gamma, v in ex.per_gamma.items()]
    verdict = (f"Flagged: exposure alone changes {ex.changed_any:.0%} of the predictions. The "
               "model reads overall brightness, which differs between the sources of the classes; "
               "images from another scanner or exposure may be classified by their brightness."
               if ex.flagged else
               f"Exposure alone changes {ex.changed_any:.0%} of the predictions (flag above "
               f"{ex.threshold:.0%}).")
    intro = (f"The {ex.n} {ex.split} images predicted again a little brighter "
             "or darker (pixels 255 * (x / 255) ** gamma), as another scanner or exposure would "
             "give them. The diagnosis should not change.")
    return _stress_section("Exposure stress test", intro, "exposure", ex, rows, verdict)


def _acquisition(trust: Assessment) -> Section:
    acq = trust.acquisition
    if not acq:
        return Section("Acquisition-shift stress suite", [Paragraph("Not assessed.")])
    rows = [(f"{v.description} ({name})", v) for name, v in acq.variants.items()]
    verdict = (f"Flagged: {', '.join(acq.flagged)} changed more than {acq.threshold:.0%} of "
               "the predictions. The model depends on how an image was acquired or stored, which "
               "differs between hospitals; expect it to fail on such images."
               if acq.flagged else
               f"No variant changed more than {acq.threshold:.0%} of the predictions (at most "
               f"{acq.max_changed:.0%}).")
    intro = (f"The {acq.n} leak-free test files decoded again after one change of acquisition "
             "each, as another hospital's scanner, archive or export would give them. The "
             "diagnosis should not change.")
    return _stress_section("Acquisition-shift stress suite", intro, "variant", acq, rows, verdict)


def _explanations(trust: Assessment) -> Section:
    blocks = [Paragraph("Grad-CAM (gradient of the class score at the last convolutional block) and "
                        "occlusion sensitivity (drop of the probability when a grey patch hides a "
                        "region) for leak-free test images; probabilities are calibrated.")]
    for kind, title in (("correct", "Correctly classified"), ("wrong", "Misclassified")):
        items = trust.explanations.get(kind, ())
        blocks.append(Paragraph(f"{title}: {len({e.source for e in items})} images."
                                + ("" if items else " None.")))
        for e in items:
            blocks.append(Figure(e.figure, f"{e.source}: {e.method}, predicted {e.label} "
                                           f"(p = {e.probability:.2f}), true {e.true_label}, "
                                           f"border share {fmt(e.border_share)}"))
    return Section("Explanations", blocks)


def _environment(metadata: BundleMetadata) -> Section:
    return Section("Backend and library versions", [
        Paragraph(f"Keras backend: {fmt(metadata.backend)}."),
        Table(["library", "version"], [[k, v] for k, v in metadata.versions.items()])])
