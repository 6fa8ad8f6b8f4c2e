"""Seeded batches from in-memory arrays (training chapter).

The uint8 arrays stay in memory; a ``keras.utils.PyDataset`` gathers each batch and casts it to
float32 (about 7 µs per image), on any backend. Measured against float32 tensors in a cached
``tf.data`` pipeline (MobileNet, 64 px, all layers trained), the difference was within the
run-to-run noise, so there is no TensorFlow-only fast path. The training order of each epoch is
a permutation seeded by ``(seed, epoch)`` (:func:`epoch_order`), so a resumed run sees the same
batches as an uninterrupted one.
"""

from __future__ import annotations

import math

import numpy as np


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The training order of epoch ``epoch``: a permutation seeded by ``(seed, epoch)`` (training chapter)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def _array_batches_cls():
    import keras

    class ArrayBatches(keras.utils.PyDataset):
        """Batches from in-memory arrays, cast to float32; shuffled by ``(seed, epoch)``."""

        def __init__(self, x, y, batch_size, *, shuffle=False, seed=0):
            super().__init__(workers=1, use_multiprocessing=False)
            self.x, self.y = x, y
            self.batch_size = int(batch_size)
            self.shuffle, self.seed = shuffle, int(seed)
            self.epoch = 0
            self._order = None
            self._order_epoch = None

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def set_epoch(self, epoch: int) -> None:
            self.epoch = int(epoch)

        def _indices(self):
            if not self.shuffle:
                return None
            if self._order_epoch != self.epoch:
                self._order = epoch_order(len(self.x), self.seed, self.epoch)
                self._order_epoch = self.epoch
            return self._order

        def __getitem__(self, i):
            order = self._indices()
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            idx = np.sort(order[sl]) if order is not None else sl
            xb = np.asarray(self.x[idx], dtype=np.float32)
            if self.y is None:
                return (xb,)
            return xb, np.asarray(self.y[idx], dtype=np.float32).reshape(-1, 1)

    return ArrayBatches


def array_batches(x, y, batch_size: int, *, shuffle: bool = False, seed: int = 0):
    """A ``keras.utils.PyDataset`` over uint8/float arrays, seeded per epoch (training chapter)."""
    return _array_batches_cls()(x, y, batch_size, shuffle=shuffle, seed=seed)
