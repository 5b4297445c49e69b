"""The on-disk image store: chunked, resumable, read in memory or streamed alike."""

import numpy as np
import pytest

from xraynet.data.store import ImageStore, RowReader


def _files(tmp_path, n):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    paths = [tmp_path / f"f{i}" for i in range(n)]
    return images, paths


def _decoder(images, calls, *, fail_at=None, bad=()):
    def decode(path):
        i = int(path.name[1:])
        calls.append(i)
        if i == fail_at:
            raise KeyboardInterrupt  # the user stops the decode half-way
        if i in bad:
            raise ValueError("not a readable image")
        return images[i], f"{i:064x}", np.unpackbits(images[i].ravel()[:32])
    return decode


def test_an_interrupted_decode_resumes_from_the_written_chunks(tmp_path):
    images, paths = _files(tmp_path, 50)
    rel = [p.name for p in paths]
    store = ImageStore(tmp_path / "store", n=50, size=8)
    calls = []
    with pytest.raises(KeyboardInterrupt):
        store.build(rel, paths, _decoder(images, calls, fail_at=37), chunk=16)
    assert not store.complete and store.load() is None
    calls.clear()
    store.build(rel, paths, _decoder(images, calls, bad={40}), chunk=16)
    assert sorted(calls) == list(range(32, 50))  # chunks 0-15 and 16-31 were kept
    stored = store.load()
    assert stored.paths == [r for i, r in enumerate(rel) if i != 40]
    assert stored.skipped == [["f40", "not a readable image"]]
    np.testing.assert_array_equal(stored.images[stored.rows], images[stored.rows])
    assert stored.dhash.shape == (49, 256)


def test_streamed_rows_equal_in_memory_rows(tmp_path):
    images, paths = _files(tmp_path, 20)
    store = ImageStore(tmp_path / "store", n=20, size=8)
    store.build([p.name for p in paths], paths, _decoder(images, []), chunk=7)
    memory, streamed = store.load(in_memory=True), store.load(in_memory=False)
    assert memory.in_memory and isinstance(streamed.images, RowReader)
    rows = np.array([5, 1, 19, 5])
    np.testing.assert_array_equal(streamed.images[rows], memory.images[rows])
    np.testing.assert_array_equal(streamed.images[rows], images[rows])


def test_a_damaged_store_is_removed(tmp_path, caplog):
    images, paths = _files(tmp_path, 10)
    store = ImageStore(tmp_path / "store", n=10, size=8)
    store.build([p.name for p in paths], paths, _decoder(images, []))
    (tmp_path / "store" / "images.u8").write_bytes(b"short")
    assert store.load() is None and "unreadable" in caplog.text
    assert not (tmp_path / "store").exists()


def test_a_large_set_streams_through_the_data_module(dataset, cache_dir, monkeypatch):
    from xraynet.data import XRayDataModule
    from xraynet.data import store as store_module

    in_memory = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    monkeypatch.setattr(store_module, "IN_MEMORY_BYTES", 0)  # as if it were 100k images
    streamed = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    assert in_memory.in_memory and not streamed.in_memory and streamed.cache_hit
    assert isinstance(streamed.train.store, RowReader)
    a, b = in_memory.train_dataset(batch_size=8, seed=1), streamed.train_dataset(batch_size=8, seed=1)
    for k in range(3):
        np.testing.assert_array_equal(a[k][0], b[k][0])
        np.testing.assert_array_equal(a[k][1], b[k][1])


def test_two_builders_of_one_store_decode_it_once(tmp_path):
    """Parallel fits on one dataset ask for the same store at once: one decodes, the other waits
    and finds it complete (without the lock, the second truncated the first's images)."""
    import threading
    import time

    images, paths = _files(tmp_path, 40)
    rel = [p.name for p in paths]
    calls = []
    slow = _decoder(images, calls)

    def decode(path):
        time.sleep(0.002)
        return slow(path)

    stores = [ImageStore(tmp_path / "store", n=40, size=8) for _ in range(2)]
    threads = [threading.Thread(target=s.build, args=(rel, paths, decode), kwargs={"chunk": 8})
               for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == list(range(40))  # every file decoded once, by one of them
    stored = stores[1].load()
    np.testing.assert_array_equal(stored.images, images)
