"""Targets and the ``BENCHMARKS.md`` text, from a benchmark run's results (pure functions)."""

from __future__ import annotations

import statistics

GIB = 1024.0  # MiB
EPS = 1e-9  # float slack: the mean of three 0.95s is 0.9499999999999998
#: today's goal for the default fit's leak-free macro-F1, mean of the seeds (issue 41)
DEFAULT_FIT_GOAL = 0.93


def _stats(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "std": statistics.pstdev(values) if len(values) > 1
            else 0.0, "min": min(values), "max": max(values)}


def accuracy_summary(fits: list[dict]) -> dict:
    """Mean, std, min and max of each metric over the seeds, per test split."""
    out = {}
    for split in ("test", "test_leak_free"):
        out[split] = {m: _stats([f["metrics"][split][m] for f in fits])
                      for m in ("accuracy", "macro_f1", "macro_auc_ovr")}
    out["wall_seconds"] = _stats([f["process_wall_seconds"] for f in fits])
    out["peak_rss_mib"] = max(f["peak_rss_mib"] for f in fits)
    return out


def machine_peak_gflops(results: dict) -> float:
    """The best float32 matmul rate measured in the run (over libraries and backends)."""
    return max(p["peak_gflops"] for p in results["peak"].values())


def fastest_backend(results: dict) -> str:
    return max(results["training"], key=lambda b: results["training"][b]["images_per_second"])


def targets(results: dict) -> list[dict]:
    """Each target: what, measured value, goal, met (None where a section was skipped)."""
    acc = accuracy_summary(results["fits"])
    lf = acc["test_leak_free"]["macro_f1"]
    ref = results.get("reference", {})
    ref_pipe = results.get("reference_pipeline", {})
    fast = fastest_backend(results)
    share = results["training"][fast]["achieved_gflops"] / machine_peak_gflops(results)
    default = results["plan"]["default_backend"]
    inf = results["inference"][default]
    rows = [
        ("default fit: leak-free macro-F1 mean over seeds", lf["mean"], f">= {DEFAULT_FIT_GOAL}",
         lf["mean"] >= DEFAULT_FIT_GOAL - EPS),
    ]
    stressed = [f["stress"]["max_changed"] for f in results["fits"] if "stress" in f]
    if stressed:
        rows.append(("default fit: most predictions one acquisition variant changes (worst seed)",
                     max(stressed), "<= 10%", max(stressed) <= 0.10 + EPS))
    if "process_wall_seconds" in ref:
        fit_wall = acc["wall_seconds"]["mean"]
        rows.append(("default fit wall time (s, mean) vs reference 20-epoch wall time",
                     fit_wall, f"<= {ref['process_wall_seconds']:.0f}",
                     fit_wall <= ref["process_wall_seconds"]))
    else:
        rows.append(("default fit wall time vs reference", acc["wall_seconds"]["mean"],
                     "reference not run", None))
    if "images_per_second" in ref_pipe:
        ratio = results["pipeline"]["warm_images_per_second"] / ref_pipe["images_per_second"]
        rows.append(("warm input pipeline / reference images/s", ratio, ">= 20x", ratio >= 20))
    else:
        rows.append(("warm input pipeline / reference images/s", None, "reference not run", None))
    rows += [
        (f"training FLOP/s share of matmul peak ({fast})", share, ">= 20%", share >= 0.20),
        (f"inference load + first prediction (s, {default})", inf["load_plus_first_seconds"],
         "<= 3 s", inf["load_plus_first_seconds"] <= 3.0),
        (f"inference warm single-image p50 (ms, {default})", inf["single_image"]["p50_ms"],
         "<= 20 ms", inf["single_image"]["p50_ms"] <= 20.0),
        ("peak RSS of the default fit (MiB)", acc["peak_rss_mib"], "<= 3072", acc["peak_rss_mib"] <= 3 * GIB),
    ]
    return [{"target": t, "value": v, "goal": g, "met": m} for t, v, g, m in rows]


#: what limits a target when it is not met (keyed by the start of the target's name)
LIMITS = {
    "default fit: leak-free macro-F1": (
        "The data limit it more than the recipe. On held-out images of the train folder (5-fold "
        "cross-validation, the test split never read) the default scores 0.899 accuracy (0.915 "
        "before gamma jitter, which the robustness study traded for fewer exposure flips), and "
        "none of the other changes tried on the original images (histogram equalisation, "
        "intensities divided by 255, squeezing instead of cropping, 256 px input, double width, "
        "wider zoom) is more accurate beyond its standard error without reading a cue of the "
        "sources (docs/studies/). The test folder is not drawn like the train folder: its Covid "
        "images are a third of the size (median 0.77 against 2.33 megapixels) and squarer "
        "(width/height 1.05 against 1.17), and the 9 leaked test images are all Covid, so 17 "
        "leak-free Covid images remain; one leak-free image moves accuracy by 1.75 points, and "
        "seeds differ by ten. Normal and Viral Pneumonia come from one paediatric centre and are "
        "the pair a model confuses most."),
    "default fit: most predictions one acquisition variant changes": (
        "On held-out train images the default's acquisition changes move at most 6% of the "
        "predictions (docs/studies/ROBUSTNESS.md); on the test split two to three times as many, "
        "mostly the border crop and the 224 px squeeze. The test folder's images differ from "
        "the train folder's (smaller, squarer Covid images), so they are themselves an "
        "acquisition shift; 57 leak-free images make one image 1.75 points. Since "
        "docs/studies/BODYBOX.md the default cuts the dark background away and squeezes the "
        "body's box into the square (it passed a confirmatory rule on three fresh seeds: the "
        "squeeze moved 0.7% of held-out predictions against 6.3% for the central square); nine "
        "earlier studies, aimed at the same variants with the central square kept, failed their "
        "rules: wider aspect jitter (docs/studies/ASPECT.md, SQUEEZE.md), a fixed low-pass "
        "(ANTIALIAS.md), test-time augmentation (TTA.md), mixup (MIXUP.md), mirrored edges "
        "(FILL.md), zooming only in (ZOOMIN.md), training on whole squeezed images (RESIZEMIX.md) "
        "and weight averaging (EMA.md). What remains is the border crop and blur, each a few "
        "images of 57: a prediction the model is unsure of tips either way."),
    "training FLOP/s share": (
        "The counted FLOPs are the network's convolutions and dense layers; the training step also "
        "runs the in-model augmentation (an affine resampling, a half-resolution round trip, a "
        "separable blur, noise and a gamma change) whose work is not counted. On 2 shared cores "
        "both the matmul peak and the training rate move between runs: two runs on one "
        "machine, a few minutes apart, gave 14% and 28% (the second with gamma jitter added, "
        "which costs one power per pixel)."),
    "default fit wall time": (
        "The default fit's time is its training epochs (40, each with a validation pass) plus the "
        "model report (calibration, bootstrap, Grad-CAM and occlusion explanations, the exposure "
        "and acquisition stress tests)."),
}


#: what a met target rests on, where one run of three seeds does not settle it
CAVEATS = {
    "default fit: leak-free macro-F1": lambda results: (
        "Leak-free macro-F1: met in this run, by a margin the seeds' spread covers: on 57 "
        "leak-free images one image is 1.75 points, and this run's seeds span {spread:.1f} points. "
        "Since the 2026-11-27 05:15 UTC run (mean 0.909, min 0.879) the default fits the body's "
        "box into the square instead of the central square (docs/studies/BODYBOX.md); on the "
        "test split the change is within the seeds' spread, on held-out train images "
        "(cross-validation, the test split never read) it scored 1.6 ± 1.0 points more accuracy "
        "over three seeds (744 predictions).".format(
            spread=100 * (lambda f1: f1["max"] - f1["min"])(
                accuracy_summary(results["fits"])["test_leak_free"]["macro_f1"]))),
    "default fit: most predictions one acquisition variant changes": lambda results: (
        "Acquisition shifts: met since the default fits the body's box into the square "
        "(docs/studies/BODYBOX.md): the 224 px squeeze, which moved 11 to 12% of the "
        "central-square default's predictions on every seed of the 2026-11-27 05:15 UTC run, "
        "moves {squeeze} in this run; the worst variant on the worst seed is {worst} ({share:.1%}), "
        "a few images of 57: one image is 1.75 points.".format(**_acquisition_facts(results))),
    "default fit wall time": lambda results: (
        f"Wall time: the reference's own time moves with the machine: "
        f"{results['reference']['process_wall_seconds']:.0f} s in this run, 95 s in the "
        f"2026-11-27 05:15 UTC run on the same code; the default fit took "
        f"{accuracy_summary(results['fits'])['wall_seconds']['mean']:.0f} s here and 91 s there."),
    "training FLOP/s share": (
        "FLOP/s share: met in this run; earlier runs on this machine measured 14% to 28%: on 2 shared cores "
        "both the matmul peak and the training rate move between runs."),
}


def _acquisition_facts(results: dict) -> dict:
    """The squeeze's shares over the seeds, and the worst seed's worst variant and share."""
    stress = [f["stress"] for f in results["fits"] if "stress" in f]
    squeeze = [s["acquisition_changed"].get("squeeze_224", float("nan")) for s in stress]
    worst = max(stress, key=lambda s: s["max_changed"])
    variant = max(worst["acquisition_changed"], key=worst["acquisition_changed"].get)
    return {"squeeze": ", ".join(f"{v:.0%}" for v in squeeze), "worst": variant,
            "share": worst["max_changed"]}


def caveats(results: dict) -> list[str]:
    """Notes on what a met target rests on (:data:`CAVEATS`: a text, or a function of the
    results for what this run measured)."""
    met = [t["target"] for t in targets(results) if t["met"] is True]
    return [text(results) if callable(text) else text for key, text in CAVEATS.items()
            if any(t.startswith(key) for t in met)]


def limits(results: dict) -> list[str]:
    """Notes on what limits each unmet target."""
    unmet = [t["target"] for t in targets(results) if t["met"] is False]
    notes = [text for key, text in LIMITS.items() if any(t.startswith(key) for t in unmet)]
    if any(t.startswith("training FLOP/s share") for t in unmet):
        notes.append(_epoch_spread(results))
    return notes


def _epoch_spread(results: dict) -> str:
    """How much the steady training epochs of the default backend varied in this run."""
    backend = fastest_backend(results)
    run = results["training"][backend]
    steady = sorted(run["epoch_seconds"][1:])
    best = run["train_images"] / steady[0]
    peak = machine_peak_gflops(results)
    share = best * run["training_flops_per_image"] / 1e9 / peak if peak else float("nan")
    return (f"The steady training epochs on {backend} took {steady[0]:.2f} to {steady[-1]:.2f} s "
            f"for the same {run['train_images']} images (median {statistics.median(steady):.2f} s, the "
            f"figure above): this machine's throughput varied between epochs of one run. At the "
            f"fastest epoch, {best:.0f} images/s would be {share:.0%} of the matmul peak.")


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict, *, command: str, notes: list[str] | None = None) -> str:
    """The whole ``BENCHMARKS.md``."""
    m, plan = results["machine"], results["plan"]
    acc = accuracy_summary(results["fits"])
    parts = [
        "# Benchmarks",
        "",
        f"Measured {results['started']} by `{command}`"
        f"{' (QUICK smoke run: not representative)' if plan['quick'] else ''}; "
        f"{results['total_seconds'] / 60:.1f} minutes in all.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}. "
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        f"Default backend: **{plan['default_backend']}**; backends measured: "
        f"{', '.join(plan['backends'])}.",
        "",
        "## Targets",
        "",
        _table(["target", "measured", "goal", "met"],
               [[t["target"], t["value"], t["goal"],
                 {True: "yes", False: "**NO**", None: "not measured"}[t["met"]]]
                for t in targets(results)]),
        "",
    ]
    ref = results.get("reference", {})
    parts += ["## Reference: the course's workflow", ""]
    if "skipped" in ref:
        parts += [f"Not run: {ref['skipped']}.", ""]
    else:
        parts += [
            "Keras 2 (tf-keras) `ImageDataGenerator.flow_from_directory` (rescale 1/255, zoom 0.1, "
            "rotation 25, shifts 0.05), "
            f"{ref['image_size']}x{ref['image_size']} grayscale, batch {ref['batch_size']}, two conv "
            f"layers, Adam 0.002, {ref['epochs']} epochs on the whole train folder; test scored once at the end.",
            "",
            _table(["test accuracy", "test macro-F1", "s/epoch", "wall s (process)"],
                   [[ref["test_accuracy"], ref["test_macro_f1"], ref["seconds_per_epoch"],
                     ref["process_wall_seconds"]]]),
            ""]
    parts += ["## Accuracy: default `xraynet fit` over seeds "
              + ", ".join(str(f["seed"]) for f in results["fits"]), "",
              _table(["split", "metric", "mean", "std", "min", "max"],
                     [[s, k, v["mean"], v["std"], v["min"], v["max"]]
                      for s in ("test", "test_leak_free") for k, v in acc[s].items()]),
              "",
              _table(["seed", "test acc", "leak-free acc", "leak-free macro-F1", "leak-free AUC",
                      "best epoch", "wall s", "peak RSS MiB"],
                     [[f["seed"], f["metrics"]["test"]["accuracy"],
                       f["metrics"]["test_leak_free"]["accuracy"],
                       f["metrics"]["test_leak_free"]["macro_f1"],
                       f["metrics"]["test_leak_free"]["macro_auc_ovr"], f["best_epoch"],
                       f["process_wall_seconds"], f["peak_rss_mib"]] for f in results["fits"]]),
              ""]
    stressed = [f for f in results["fits"] if "stress" in f]
    if stressed:
        variants = list(stressed[0]["stress"]["acquisition_changed"])
        parts += ["### Acquisition-shift stress suite of each default fit (leak-free test)", "",
                  "Share of predictions each change alone moves (accuracy after it in brackets); "
                  "exposure: gamma 0.8 or 1.25 on the full test split.", "",
                  _table(["seed"] + variants + ["exposure"],
                         [[f["seed"]] + [f"{f['stress']['acquisition_changed'][v]:.0%} "
                                         f"({f['stress']['acquisition_accuracy'][v]:.2f})"
                                         for v in variants]
                          + [f"{f['stress']['exposure_changed']:.0%}"] for f in stressed]), ""]
    pipe, ref_pipe = results["pipeline"], results.get("reference_pipeline", {})
    parts += ["## Input pipeline (no model)", "",
              _table(["pipeline", "images/s"],
                     [["xraynet cold (decode every file, write the cache)", pipe["cold_images_per_second"]],
                      ["xraynet warm (cache load + one epoch of shuffled batches; median of "
                       f"{len(pipe.get('warm_repeats_seconds', [0]))})",
                       pipe["warm_images_per_second"]],
                      ["reference flow_from_directory (decode + augment every epoch)",
                       ref_pipe.get("images_per_second")]]), ""]
    parts += ["## Training (default model)", "",
              _table(["backend", "train images/s", "first-epoch overhead s", "FLOPs/image (train)",
                      "achieved GFLOP/s", "matmul peak GFLOP/s", "share of peak"],
                     [[b, t["images_per_second"], t["first_epoch_overhead_seconds"],
                       float(t["training_flops_per_image"]), t["achieved_gflops"],
                       results["peak"][b]["peak_gflops"],
                       t["achieved_gflops"] / machine_peak_gflops(results)]
                      for b, t in results["training"].items()]), ""]
    parts += ["## End to end", "",
              _table(["job", "wall s", "peak RSS MiB", "details"],
                     [["default fit (mean over seeds)", acc["wall_seconds"]["mean"],
                       acc["peak_rss_mib"], f"{len(results['fits'])} runs"]]
                     + ([["default Hyperband search", results["search"]["process_wall_seconds"],
                          results["search"]["peak_rss_mib"],
                          f"{results['search']['trials']} trials, epoch budget "
                          f"{results['search']['epoch_budget']}"]] if "search" in results else [])),
              ""]
    parts += ["## Inference (exported model, raw file to probabilities)", "",
              _table(["backend", "load s", "first prediction s", "p50 ms", "p95 ms",
                      "batch images/s"],
                     [[b, i["load_seconds"], i["first_prediction_seconds"],
                       i["single_image"]["p50_ms"], i["single_image"]["p95_ms"],
                       i["batch_images_per_second"]] for b, i in results["inference"].items()]), ""]
    if results.get("added"):
        parts += ["Rows added later (`--add-backend`), on the same machine: " + "; ".join(
            f"{b} measured {when}" for b, when in results["added"].items()) + ".", ""]
    notes = limits(results) + list(notes or [])
    if notes:
        parts += ["## Notes: what limits the unmet targets", ""] + [f"- {n}" for n in notes] + [""]
    if caveats(results):
        parts += ["## Notes: what the met targets rest on", ""] + [f"- {n}" for n in caveats(results)] + [""]
    return "\n".join(parts)
