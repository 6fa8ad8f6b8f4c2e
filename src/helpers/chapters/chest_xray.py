"""Part II's words: the chest X-ray tables as text, the ratio verdicts and the Grad-CAM sentence
(the pneumonia and findings chapters).

The numbers come from :mod:`helpers.analysis.chest_xray`, whose public names this module
re-exports, so a chapter imports one module (``from helpers.chapters import chest_xray as XR``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from helpers.analysis.chest_xray import *  # noqa: F403  (one import for the chapters: numbers and words)
from helpers.analysis.chest_xray import (
    METRICS,
    gradcam_finetuned_values,
    test_metrics,
    val_metrics,
    val_thresholds,
)
from helpers.chapters.formatting import ci_text, format_p, p_text


def _fmt(est: float, lo: float, hi: float, pct: bool) -> str:
    """A rate in % or an AUC with its interval (:func:`formatting.ci_text`)."""
    if pct:
        return ci_text(est, lo, hi, scale=100.0, digits=1)
    return ci_text(est, lo, hi, digits=3)


def reproduction_table(recs: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows: split × threshold rule; columns: AUC, accuracy, sensitivity, specificity with CIs."""
    rows = []
    rules = {"0.5": 0.5, "Youden on val": val_thresholds(recs)}
    for split, fn in (("validation", val_metrics), ("test", test_metrics)):
        for rule, th in rules.items():
            m = fn(recs, th)
            rows.append({"split": split, "threshold": rule, "AUC": _fmt(*m["auc"], pct=False),
                         **{k: _fmt(*m[k], pct=True) for k in METRICS[1:]}})
    return pd.DataFrame(rows)


def skin_chest_shown(pairs: pd.DataFrame) -> pd.DataFrame:
    """:func:`skin_chest_table` for reading: AUCs as "low → high", ratios as "r ± SD", p as
    text, "yes"/"no" for like for like (findings chapter)."""
    def side(part: str) -> dict[str, list[str]]:
        return {f"{part} AUC": [f"{a:.3f} → {b:.3f}" for a, b in
                                zip(pairs[f"{part} AUC low"], pairs[f"{part} AUC high"],
                                    strict=True)],
                f"{part} ratio": [f"{r:.3f} ± {sd:.3f}" for r, sd in
                                  zip(pairs[f"{part} ratio"], pairs[f"{part} SD"], strict=True)]}

    return pd.DataFrame({"comparison": pairs["comparison"],
                         "like for like": pairs["like for like"].map({True: "yes", False: "no"}),
                         "sizes": pairs["sizes"], **side("skin"), **side("chest"),
                         "z": pairs["z"], "p": pairs["p"].map(format_p)})


def ratio_verdict(d: Mapping[str, Any] | None, *, missing: str = "has not run",
                  same: str = "does not detectably lose more or less", p_key: str = "p") -> str:
    """How the second finding's ratio compares with the first's, from :func:`ratio_test` (findings chapter).

    ``same`` when ``d[p_key]`` ≥ 0.05 (``p_key="p_holm"``: the Holm-adjusted p of the chapter's
    family of ratio tests), else ``loses less`` (positive difference) or ``loses more``;
    ``missing`` when there was nothing to test.
    """
    if d is None:
        return missing
    if d[p_key] >= 0.05:
        return same
    return "loses less" if d["diff"] > 0 else "loses more"


def ratio_comparison_values(tests: Mapping[str, Mapping[str, Any]], findings: Iterable[str],
                            regimes: Iterable[str] = ("frozen", "full"), tag: str = "",
                            ) -> dict[str, float | str]:
    """Numbers the findings chapter glues from :func:`ratio_comparison` (NaN / "has not run" if missing).

    Keys per regime ``g`` and finding ``t``: ``r{tag}_{t}_{g}``, ``r{tag}_sd_{t}_{g}``; per
    regime: ``d{tag}_diff_{g}``, ``d{tag}_sd_{g}``, ``d{tag}_p_{g}``, ``d{tag}_seeds_{g}`` (fewest
    seeds of a cell) and ``d{tag}_verdict_{g}`` (:func:`ratio_verdict`).
    """
    nan = float("nan")
    out: dict[str, float | str] = {}
    for g in regimes:
        d = tests.get(g)
        for t in findings:
            f = d["findings"][t] if d else {}
            out[f"r{tag}_{t}_{g}"] = float(f.get("ratio", nan))
            out[f"r{tag}_sd_{t}_{g}"] = float(f.get("sd", nan))
        for k in ("diff", "sd", "p"):
            out[f"d{tag}_{k}_{g}"] = float(d[k]) if d else nan
        out[f"d{tag}_seeds_{g}"] = (float(min(v["n_seeds"] for v in d["findings"].values()))
                               if d else nan)
        out[f"d{tag}_verdict_{g}"] = ratio_verdict(d)
    return out


def ratio_values(cells: Iterable[tuple[str, str, str]],
                 ratios: Mapping[tuple[str, str, str], Mapping[str, Any]],
                 diffs: Mapping[tuple[str, str], Mapping[str, Any]],
                 mnist: Mapping[str, pd.DataFrame],
                 models: Iterable[str] = ("mobilenetv2", "resnet50"),
                 regimes: Iterable[str] = ("frozen", "full")) -> dict[str, float | str | int]:
    """Numbers the findings chapter glues about its AUC ratios (NaN for a cell without records).

    Per (task, model, regime) of ``cells``, from :func:`ratio` (``ratios``):
    ``ratio_{t}_{m}_{g}``, ``ratio_sd_…``, ``auc64_…`` and ``auc224_…``; per model and regime,
    from :func:`ratio_test` with its Holm-adjusted ``p_holm`` (``diffs``): ``d_diff_{m}_{g}``,
    ``d_sd_…``, ``d_z_…``, ``d_p_…`` and, for prose, ``d_p_{m}_{g}_txt`` and
    ``d_p_holm_{m}_{g}_txt``; per model, the PneumoniaMNIST AUC of :func:`curve` (``mnist``):
    ``mnist_auc_{m}``; and ``d_n_tests``, the number of ratio tests. Every name starts ``fr_``.
    """
    nan = float("nan")
    regimes = tuple(regimes)
    out: dict[str, float | str | int] = {}
    for (t, m, g) in cells:
        r = ratios.get((t, m, g), {})
        for key, name in (("ratio", "ratio"), ("sd", "ratio_sd"), ("auc_low", "auc64"),
                          ("auc_high", "auc224")):
            out[f"fr_{name}_{t}_{m}_{g}"] = float(r.get(key, nan))
    for m in models:
        for g in regimes:
            d = diffs.get((m, g), {})
            for k in ("diff", "sd", "z", "p"):
                out[f"fr_d_{k}_{m}_{g}"] = float(d.get(k, nan))
            out[f"fr_d_p_{m}_{g}_txt"] = p_text(d.get("p", nan))
            out[f"fr_d_p_holm_{m}_{g}_txt"] = p_text(d.get("p_holm", nan))
        out[f"fr_mnist_auc_{m}"] = float(mnist[m]["auc"].iloc[0]) if m in mnist else nan
    out["fr_d_n_tests"] = len(diffs)
    return out


def gradcam_finetuned_md(table: pd.DataFrame, frozen_lung: float, frozen_corner: float,
                         skipped: Iterable[str] = (), *, lung_area: float | None = None,
                         corner_area: float | None = None) -> str:
    """The the pneumonia chapter sentence comparing fine-tuned and frozen-proxy Grad-CAM at 224 px.

    ``table`` is :func:`gradcam_runs`; ``skipped`` the run ids that kept no model (named, so a
    missing network is never silent). With several seeds the sentence gives their range; with
    ``lung_area``/``corner_area`` (a uniform map's shares) it says how many seeds' maps are
    lung-centred (lung share above the uniform map's and corner share below it).
    """
    skipped = list(skipped)
    tail = (f" {len(skipped)} run(s) kept no model and are not mapped: "
            + ", ".join(f"`{r}`" for r in skipped) + "." if skipped else "")
    if table.empty:
        return ("No fine-tuned network has been mapped yet, so this comparison waits for the "
                "paper's protocol runs (the command is above the table)." + tail)
    n = len(table[["run", "seed"]].drop_duplicates())
    runs = sorted(set(table["run"]))
    what = runs[0] if len(runs) == 1 else "; ".join(runs)
    v = gradcam_finetuned_values(table)

    def share(key: str, fmt: str) -> str:
        mean = format(v[f"gc_ft_{key}"], fmt)
        if n < 2:
            return mean
        return (f"{mean} (seeds {format(v[f'gc_ft_{key}_min'], fmt)}–"
                f"{format(v[f'gc_ft_{key}_max'], fmt)})")

    text = (f"For the {n} fine-tuned network{'s' if n > 1 else ''} ({what}) "
            f"{share('lung', '.2f')} of the last-layer Grad-CAM mass lies in the lung-field "
            f"ellipse and {share('corner', '.3f')} in the corners, against {frozen_lung:.2f} and "
            f"{frozen_corner:.3f} for the frozen proxy at 224 px.")
    if lung_area is not None and corner_area is not None:
        last = table[table["layer"] == "last"]
        centred = int(((last["lung share"] > lung_area)
                       & (last["corner share"] < corner_area)).sum())
        text += (f" {centred} of {len(last)} fine-tuned map sets are lung-centred by this "
                 f"measure (lung share above a uniform map's {lung_area:.2f} and corner share "
                 f"below its {corner_area:.2f}).")
    return text + tail
