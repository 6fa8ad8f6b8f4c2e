"""The book's prose claims as checks on the glued numbers of executed chapters.

Job: read the values that the results chapter glued (:func:`read_glue`) and re-check the direction of
every claim the discussion page (``book/discussion.md``) makes from them (:data:`CLAIMS`,
:func:`check`); likewise the findings that open the landing page (``book/intro.md``), which
quote the results, deployment, pneumonia and findings chapters (:data:`INTRO_CLAIMS`, names ``<chapter>::<name>`` read by
:func:`read_chapters_glue`), and the prose of the bf16-parity, deployment, pneumonia and findings chapters, of ``book/discussion_xray.md``
and of the discussion where it reads the bf16-parity appendix (:data:`CHAPTER_CLAIMS`, one list per page).
``tests/test_claims.py`` runs the checks on the committed executed chapters, so a claim whose
evidence flips when a chapter is re-executed on new records fails CI;
``tests/test_claims_mutation.py`` shows that every claim can fail.

A claim is ``(text, left, op, right)``: ``left`` is a glue name, ``right`` a glue name or a
constant, ``op`` one of :data:`OPS`. Comparisons between configurations are claimed through the
Holm-adjusted OR–Hillis p (``..._p_adj``, glued by :mod:`helpers.chapters.results_prose`).
"""

from __future__ import annotations

import ast
import json
import operator
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from helpers.chapters.chapter_claims import (  # noqa: F401  (CHAPTER_CLAIMS re-exported)
    ALPHA,
    CHAPTER_CLAIMS,
    Claim,
)
from helpers.paper_reference import TABLE_I

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

_GLUE_PREFIXES = ("or_", "cal_", "op_", "fit_", "full_", "frozen_", "fig_")

CLAIMS: list[Claim] = [
    # Sweet spot, one verdict per regime (never the frozen one standing in for the full one)
    ("frozen: MobileNet [0,1] best size is above 128 px", "sweet_frozen_unit_best_res", ">", 128),
    ("frozen: sweet spot not reproduced ([0,1])", "sweet_frozen_unit_verdict", "==", "not reproduced"),
    ("frozen: sweet spot not reproduced (native)", "sweet_frozen_native_verdict", "==", "not reproduced"),
    ("frozen: MobileNet [0,1] 128 px below best", "or_res_frozen_mobilenet_unit_128_256_p_adj", "<", ALPHA),
    ("frozen: MobileNet native 128 px below best", "or_res_frozen_mobilenet_native_128_256_p_adj", "<", ALPHA),
    ("frozen: MobileNet [0,1] 224 ~ 256 px", "or_res_frozen_mobilenet_unit_224_256_p_adj", ">=", ALPHA),
    ("frozen: MobileNet native 224 ~ 256 px", "or_res_frozen_mobilenet_native_224_256_p_adj", ">=", ALPHA),
    # "climbs from 0.638 at 64 px to 0.744 at 128 px and 0.774 at 224 px"; native: "the same shape"
    *[(f"frozen: MobileNet {label} seed-averaged AUC climbs from {lo} to {hi} px",
       f"frozen_mobilenet_{prep}_auc_{lo}", "<", f"frozen_mobilenet_{prep}_auc_{hi}")
      for prep, label in (("unit", "[0,1]"), ("native", "native")) for lo, hi in ((64, 128), (128, 224))],
    ("frozen: MobileNet native 128 px below its best size", "frozen_mobilenet_native_auc_128", "<",
     "frozen_mobilenet_native_best_auc"),
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
    *[(f"MobileNet {p} 64 px: the lift is not robust (generalized p)", f"or_regime_mobilenet_{p}_64_p_gen_adj", ">=", ALPHA)
      for p in ("unit", "native")],
    ("MobileNet [0,1] 64 px lift: robust word", "or_regime_mobilenet_unit_64_robust", "==", "not robust"),
    ("MobileNet native 64 px: full > frozen", "or_regime_mobilenet_native_64_p_adj", "<", ALPHA),
    ("MobileNet native 64 px: full AUC higher", "or_regime_mobilenet_native_64_auc_b", ">", "or_regime_mobilenet_native_64_auc_a"),
    ("ResNet50 native 64 px: full ~ frozen", "or_regime_resnet50_native_64_p_adj", ">=", ALPHA),
    # ResNet50 and the [0, 1] scaling (frozen)
    ("frozen ResNet50 [0,1] near chance", "frozen_resnet50_unit_best_auc", "<", 0.6),
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
    ("frozen MobileNet [0,1] best AUC below the ISIC 2017 leader (0.874)", "frozen_mobilenet_unit_best_auc", "<", 0.874),
    ("fine-tuned MobileNet [0,1] best AUC below the ISIC 2017 leader (0.874)", "sweet_full_unit_best_auc", "<", 0.874),
    ("fine-tuned MobileNet native best AUC below the ISIC 2017 leader (0.874)", "sweet_full_native_best_auc", "<", 0.874),
    ("balanced accuracy is the lower, comparable number", "anchor_bal_acc_mobilenet_128", "<", "anchor_acc_mobilenet_128"),
    ("balanced accuracy far below the paper's accuracy", "anchor_bal_acc_mobilenet_128", "<", "anchor_paper_acc_mobilenet_128"),
]  # fmt: skip


# The landing page's findings (``book/intro.md``, "What this book found"), one claim per statement
# it makes; names are ``<chapter>::<glue name>`` because the page quotes four chapters.
_R4, _R6, _R8 = "04_results::", "06_deployment::", "08_findings_resolution::"
_K7 = "07_pneumonia_mobilenetv2::"
_B11 = "11_beyond_auc::"
_S10 = "10_or_hillis_size::"
INTRO_CLAIMS: list[Claim] = [
    # 1. frozen: no sweet spot, a plateau
    ("intro: frozen sweet spot not reproduced", _R4 + "sweet_frozen_unit_verdict", "==", "not reproduced"),
    ("intro: frozen best size is the 256 px it quotes", _R4 + "sweet_frozen_unit_best_res", "==", 256),
    ("intro: frozen 128 px lower than 256 px", _R4 + "or_res_frozen_mobilenet_unit_128_256_p_adj", "<", ALPHA),
    ("intro: frozen 128 px seed mean below 256 px's", _R4 + "fig_auc_frozen_mobilenet_unit_128", "<", _R4 + "fig_auc_frozen_mobilenet_unit_256"),
    ("intro: frozen 224 ~ 256 px", _R4 + "or_res_frozen_mobilenet_unit_224_256_p_adj", ">=", ALPHA),
    ("intro: frozen 224 ~ 256 px not shown equivalent (inconclusive)", _R4 + "or_res_frozen_mobilenet_unit_224_256_verdict", "==", "inconclusive"),
    # 2. fine-tuned: flat from 128 px, best at the 256 px it quotes; fine-tuning lifts 64 px
    ("intro: full verdict not supported", _R4 + "sweet_full_unit_verdict", "==", "not supported"),
    ("intro: full best size is the 256 px it quotes", _R4 + "sweet_full_unit_best_res", "==", 256),
    ("intro: full 128 ~ 256 px", _R4 + "or_res_full_mobilenet_unit_128_256_p_adj", ">=", ALPHA),
    ("intro: full 64 px above frozen 64 px", _R4 + "or_regime_mobilenet_unit_64_p_adj", "<", ALPHA),
    ("intro: the 64 px lift not robust (generalized p)", _R4 + "or_regime_mobilenet_unit_64_p_gen_adj", ">=", ALPHA),
    ("intro: frozen 128 vs 256 px not robust (generalized p)", _R4 + "or_res_frozen_mobilenet_unit_128_256_p_gen_adj", ">=", ALPHA),
    ("intro: full 64 px seed mean above frozen's", _R4 + "fig_auc_full_mobilenet_unit_64", ">", _R4 + "fig_auc_frozen_mobilenet_unit_64"),
    # 3. ResNet50 vs MobileNet
    ("intro: frozen ResNet50 [0,1] at chance", _R4 + "frozen_resnet50_unit_best_auc", "<", 0.6),
    *[(f"intro: frozen native {res} px models not distinguishable", f"{_R4}or_models_frozen_native_{res}_p_adj",
       ">=", ALPHA) for res in (64, 128, 224, 256)],
    ("intro: fine-tuned 64 px ResNet50 lower", _R4 + "or_models_full_unit_64_p_adj", "<", ALPHA),
    ("intro: fine-tuned 64 px ResNet50 seed mean lower", _R4 + "fig_auc_full_resnet50_unit_64", "<", _R4 + "fig_auc_full_mobilenet_unit_64"),
    ("intro: fine-tuned ResNet50 [0,1] 64 px stalls in some seeds", _B11 + "fit_full_resnet50_unit_64_n_beyond", "<", _B11 + "fit_full_resnet50_unit_64_n_seeds"),
    # 4. what is still to run: ResNet50's seeds 1-2 at 128-256 px x 2 preprocessings
    ("intro: 12 runs to do = ResNet50 seeds 1-2 x 3 sizes x 2 preprocessings", _R4 + "grid_n_todo", "==", 12),
    *[(f"intro: fine-tuned ResNet50 {prep} {res} px has one bf16 seed",
       f"{_R4}fig_auc_full_resnet50_{prep}_bf16_{res}_n_seeds", "==", 1)
      for prep in ("unit", "native") for res in (128, 224, 256)],
    ("intro: fine-tuned 224 px ResNet50 below MobileNet", _R4 + "or_models_full_unit_224_p_adj", "<", ALPHA),
    ("intro: fine-tuned 224 px ResNet50 seed mean lower", _R4 + "fig_auc_full_resnet50_unit_bf16_224", "<", _R4 + "fig_auc_full_mobilenet_unit_224"),
    ("intro: chest X-ray fine-tuned runs still to do", _R8 + "fr_todo_full", ">", 0),
    # 5. int8: smaller, faster, little AUC cost but for saturation, which the logit output avoids
    ("intro: int8 smaller", _R6 + "int8_shrink", ">", 1),
    ("intro: int8 faster", _R6 + "int8_speedup_min", ">", 1),
    ("intro: int8 changes AUC measurably (Holm) in some, not all", _R6 + "int8_n_sig_holm", "<", _R6 + "int8_n"),
    ("intro: int8 changes AUC measurably (Holm) in some", _R6 + "int8_n_sig_holm", ">", 0),
    ("intro: no int8 file shown equivalent", _R6 + "int8_n_equiv", "==", 0),
    ("intro: saturation costs AUC", _R6 + "sat_auc_int8_max", "<", _R6 + "sat_auc_f32_min"),
    ("intro: the logit output keeps more", _R6 + "sat_auc_logit_min", ">", _R6 + "sat_auc_int8_max"),
    # 6. chest X-rays
    ("intro: Kilaru reproduces (validation AUC at least the paper's 0.947)", _K7 + "k_val_auc", ">=", 0.947),
    ("intro: pneumonia vs bacterial/viral ratios not distinguishable", _R8 + "fr_d_p_mobilenetv2_frozen", ">=", ALPHA),
    ("intro: the like-for-like pair's skin AUC near chance", _R8 + "sc_like_skin_auc_high", "<", 0.6),
    ("intro: the frozen MobileNet pair differs", _R8 + "sc_mob_frozen_p", "<", ALPHA),
    ("intro: the fine-tuned MobileNet pair does not", _R8 + "sc_mob_full_p", ">=", ALPHA),
    # the figure's caption: no curve is highest at 128 px; the paper's crosses lie above the
    # fine-tuned curves of the same network
    *[(f"figure: {regime} {model} {prep} higher at 256 px than at 128 px", f"{_R4}fig_auc_{regime}_{model}_{prep}_128",
       "<", f"{_R4}fig_auc_{regime}_{model}_{prep}_256")
      for regime, model in (("frozen", "mobilenet"), ("frozen", "resnet50"), ("full", "mobilenet"))
      for prep in ("unit", "native")],
    *[(f"figure: full resnet50 {prep} higher at 64 px than at 128 px", f"{_R4}fig_auc_full_resnet50_{prep}_bf16_128",
       "<", f"{_R4}fig_auc_full_resnet50_{prep}_64") for prep in ("unit", "native")],
    *[(f"figure: the paper's {model} AUCs above our fine-tuned {model} ({prep}, {res} px)",
       f"{_R4}fig_auc_full_{model.lower()}_{prep}{'_bf16' if model == 'ResNet50' and res > 64 else ''}_{res}",
       "<", min(row[-1] for row in TABLE_I if row[0] == model))
      for model in ("MobileNet", "ResNet50") for prep in ("unit", "native") for res in (64, 128, 224, 256)],
]  # fmt: skip


# The prose of the bf16-parity, deployment, pneumonia and findings chapters and of the X-ray discussion (``book/discussion_xray.md``), one
# claim per empirical statement a page makes from glued numbers (an ordering, a count, a
# threshold, a verdict word, the side of 0.05 a p lies on); a number the prose only quotes is not
# claimed, nor is a sentence that is generic over what has run. Keyed by page: a chapter's key is
# its notebook's name, and the key "discussion" holds the claims ``book/discussion.md`` makes
# from chapters other than 04 (its chapter-04 claims are :data:`CLAIMS`). Names are
# ``<chapter>::<glue name>`` (:func:`read_chapters_glue`).


def read_chapters_glue(folder: str | os.PathLike[str], chapters: Iterable[str]) -> dict[str, Any]:
    """``{"<chapter>::<name>": value}`` for the executed ``<folder>/<chapter>.ipynb`` (the intro).

    Raises FileNotFoundError naming the chapter when one is not executed yet.
    """
    out: dict[str, Any] = {}
    for chapter in dict.fromkeys(chapters):
        path = Path(folder) / f"{chapter}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: chapter {chapter!r} is not executed; run "
                                    f"`python -m helpers notebooks configs/book.yaml --only {chapter}`")  # fmt: skip
        out |= {f"{chapter}::{k}": v for k, v in read_glue(path).items()}
    return out


def claim_chapters(claims: Iterable[Claim]) -> list[str]:
    """The chapters that ``<chapter>::<name>`` claims read, in order of first use (the intro)."""
    refs = [r for _, left, _, right in claims for r in (left, right) if isinstance(r, str)]
    return list(dict.fromkeys(r.split("::")[0] for r in refs if "::" in r))


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
            # a Markdown object's text/plain is its repr ("<IPython.core.display.Markdown ...>")
            text = data.get(f"{prefix}text/markdown", data.get(f"{prefix}text/plain"))
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
        if isinstance(right, str) and (right.startswith(_GLUE_PREFIXES) or "::" in right) and right not in glued:
            failures.append(f"{text}: glue name {right!r} missing")
        elif not OPS[op](a, b):
            failures.append(f"{text}: {left} = {a!r} {op} {right} = {b!r} is false")
    return failures
