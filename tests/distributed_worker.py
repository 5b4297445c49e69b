"""One process of the data-parallel tests (tests/test_distributed.py): joins the cluster (or
trains alone), fits a tiny CNN on tiny synthetic images through the Trainer, and saves its
weights as training ends (every process, before the best checkpoint is restored).

usage: python distributed_worker.py DATA OUT PORT PROCESS_ID NUM_PROCESSES
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")


def main() -> None:
    data, out, port, pid, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    from xraynet.distributed import ClusterSettings, barrier, join_cluster

    process = join_cluster(ClusterSettings(coordinator=f"127.0.0.1:{port}", num_processes=count,
                                         process_id=pid, cluster_timeout=60))
    import keras
    import numpy as np

    from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule

    dm = XRayDataModule(root=data, image_size=32, cache_dir=out / "cache", workers=1)
    if process.is_chief:
        dm.setup()
    barrier("data", process)
    dm.setup()

    class KeepWeights(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            np.savez(out / f"weights-{count}-{pid}.npz", *self.model.get_weights())

    module = XRayClassifier(model=ModelConfig(image_size=32, n_classes=3, depth=2, base_filters=4,
                                              dropout=0.0, augmentation=None, seed=1),
                            learning_rate=0.01)
    trainer = Trainer(epochs=2, batch_size=8, seed=1, out_dir=str(out / f"runs-{count}"),
                      tensorboard=False, verbose=0, callbacks=[KeepWeights()], process=process)
    result = trainer.fit(module, dm)
    print(f"process {process.index} of {process.count}: run {result.run_dir}, "
          f"model {'kept' if result.model is not None else 'none'}", flush=True)


if __name__ == "__main__":
    main()
