#!/usr/bin/env python
"""A synthetic chest-X-ray-like dataset of N images in any layout, for scale tests (nothing in
it is a real X-ray). Each class draws a different bright shape in a noisy grey field, so the
classes are learnable; about 2% of the images are exact copies and 2% near copies of another
(so the duplicate audit has work to do); files are 256 px grayscale JPEGs (DICOM with --dicom).

  python scripts/make_synthetic.py OUT --n 10000 --layout split   # OUT/{train,test}/<class>/
  python scripts/make_synthetic.py OUT --n 10000 --layout flat    # OUT/<class>/
  python scripts/make_synthetic.py OUT --n 10000 --layout manifest  # OUT/manifest.csv with patients
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("Covid", "Normal", "Viral Pneumonia")
LAYOUTS = ("split", "flat", "manifest")


def _anatomy(rng: np.random.Generator, size: int, *, cells: int = 24, amplitude: float = 2.5
             ) -> np.ndarray:
    """A smooth random field of structures a few cells wide: each image's own shapes and
    shading, as real X-rays differ by patient, pose and exposure. Without it every image shares
    one background: two images' difference hashes then differ in a median of 40 of 256 bits, and
    31% of all pairs share the value of one of 13 20-bit bands, so a duplicate audit that
    compares such pairs does work growing with the square of the set. With it: 75 bits and 1.0%,
    near real chest X-rays (86 bits, 1.35%); the Scale section of BENCHMARKS.md measures how
    alike the hashes are."""
    coarse = Image.fromarray(rng.normal(0.0, 1.0, (cells, cells)).astype(np.float32), mode="F")
    return amplitude * np.asarray(coarse.resize((size, size), Image.Resampling.BICUBIC))


def draw(index: int, size: int, seed: int) -> tuple[int, np.ndarray]:
    """Image ``index``: its class and pixels (a copy or near copy of an earlier one for ~4%)."""
    rng = np.random.default_rng([seed, index])
    source = index
    kind = rng.random()
    if index > 10 and kind < 0.04:  # duplicate an earlier image
        source = int(rng.integers(0, index))
    src_rng = np.random.default_rng([seed, source])
    label = source % len(CLASSES)
    yy, xx = np.mgrid[:size, :size] / size
    img = 60 + 40 * np.exp(-((xx - 0.5) ** 2 + (yy - 0.55) ** 2) * 3) + src_rng.normal(0, 12, (size, size))
    img += _anatomy(src_rng, size)
    cy, cx = 0.3 + 0.4 * src_rng.random(2)
    if label == 0:
        img[(np.abs(yy - cy) < 0.08) & (np.abs(xx - cx) < 0.08)] += 110
    elif label == 1:
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 0.01] += 110
    else:
        img[(np.abs(yy - cy) < 0.02) & (np.abs(xx - 0.5) < 0.3)] += 110
    if source != index and kind < 0.02:  # near copy: a little noise on top
        img = img + rng.normal(0, 3, img.shape)
    return label, np.clip(img, 0, 255).astype(np.uint8)


def _write(job) -> tuple[str, int, str]:
    index, path, size, seed, dicom = job
    label, pixels = draw(index, size, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if dicom:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from dicom_files import write_dicom

        write_dicom(path, pixels)
    else:
        Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    return str(path), label, f"p{index // 3:07d}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="folder to write (created)")
    p.add_argument("--n", type=int, default=10_000, help="images (default: 10000)")
    p.add_argument("--layout", choices=LAYOUTS, default="split", help="default: split")
    p.add_argument("--size", type=int, default=256, help="side in pixels (default: 256)")
    p.add_argument("--test-fraction", type=float, default=0.2, help="split layout: test share")
    p.add_argument("--dicom", action="store_true", help="write DICOM files instead of JPEG")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = p.parse_args(argv)
    out = Path(args.out)
    suffix = ".dcm" if args.dicom else ".jpg"
    rng = np.random.default_rng(args.seed)
    is_test = rng.random(args.n) < args.test_fraction
    jobs = []
    for i in range(args.n):
        label = CLASSES[draw_label(i, args.seed)]
        name = f"img{i:07d}{suffix}"
        if args.layout == "split":
            path = out / ("test" if is_test[i] else "train") / label / name
        elif args.layout == "flat":
            path = out / label / name
        else:
            path = out / "images" / f"{i // 1000:04d}" / name
        jobs.append((i, str(path), args.size, args.seed, args.dicom))
    rows = []
    spawn = multiprocessing.get_context("spawn")  # safe in a process that runs JAX threads
    pool = ProcessPoolExecutor(max_workers=args.workers, mp_context=spawn) if args.workers > 1 else None
    results = pool.map(_write, jobs, chunksize=256) if pool else map(_write, jobs)
    try:
        for done, (path, label, patient) in enumerate(results, 1):
            rows.append((path, label, patient))
            if done % max(1, args.n // 10) == 0:
                print(f"  {done}/{args.n} images written", file=sys.stderr)
    finally:
        if pool:
            pool.shutdown()
    if args.layout == "manifest":
        with (out / "manifest.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "label", "group"])
            for path, label, patient in rows:
                writer.writerow([str(Path(path).relative_to(out)), CLASSES[label], patient])
    print(f"{args.n} images in the {args.layout} layout under {out}")
    return 0


def draw_label(index: int, seed: int) -> int:
    """The class of image ``index`` without drawing it (a copy takes its source's class)."""
    rng = np.random.default_rng([seed, index])
    source = index
    if index > 10 and rng.random() < 0.04:
        source = int(rng.integers(0, index))
    return source % len(CLASSES)


if __name__ == "__main__":
    sys.exit(main())
