"""The main paper's *reported* numbers, quoted verbatim for comparison (results chapter).

Source (quoted, not reproduced): U. Achar, S. Biswas, A. Achar, "Image Resolution vs. Accuracy
Trade-Off in Dermatology AI" — Table I ("Comprehensive Performance Metrics"), Table II
("Resource Efficiency Analysis") and Section C (confusion matrices at 128 x 128).
Task there: Acne vs Normal skin (private data), balanced validation set of 606 images, Keras
MobileNet / ResNet50 with ImageNet weights and inputs scaled to [0, 1].

These are the PAPER'S numbers, typed in from its text. Nothing in this book computes them and
nothing else in the book may be typed in by hand: our own numbers come from run records.

Known inconsistencies in the source, kept as printed:

* Table I's columns are headed "Sens. (Acc)" and "Spec. (Normal)", yet the prose swaps the two
  at MobileNet 128 px (specificity 94.04 %, sensitivity 87.50 %) and at ResNet50 64 px
  (recall 92.43 %, specificity 27.48 %). We quote the table.
* The paper says class 0 is Acne and class 1 is Normal, so its "true negatives" are Acne.
* The dataset description gives 302 Normal / 304 Acne, but the 128 px MobileNet confusion counts
  (284 + 18 Acne) imply 302 Acne.
"""

from __future__ import annotations

from typing import Final

CITATION: Final = (
    "Achar U, Biswas S, Achar A. Image Resolution vs. Accuracy Trade-Off in Dermatology AI. "
    "Table I and Table II."
)
"""How to cite the quoted numbers."""

TASK: Final = "Acne vs Normal (private dermatology photographs), validation set of 606 images"

# Table I, one row per (model, resolution): accuracy %, F1, "Sens. (Acc)" %, "Spec. (Normal)" %,
# AUC. Exactly as printed.
TABLE_I: Final[tuple[tuple[str, int, float, float, float, float, float], ...]] = (
    ("MobileNet", 64, 84.65, 0.845, 85.7, 83.5, 0.9076),
    ("MobileNet", 128, 90.76, 0.905, 94.04, 87.50, 0.9630),
    ("MobileNet", 224, 90.59, 0.906, 90.7, 90.5, 0.9620),
    ("MobileNet", 256, 90.10, 0.898, 93.4, 86.8, 0.9622),
    ("ResNet50", 64, 60.07, 0.699, 27.5, 92.4, 0.7509),
    ("ResNet50", 128, 67.82, 0.667, 71.52, 64.14, 0.7494),
    ("ResNet50", 224, 77.23, 0.788, 70.2, 84.2, 0.8484),
    ("ResNet50", 256, 72.44, 0.760, 57.9, 86.8, 0.8470),
)
TABLE_I_COLUMNS: Final = (
    "model",
    "resolution",
    "accuracy_pct",
    "f1",
    "sensitivity_pct",
    "specificity_pct",
    "auc",
)

# Table II at 128 x 128: model size (MB, float32 weights), accuracy %, accuracy density
# (accuracy points per MB). Exactly as printed.
TABLE_II: Final[tuple[tuple[str, float, float, float], ...]] = (
    ("MobileNet", 12.5, 90.76, 7.26),
    ("ResNet50", 90.5, 67.82, 0.75),
)
TABLE_II_COLUMNS: Final = ("model", "model_size_mb", "accuracy_pct", "accuracy_density")
TABLE_II_RESOLUTION: Final = 128

# Section C, confusion counts at 128 x 128 (class 0 = Acne, class 1 = Normal), as stated in the
# prose; the paper does not give ResNet50's Normal row.
CONFUSION_128: Final = {
    "MobileNet": {"acne_correct": 284, "acne_as_normal": 18, "normal_correct": 266},
    "ResNet50": {"acne_correct": 216, "acne_as_normal": 86},
}

# Other quoted statements used in the prose: claimed on-device latency and INT8 size target.
CLAIMED_LATENCY_MS: Final = 50.0  # "Diagnostic feedback is provided in <50 ms"
CLAIMED_INT8_SIZE_MB: Final = 4.0  # "reducing the MobileNet size from 12.5 MB to <4 MB"
