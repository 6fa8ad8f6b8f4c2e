"""Names of the architectures, regimes and preprocessings, without Keras (training chapter).

:mod:`helpers.training.models` builds the networks and imports Keras; parameter validation
(:mod:`helpers.training.params`) and sweep expansion only need the names and limits below,
so they live here and stay importable without Keras or TensorFlow.
"""

from __future__ import annotations

MODELS: tuple[str, ...] = ("mobilenet", "mobilenetv2", "resnet50")
MODEL_LABELS: dict[str, str] = {
    "mobilenet": "MobileNet",
    "mobilenetv2": "MobileNetV2",
    "resnet50": "ResNet50",
}
"""The one table of display names of the models (every chapter's tables and figures)."""


def model_label(name: str) -> str:
    """Display name of a model key, e.g. ``resnet50`` → ``ResNet50`` (unknown keys unchanged)."""
    return MODEL_LABELS.get(str(name), str(name))


PREPROCESSING: tuple[str, ...] = ("unit", "native")
REGIMES: tuple[str, ...] = ("full", "frozen", "partial")
MIN_RESOLUTION = 32

BLOCK_DOC = {
    "mobilenet": "a depthwise-separable block k = conv_dw_k + conv_pw_k (+ their BN/ReLU/pad), "
    "k = 13 (top) … 1",
    "mobilenetv2": "an inverted-residual block block_k, k = 16 (top) … 1, then expanded_conv; "
    "the final 1×1 conv (Conv_1, out_relu) belongs to the top block",
    "resnet50": "a residual block convS_blockB: conv5_block3 (top), conv5_block2, conv5_block1, "
    "conv4_block6, …, conv2_block1",
}
"""What one block of ``unfreeze_blocks`` is, per architecture."""

BLOCK_COUNTS: dict[str, int] = {"mobilenet": 13, "mobilenetv2": 17, "resnet50": 16}
"""Blocks in each base: the largest ``unfreeze_blocks`` (see :func:`helpers.training.models.blocks`)."""

LAYER_COUNTS: dict[str, int] = {"mobilenet": 85, "mobilenetv2": 153, "resnet50": 174}
"""Layers in each base after its input layer: the largest ``unfreeze_layers``.

A *layer* of ``unfreeze_layers`` is one entry of ``keras.applications``' ``base.layers``
(convolutions, BatchNorm, activations, padding, adds alike), counted from the top, which is what
"unfreeze the top N layers" means in Keras fine-tuning recipes (Kilaru et al.); see
:func:`helpers.training.models.unfreeze_top_layers`. ``tests/test_models.py`` checks these counts.
"""

LR_SCHEDULES: tuple[str, ...] = ("plateau", "cosine", "constant")
CLASS_WEIGHTS: tuple[str, ...] = ("none", "balanced")
