"""The course's reference workflow, as a learner of the seed project builds it (Keras 2 via tf-keras).

``ImageDataGenerator.flow_from_directory`` (rescale 1/255, zoom, rotation, shifts; 256x256
grayscale, batch 32) feeds a small CNN (two conv layers, Adam 0.002). Run as a module, it prints
one JSON line: per-epoch seconds, wall time, test accuracy and macro-F1, and the generator's
images/s on its own. The test split is only scored at the end (the course also validated on it
every epoch; that extra work is left out, which makes the reference faster, not slower).
"""

from __future__ import annotations

import argparse
import json
import time

# Kept apart from xraynet_bench.timing on purpose: importing xraynet would import Keras 3 into
# the reference's process and add its start-up to the reference's measured wall time.
RESULT_PREFIX = "BENCH_RESULT "


def _generators(data: str, size: int, batch: int):
    from tf_keras.preprocessing.image import ImageDataGenerator

    train_gen = ImageDataGenerator(rescale=1.0 / 255, zoom_range=0.1, rotation_range=25,
                                   width_shift_range=0.05, height_shift_range=0.05)
    test_gen = ImageDataGenerator(rescale=1.0 / 255)
    common = dict(class_mode="categorical", color_mode="grayscale", target_size=(size, size),
                  batch_size=batch)
    train = train_gen.flow_from_directory(f"{data}/train", shuffle=True, seed=42, **common)
    test = test_gen.flow_from_directory(f"{data}/test", shuffle=False, **common)
    return train, test


def _model(size: int, n_classes: int):
    import tf_keras as k

    model = k.Sequential([
        k.Input((size, size, 1)),
        k.layers.Conv2D(5, 5, strides=3, activation="relu"),
        k.layers.MaxPooling2D(2, strides=2),
        k.layers.Dropout(0.1),
        k.layers.Conv2D(3, 3, strides=1, activation="relu"),
        k.layers.MaxPooling2D(2, strides=2),
        k.layers.Dropout(0.2),
        k.layers.Flatten(),
        k.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.002),
                  loss=k.losses.CategoricalCrossentropy(),
                  metrics=[k.metrics.CategoricalAccuracy(), k.metrics.AUC()])
    return model


def pipeline_images_per_second(data: str, *, size: int = 256, batch: int = 32) -> float:
    """Images/s that ``flow_from_directory`` (with the course's augmentation) delivers, no model."""
    train, _ = _generators(data, size, batch)
    start = time.perf_counter()
    for i in range(len(train)):
        train[i]
    return train.samples / (time.perf_counter() - start)


def run(data: str, *, epochs: int = 20, size: int = 256, batch: int = 32) -> dict:
    """Train and test the reference; per-epoch seconds, wall time, accuracy and macro-F1."""
    import numpy as np
    import tf_keras as k
    from sklearn.metrics import accuracy_score, f1_score

    k.utils.set_random_seed(42)
    start = time.perf_counter()
    train, test = _generators(data, size, batch)
    model = _model(size, train.num_classes)
    epoch_seconds: list[float] = []

    class Timer(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.t)

    model.fit(train, epochs=epochs, callbacks=[Timer()], verbose=0)
    proba = model.predict(test, verbose=0)
    wall = time.perf_counter() - start
    y_pred, y_true = np.argmax(proba, axis=1), test.classes
    return {"epochs": epochs, "image_size": size, "batch_size": batch,
            "epoch_seconds": [round(s, 2) for s in epoch_seconds],
            "seconds_per_epoch": float(np.mean(epoch_seconds[1:] or epoch_seconds)),
            "wall_seconds": wall, "test_accuracy": float(accuracy_score(y_true, y_pred)),
            "test_macro_f1": float(f1_score(y_true, y_pred, average="macro")),
            "n_test": int(len(y_true))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--image-size", type=int, default=256)
    p.add_argument("--pipeline-only", action="store_true")
    args = p.parse_args()
    if args.pipeline_only:
        result = {"images_per_second": pipeline_images_per_second(args.data, size=args.image_size)}
    else:
        result = run(args.data, epochs=args.epochs, size=args.image_size)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
