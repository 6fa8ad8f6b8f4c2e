"""The discussion's claims as checks on the glued numbers of the executed results chapter (ch. 04).

Job: read the values that chapter 04 glued (:func:`read_glue`) and re-check the direction of
every claim the discussion page (``book/discussion.md``) makes from them (:data:`CLAIMS`,
:func:`check`). ``tests/test_claims.py`` runs the checks on the committed executed chapter, so a
claim whose evidence flips when the chapter is re-executed on new records fails CI.

A claim is ``(text, left, op, right)``: ``left`` is a glue name, ``right`` a glue name or a
constant, ``op`` one of :data:`OPS`. Comparisons between configurations are claimed through the
Holm-adjusted OR–Hillis p (``..._p_adj``, glued by :mod:`helpers.results.prose`).
"""

from __future__ import annotations

import ast
import json
import operator
import os
from collections.abc import Callable, Iterable
from typing import Any

ALPHA = 0.05

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

Claim = tuple[str, str, str, Any]

CLAIMS: list[Claim] = [
    # Sweet spot, one verdict per regime (never the frozen one standing in for the full one)
    ("frozen: MobileNet [0,1] best size is above 128 px", "sweet_frozen_unit_best_res", ">", 128),
    ("frozen: sweet spot not reproduced ([0,1])", "sweet_frozen_unit_verdict", "==", "not reproduced"),
    ("frozen: sweet spot not reproduced (native)", "sweet_frozen_native_verdict", "==", "not reproduced"),
    ("frozen: MobileNet [0,1] 128 px below best", "or_res_frozen_mobilenet_unit_128_256_p_adj", "<", ALPHA),
    ("frozen: MobileNet native 128 px below best", "or_res_frozen_mobilenet_native_128_256_p_adj", "<", ALPHA),
    ("frozen: MobileNet [0,1] 224 ~ 256 px", "or_res_frozen_mobilenet_unit_224_256_p_adj", ">=", ALPHA),
    ("frozen: MobileNet native 224 ~ 256 px", "or_res_frozen_mobilenet_native_224_256_p_adj", ">=", ALPHA),
    # the paper's regime, every size run: a plateau from 128 px, not a peak at it
    ("full: sweet spot not supported ([0,1])", "sweet_full_unit_verdict", "==", "not supported"),
    ("full: sweet spot not supported (native)", "sweet_full_native_verdict", "==", "not supported"),
    ("full: [0,1] best size is not 128 px", "sweet_full_unit_best_res", "!=", 128),
    ("full: native best size is not 128 px", "sweet_full_native_best_res", "!=", 128),
    ("full: MobileNet [0,1] 128 ~ 256 px", "or_res_full_mobilenet_unit_128_256_p_adj", ">=", ALPHA),
    ("full: MobileNet native 128 ~ 256 px", "or_res_full_mobilenet_native_128_256_p_adj", ">=", ALPHA),
    ("full: MobileNet [0,1] 224 ~ 256 px", "or_res_full_mobilenet_unit_224_256_p_adj", ">=", ALPHA),
    ("full: MobileNet native 224 ~ 256 px", "or_res_full_mobilenet_native_224_256_p_adj", ">=", ALPHA),
    ("full: MobileNet [0,1] 64 ~ 256 px (3 seeds)", "or_res_full_mobilenet_unit_64_256_p_adj", ">=", ALPHA),
    ("full: MobileNet native 64 ~ 256 px (3 seeds)", "or_res_full_mobilenet_native_64_256_p_adj", ">=", ALPHA),
    *[(f"full: MobileNet {prep} 64 px has the lowest ensemble AUC (vs {res} px)",
       f"full_mobilenet_{prep}_auc_64", "<", f"full_mobilenet_{prep}_auc_{res}")
      for prep in ("unit", "native") for res in (128, 224, 256)],
    *[(f"MobileNet {prep} {res} px: frozen ~ full", f"or_regime_mobilenet_{prep}_{res}_p_adj",
       ">=", ALPHA) for prep in ("unit", "native") for res in (224, 256)],
    # ResNet50 fine-tuned at 128-256 px (bf16, one seed): below MobileNet everywhere
    *[(f"full {prep} {res} px: MobileNet higher", f"or_models_full_{prep}_{res}_p_adj", "<", ALPHA)
      for prep in ("unit", "native") for res in (128, 224, 256)],
    *[(f"full {prep} {res} px: MobileNet AUC above ResNet50", f"or_models_full_{prep}_{res}_auc_a",
       ">", f"or_models_full_{prep}_{res}_auc_b") for prep in ("unit", "native") for res in (128, 224, 256)],
    ("full unit 64 px: MobileNet higher", "or_models_full_unit_64_p_adj", "<", ALPHA),
    ("full native 64 px: MobileNet not detectably higher", "or_models_full_native_64_p_adj", ">=",
     ALPHA),
    *[(f"ResNet50 native {res} px: fine-tuned below frozen", f"or_regime_resnet50_native_{res}_p_adj",
       "<", ALPHA) for res in (128, 224, 256)],
    *[(f"ResNet50 native {res} px: fine-tuned AUC lower", f"or_regime_resnet50_native_{res}_auc_b",
       "<", f"or_regime_resnet50_native_{res}_auc_a") for res in (128, 224, 256)],
    # Full fine-tuning helps MobileNet at 64 px
    ("MobileNet [0,1] 64 px: full > frozen", "or_regime_mobilenet_unit_64_p_adj", "<", ALPHA),
    ("MobileNet [0,1] 64 px: full AUC higher", "or_regime_mobilenet_unit_64_auc_b", ">", "or_regime_mobilenet_unit_64_auc_a"),
    ("MobileNet native 64 px: full > frozen", "or_regime_mobilenet_native_64_p_adj", "<", ALPHA),
    ("MobileNet native 64 px: full AUC higher", "or_regime_mobilenet_native_64_auc_b", ">", "or_regime_mobilenet_native_64_auc_a"),
    ("ResNet50 native 64 px: full ~ frozen", "or_regime_resnet50_native_64_p_adj", ">=", ALPHA),
    # ResNet50 and the [0, 1] scaling (frozen)
    ("frozen ResNet50 [0,1] near chance", "frozen_resnet50_unit_best_auc", "<", 0.6),
    ("frozen ResNet50 [0,1] never calls a lesion malignant at 0.5", "op_frozen_resnet50_unit_128_sens_05", "==", 0.0),
    ("frozen ResNet50 native > [0,1] at 128 px", "or_prep_frozen_resnet50_128_p_adj", "<", ALPHA),
    ("frozen ResNet50 native AUC higher at 128 px", "or_prep_frozen_resnet50_128_auc_b", ">", "or_prep_frozen_resnet50_128_auc_a"),
    ("frozen MobileNet: preprocessing no detectable effect at 224 px", "or_prep_frozen_mobilenet_224_p_adj", ">=", ALPHA),
    # MobileNet vs ResNet50
    ("frozen native 64 px: models not distinguishable", "or_models_frozen_native_64_p_adj", ">=", ALPHA),
    ("frozen native 128 px: models not distinguishable", "or_models_frozen_native_128_p_adj", ">=", ALPHA),
    ("frozen native 224 px: models not distinguishable", "or_models_frozen_native_224_p_adj", ">=", ALPHA),
    ("frozen native 256 px: models not distinguishable", "or_models_frozen_native_256_p_adj", ">=", ALPHA),
    ("full [0,1] 64 px: MobileNet higher", "or_models_full_unit_64_p_adj", "<", ALPHA),
    ("full [0,1] 64 px: MobileNet AUC above ResNet50", "or_models_full_unit_64_auc_a", ">", "or_models_full_unit_64_auc_b"),
    ("full native 64 px: models not distinguishable", "or_models_full_native_64_p_adj", ">=", ALPHA),
    ("full ResNet50 [0,1] 64 px: preprocessing no detectable effect", "or_prep_full_resnet50_64_p_adj", ">=", ALPHA),
    # Threshold: the "stall" is a 0.5-threshold artefact
    ("full ResNet50 [0,1] 64 px: low sensitivity at 0.5", "op_full_resnet50_unit_64_sens_05", "<", 0.1),
    ("full ResNet50 [0,1] 64 px: Youden sensitivity far higher", "op_full_resnet50_unit_64_sens_youden", ">", 0.5),
    ("full MobileNet [0,1] 128 px: sensitivity at 0.5 below 50 %", "op_full_mobilenet_unit_128_sens_05", "<", 0.5),
    ("full MobileNet [0,1] 128 px: Youden (val) sensitivity above 0.5's", "op_full_mobilenet_unit_128_sens_youden", ">", "op_full_mobilenet_unit_128_sens_05"),
    ("frozen MobileNet [0,1] best AUC below the ISIC 2017 leader (0.874)", "frozen_mobilenet_unit_best_auc", "<", 0.874),
    # Calibration: full fine-tuning is over-confident, temperature scaling repairs it
    ("full MobileNet [0,1] 128 px: ECE above frozen at its best size", "cal_full_mobilenet_unit_128_ece", ">", "cal_frozen_mobilenet_unit_256_ece"),
    ("full MobileNet [0,1] 128 px: temperature > 1 (over-confident)", "cal_full_mobilenet_unit_128_temperature", ">", 1.5),
    ("full MobileNet [0,1] 128 px: temperature scaling lowers ECE", "cal_full_mobilenet_unit_128_ece_ts", "<", "cal_full_mobilenet_unit_128_ece"),
    # Fit: MobileNet memorises at 64 px; ResNet50 often does not pass the constant answer
    ("full MobileNet [0,1] 64 px fits its training set", "fit_full_mobilenet_unit_64_train_acc_last", ">", 0.95),
    ("full ResNet50 [0,1] 64 px: not all seeds beyond majority", "fit_full_resnet50_unit_64_n_beyond", "<", "fit_full_resnet50_unit_64_n_seeds"),
]  # fmt: skip


def read_glue(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{name: value}`` of every glued scalar in an executed notebook (text/plain, literal-parsed).

    Glue outputs carry ``metadata.scrapbook.name`` and data under
    ``application/papermill.record/...``; numbers come back as int/float, strings as str;
    Markdown glue is returned as its text.
    """
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    out: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            meta = (output.get("metadata") or {}).get("scrapbook")
            if not meta:
                continue
            data = output.get("data", {})
            prefix = meta.get("mime_prefix", "application/papermill.record/")
            text = data.get(f"{prefix}text/plain", data.get(f"{prefix}text/markdown"))
            out[meta["name"]] = _parse("".join(text) if isinstance(text, list) else text)
    return out


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _value(glued: dict[str, Any], ref: Any) -> Any:
    if isinstance(ref, str) and ref in glued:
        return glued[ref]
    return ref


def check(glued: dict[str, Any], claims: Iterable[Claim] = CLAIMS) -> list[str]:
    """Failures (one line each) of ``claims`` on ``glued`` values; empty when all hold."""
    failures = []
    for text, left, op, right in claims:
        if left not in glued:
            failures.append(f"{text}: glue name {left!r} missing")
            continue
        a, b = glued[left], _value(glued, right)
        if isinstance(right, str) and right.startswith(("or_", "cal_", "op_", "fit_", "full_", "frozen_", "regime_")) and right not in glued:
            failures.append(f"{text}: glue name {right!r} missing")
        elif not OPS[op](a, b):
            failures.append(f"{text}: {left} = {a!r} {op} {right} = {b!r} is false")
    return failures
