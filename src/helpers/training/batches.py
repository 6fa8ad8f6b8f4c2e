"""Seeded batches from in-memory arrays (training chapter).

The uint8 arrays stay in memory; a ``keras.utils.PyDataset`` gathers each batch and casts it to
float32 (about 7 µs per image), on any backend. Measured against float32 tensors in a cached
``tf.data`` pipeline (MobileNet, 64 px, all layers trained), the difference was within the
run-to-run noise, so there is no TensorFlow-only fast path. The training order of each epoch is
a permutation seeded by ``(seed, epoch)`` (:func:`epoch_order`), so a resumed run sees the same
batches as an uninterrupted one.

Augmentation (training split only, Part II): :class:`Augment` holds the settings; each batch
is augmented with a NumPy generator seeded by ``(seed, stream, epoch, batch)``
(:func:`augment_rng`), so the same run sees the same augmented images on every machine, and a
resumed run sees what an uninterrupted one saw. Per image, in this order: rotation by an angle
from U(-rotation, rotation) degrees about the centre (bilinear, black outside the image), a
left-right mirror with probability 1/2 (``hflip``), a brightness shift by U(-b, b) · 255, a
contrast factor 1 + U(-c, c) around the image's own mean, then clipping to [0, 255]. Only
NumPy is used, so it runs the same on every Keras backend. Test-time augmentation
(``tta``) uses the same function with the geometric part of the settings and its own
``stream`` per copy (:func:`helpers.training.run.evaluate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: ``stream`` of the training augmentation; test-time copy k uses stream k (k >= 1).
TRAIN_STREAM = 0


@dataclass(frozen=True)
class Augment:
    """Augmentation settings: rotation in degrees, hflip, brightness and contrast fractions."""

    rotation: float = 0.0
    hflip: bool = False
    brightness: float = 0.0
    contrast: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.rotation or self.hflip or self.brightness or self.contrast)

    def geometric(self) -> Augment:
        """Only the flips and rotations (what test-time augmentation uses)."""
        return Augment(rotation=self.rotation, hflip=self.hflip)


def augment_rng(seed: int, stream: int, epoch: int, batch: int) -> np.random.Generator:
    """The generator of one augmented batch: seeded by ``(seed, stream, epoch, batch)``."""
    # A fixed tag keeps these draws apart from the shuffling generator seeded by (seed, epoch).
    return np.random.default_rng([int(seed), 0xA06, int(stream), int(epoch), int(batch)])


def _rotate(x: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Rotate each (H, W, C) image of ``x`` by its angle about the centre; zeros outside."""
    n, h, w, _ = x.shape
    theta = np.deg2rad(degrees).astype(np.float32)[:, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32) - cy, np.arange(w, dtype=np.float32) - cx,
                         indexing="ij")
    cos, sin = np.cos(theta), np.sin(theta)
    # inverse map: the output pixel (y, x) takes the input at R(-theta) (y, x)
    src_x = cos * xx[None] + sin * yy[None] + cx
    src_y = -sin * xx[None] + cos * yy[None] + cy
    x0, y0 = np.floor(src_x), np.floor(src_y)
    fx, fy = (src_x - x0)[..., None], (src_y - y0)[..., None]
    out = np.zeros(x.shape, dtype=np.float32)
    idx = np.arange(n)[:, None, None]
    for dy, dx, wgt in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                        (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yi, xi = (y0 + dy).astype(np.int64), (x0 + dx).astype(np.int64)
        inside = ((yi >= 0) & (yi < h) & (xi >= 0) & (xi < w))[..., None]
        vals = x[idx, np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        out += np.where(inside, vals * wgt, 0.0)
    return out


def augment_batch(x: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """Augmented float32 copy of a batch of (N, H, W, C) images in [0, 255] (training chapter)."""
    out = np.asarray(x, dtype=np.float32)
    n = len(out)
    if not aug or n == 0:
        return out.copy() if out is x else out
    # every draw is made whatever is switched on, so one setting does not reshuffle another
    angles = rng.uniform(-1.0, 1.0, n) * aug.rotation
    flips = rng.random(n) < 0.5
    shift = rng.uniform(-1.0, 1.0, n) * aug.brightness * 255.0
    factor = 1.0 + rng.uniform(-1.0, 1.0, n) * aug.contrast
    if aug.rotation:
        out = _rotate(out, angles)
    if aug.hflip:
        out = np.where(flips[:, None, None, None], out[:, :, ::-1], out)
    if aug.brightness:
        out = out + shift[:, None, None, None].astype(np.float32)
    if aug.contrast:
        mean = out.mean(axis=(1, 2, 3), keepdims=True)
        out = (out - mean) * factor[:, None, None, None].astype(np.float32) + mean
    return np.clip(out, 0.0, 255.0).astype(np.float32, copy=False)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The training order of epoch ``epoch``: a permutation seeded by ``(seed, epoch)`` (training chapter)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def _array_batches_cls():
    import keras

    class ArrayBatches(keras.utils.PyDataset):
        """Batches from in-memory arrays, cast to float32; shuffled by ``(seed, epoch)``.

        ``augment`` (an :class:`Augment`) augments every batch with :func:`augment_rng`
        ``(seed, stream, epoch, batch)``; batch ``i`` holds the same images as without it.
        """

        def __init__(self, x, y, batch_size, *, shuffle=False, seed=0, augment=None,
                     stream=TRAIN_STREAM):
            super().__init__(workers=1, use_multiprocessing=False)
            self.x, self.y = x, y
            self.batch_size = int(batch_size)
            self.shuffle, self.seed = shuffle, int(seed)
            self.augment = augment if augment else None
            self.stream = int(stream)
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
            if self.augment is not None:
                rng = augment_rng(self.seed, self.stream, self.epoch, i)
                xb = augment_batch(self.x[idx], self.augment, rng)
            else:
                xb = np.asarray(self.x[idx], dtype=np.float32)
            if self.y is None:
                return (xb,)
            return xb, np.asarray(self.y[idx], dtype=np.float32).reshape(-1, 1)

    return ArrayBatches


def array_batches(x, y, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                  augment: Augment | None = None, stream: int = TRAIN_STREAM):
    """A ``keras.utils.PyDataset`` over uint8/float arrays, seeded per epoch (training chapter)."""
    return _array_batches_cls()(x, y, batch_size, shuffle=shuffle, seed=seed, augment=augment,
                                stream=stream)
