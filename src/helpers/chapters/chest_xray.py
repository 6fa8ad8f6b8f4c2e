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


# ------------------------------------------------------------ the child as the unit (findings chapter)
def split_check_values(check: Mapping[str, Any]) -> dict[str, float | str]:
    """What the findings chapter glues from ``results/xray/split_patients.json``
    (:func:`helpers.analysis.split_patients.split_patient_overlap`): ``sp_shared_ids``, the
    medians ``sp_same_median``, ``sp_random_median``, ``sp_within_median`` and the Mann–Whitney
    ``sp_same_vs_random_p`` (with ``_txt``)."""
    out: dict[str, float | str] = {"sp_shared_ids": float(check["shared_ids"])}
    for key, part in (("same", "same_id"), ("random", "random_child"), ("within", "within_test")):
        out[f"sp_{key}_median"] = float(check[part]["median"])
    out["sp_same_vs_random_p"] = float(check["same_vs_random_p"])
    out["sp_same_vs_random_p_txt"] = p_text(check["same_vs_random_p"])
    return out


def widening_summary(widening: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per finding, the images, children, cells and the lowest / median / highest patient-level
    over image-level SE ratio of :func:`patient_widening`, and those numbers to glue as
    ``pw_<finding>_<column>`` (findings chapter)."""
    by_finding = widening.groupby("finding").agg(
        images=("images", "max"), patients=("patients", "max"), cells=("ratio", "size"),
        lowest=("ratio", "min"), median=("ratio", "median"), highest=("ratio", "max"))
    values = {f"pw_{f}_{col}": float(row[col]) for f, row in by_finding.iterrows()
              for col in ("images", "patients", "lowest", "median", "highest")}
    return by_finding, values


def unit_comparison_values(by_unit: pd.DataFrame, findings: Mapping[str, str]
                           ) -> tuple[pd.DataFrame, dict[str, float | str]]:
    """:func:`unit_comparison` for reading (cells named, p as text) and what the findings
    chapter glues about it: ``pu_n`` comparisons, ``pu_changed`` verdict words, ``pu_n_larger``
    larger adjusted p by child, and the closest call (of the differences found with the image
    as the unit, the one whose patient-level p is largest): ``pu_close_cell``,
    ``pu_close_image`` / ``_patient`` (with ``_txt``) and ``pu_close_word``; "—" / NaN when no
    difference was found by image."""
    shown = by_unit.assign(cell=[f"{findings[t]}, {m}, {g}" for t, m, g in by_unit["cell"]])
    for col in ("p (Holm) image", "p (Holm) patient"):
        shown[col] = shown[col].map(format_p)
    values: dict[str, float | str] = {
        "pu_n": float(len(by_unit)), "pu_changed": float(by_unit["changed"].sum()),
        "pu_n_larger": float((by_unit["p (Holm) patient"] > by_unit["p (Holm) image"]).sum())}
    found = by_unit[by_unit["p (Holm) image"] < 0.05]
    close = found.loc[found["p (Holm) patient"].idxmax()] if len(found) else None
    values["pu_close_cell"] = ("none (no difference found by image)" if close is None else
                               f"{findings[close['cell'][0]]}, {close['cell'][1]} "
                               f"{close['cell'][2]}, {close['resolution']} px")
    for col, tag in (("p (Holm) image", "image"), ("p (Holm) patient", "patient")):
        values[f"pu_close_{tag}"] = float("nan") if close is None else float(close[col])
        values[f"pu_close_{tag}_txt"] = "—" if close is None else format_p(close[col])
    values["pu_close_word"] = ("—" if close is None else "still below"
                               if close["p (Holm) patient"] < 0.05 else "no longer below")
    return shown.drop(columns="changed"), values


def skin_chest_values(pairs: pd.DataFrame) -> dict[str, float | str]:
    """What the findings chapter glues from :func:`skin_chest_table`: ``sc_n_like``; per pair key
    (like, mob_frozen, mob_full) its AUCs, ratios, SDs, z and p as ``sc_<key>_<column>`` and
    ``sc_<key>_p_txt`` (NaN / "not run" for a pair one side lacks); and the frozen MobileNet
    pair's skin numbers as ``fr_skin_ratio``, ``fr_skin_ratio_sd``, ``fr_skin_auc64``,
    ``fr_skin_auc224`` (the discussion quotes them)."""
    nan = float("nan")
    by_key = {k: row for k, row in pairs.set_index("key").iterrows()} if len(pairs) else {}
    out: dict[str, float | str] = {
        "sc_n_like": float(pairs["like for like"].sum()) if len(pairs) else 0.0}
    for tag in ("like", "mob_frozen", "mob_full"):
        row = by_key.get(tag)
        for key in ("skin AUC low", "skin AUC high", "skin ratio", "skin SD", "chest ratio",
                    "chest SD", "z", "p"):
            out[f"sc_{tag}_{key.replace(' ', '_').lower()}"] = (
                float(row[key]) if row is not None else nan)
        out[f"sc_{tag}_p_txt"] = p_text(row["p"]) if row is not None else "not run"
    mob = by_key.get("mob_frozen")
    for key, col in (("fr_skin_ratio", "skin ratio"), ("fr_skin_ratio_sd", "skin SD"),
                     ("fr_skin_auc64", "skin AUC low"), ("fr_skin_auc224", "skin AUC high")):
        out[key] = float(mob[col]) if mob is not None else nan
    return out
