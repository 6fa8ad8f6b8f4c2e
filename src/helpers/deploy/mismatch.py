"""Train/test resolution discrepancy (Touvron et al. 2019): one trained model at other sizes.

MobileNet and ResNet50 are fully convolutional up to global average pooling, so the weights of a
model trained at ``train_res`` fit the same architecture built for any other input size.
:func:`rebuild_at` builds it (``helpers.training.models.build_model(..., resolution=new, weights=None)``)
and copies the weights; :func:`evaluate_at_sizes` feeds test images prepared at each size and
reports the AUC with its DeLong 95 % CI, and the paired DeLong difference to the AUC at the
training size. Images at another size should come from ``helpers.data.load_dataset(...,
resolution=s)`` (the same decode-and-resize path as training); :func:`resize_images` resizes
arrays with the same PIL bilinear filter when only one size is at hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def model_spec(model) -> dict[str, Any]:
    """What :func:`helpers.training.models.build_model` needs to rebuild ``model`` at another size."""
    pre = model.get_layer("preprocess")
    return {"model_name": pre.family, "preprocessing": pre.mode,
            "dropout": float(model.get_layer("dropout").rate),
            "resolution": int(model.inputs[0].shape[1])}


def rebuild_at(model, resolution: int, builder: Callable[[int], Any] | None = None):
    """The same architecture for ``resolution`` px input with ``model``'s weights copied in.

    ``builder(resolution)`` builds the empty architecture; by default
    ``build_model(family, resolution, weights=None, preprocessing=…, dropout=…)`` read from the
    model's layers. Returns ``model`` itself when the size is unchanged and no builder is given.
    """
    if builder is None:
        if int(model.inputs[0].shape[1]) == resolution:
            return model
        from helpers.training.models import build_model

        spec = model_spec(model)
        new = build_model(spec["model_name"], resolution, weights=None,
                          preprocessing=spec["preprocessing"], dropout=spec["dropout"])
    else:
        new = builder(resolution)
    old_w = model.get_weights()
    new_w = new.get_weights()
    if len(old_w) != len(new_w) or any(a.shape != b.shape for a, b in zip(old_w, new_w,
                                                                            strict=True)):
        raise ValueError(f"the architecture at {resolution} px has other weight shapes: it is not "
                         "fully convolutional up to the pooling layer")
    new.set_weights(old_w)
    return new


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Square uint8 images resized to ``size`` px with PIL bilinear (as helpers.data.images)."""
    from PIL import Image

    x = np.asarray(images, dtype=np.uint8)
    if x.shape[1:3] == (size, size):
        return x.copy()
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR))
                     for im in x])


def _predict(model, images: np.ndarray, batch_size: int) -> np.ndarray:
    from helpers.deploy.runtime import keras_probs

    return keras_probs(model, images, batch_size)


def evaluate_at_sizes(model, images_by_size: Mapping[int, np.ndarray], labels,
                      *, builder: Callable[[int], Any] | None = None, batch_size: int = 32,
                      train_res: int | None = None, level: float = 0.95,
                      return_probs: bool = False):
    """AUC (DeLong CI) of one trained ``model`` evaluated at each input size.

    ``images_by_size`` maps an evaluation size to the test images at that size (same images,
    same order, aligned with ``labels``). ``model`` is a trained :func:`build_model` model (or
    any fully convolutional model when ``builder`` is given). Returns a DataFrame with one row per
    size: ``train_res, eval_res, n, auc, auc_lo, auc_hi, delta_auc, delta_lo, delta_hi, p`` where
    the delta is the paired DeLong difference AUC(eval_res) − AUC(train_res) (NaN when the training
    size is not among the evaluated sizes). With ``return_probs`` also a dict size → probs.
    """
    import pandas as pd
    from scipy import stats as st

    from helpers.stats.delong import delong_ci, delong_paired_test, fast_delong

    y = np.asarray(labels).astype(int).reshape(-1)
    tr = int(model.inputs[0].shape[1]) if train_res is None else int(train_res)
    probs: dict[int, np.ndarray] = {}
    for size in sorted(images_by_size):
        x = np.asarray(images_by_size[size])
        if len(x) != len(y):
            raise ValueError(f"{len(x)} images at {size} px but {len(y)} labels")
        if x.shape[1:3] != (size, size):
            raise ValueError(f"images_by_size[{size}] has shape {x.shape[1:3]}")
        m = rebuild_at(model, int(size), builder)
        probs[int(size)] = _predict(m, x, batch_size)
    zq = float(st.norm.ppf(0.5 + level / 2))
    rows = []
    for size, p in probs.items():
        auc, var = fast_delong(y, p)
        lo, hi = delong_ci(auc, var, level)
        row = {"train_res": tr, "eval_res": size, "n": int(len(y)), "auc": auc,
               "auc_lo": lo, "auc_hi": hi, "delta_auc": math.nan, "delta_lo": math.nan,
               "delta_hi": math.nan, "p": math.nan}
        if tr in probs:
            d = delong_paired_test(y, p, probs[tr])
            row.update(delta_auc=d["diff"], delta_lo=d["diff"] - zq * d["se"],
                       delta_hi=d["diff"] + zq * d["se"], p=d["p"])
        rows.append(row)
    df = pd.DataFrame(rows)
    return (df, probs) if return_probs else df
