"""The results chapter's comparisons in words: one bullet per seed-aware comparison and the
"sweet spot" verdict per family (results chapter), worded by :func:`helpers.chapters.verdicts.verdict`.

Glue names and the cell labels come from :mod:`helpers.chapters.results_prose`.
"""

from __future__ import annotations

import pandas as pd

from helpers.analysis.inference import ALPHA
from helpers.chapters.formatting import format_p, p_text, plural
from helpers.chapters.results_prose import Values, precision_tag, setup_parts
from helpers.runs.frames import model_label, setting

KIND_PREFIX: dict[str, str] = {
    "resolution": "or_res",
    "model": "or_models",
    "preprocessing": "or_prep",
    "regime": "or_regime",
}
"""Glue-name prefix of each comparison kind; every name then says the fixed set-up."""


SWEET_VERDICTS: dict[str, str] = {
    "reproduced": "128 px has the highest AUC and every larger size run is detectably lower",
    "not distinguished": "128 px has the highest AUC, but no larger size is detectably lower",
    "not supported": "another size has the highest AUC; 128 px does not differ detectably from it",
    "not reproduced": "another size has the highest AUC and 128 px is detectably lower",
    "untestable": "no size above 128 px was run in this regime, so the claim cannot be tested",
}
"""The paper's claim "MobileNet's sweet spot is 128 px", judged within one regime."""


def comparison_key(kind: str, row: pd.Series, runs: pd.DataFrame) -> str:
    """Glue prefix of one seed-aware comparison, e.g. ``or_models_frozen_native_224`` (results chapter).

    Resolution rows: ``or_res_<regime>_<model>_<prep>[_bf16]_<small>_<large>`` (order-free).
    """
    fixed = {
        "resolution": ("regime", "model", "preprocessing"),
        "model": ("regime", "preprocessing"),
        "preprocessing": ("regime", "model"),
        "regime": ("model", "preprocessing"),
    }[kind]
    head = f"{KIND_PREFIX[kind]}_{setup_parts(row, runs, fixed)}"
    if kind == "resolution":
        low, high = sorted((int(row["resolution"]), int(row["best_resolution"])))
        return f"{head}_{low}_{high}"
    return f"{head}_{int(row['resolution'])}"


def _names(kind: str, row: pd.Series, runs: pd.DataFrame) -> tuple[str, str, float, float]:
    if kind == "resolution":
        return (f"{int(row['resolution'])} px", f"{int(row['best_resolution'])} px (best)",
                float(row["auc"]), float(row["auc_best"]))  # fmt: skip
    from helpers.analysis.inference import SIDES

    a, b = SIDES[kind]
    label = {"unit": "[0, 1] scaling", "native": "native preprocessing"}
    na, nb = (model_label(a), model_label(b)) if kind == "model" else (label.get(a, a), label.get(b, b))
    return na, nb, float(row[f"auc_{a}"]), float(row[f"auc_{b}"])


def seed_comparisons(kind: str, table: pd.DataFrame, runs: pd.DataFrame) -> tuple[Values, str]:
    """Glue values and one bullet per comparison, worded by :func:`helpers.chapters.verdicts.verdict` (results chapter).

    Per comparison ``<key>_p`` (OR–Hillis), ``<key>_p_adj`` (Holm within its family),
    ``<key>_verdict`` (higher / lower / equivalent / inconclusive, with equivalence at
    ±0.02 by the Holm-adjusted TOST, ``<key>_tost_p_adj_txt``),
    ``<key>_p_adj_txt`` (it for prose: ``p = 0.012`` or ``p < 0.001``), ``<key>_p_gen_adj`` /
    ``<key>_p_gen_adj_txt`` (the Holm-adjusted generalized p-value, the few-seed companion) and
    ``<key>_robust`` (for a difference the published test finds: "robust" when the
    generalized p-value finds it too, else "not robust"; "no difference claimed" otherwise),
    ``<key>_p_ens``
    (ensemble DeLong), ``<key>_auc_a`` and ``<key>_auc_b`` (the mean AUCs over the seeds the two
    configurations share, which are the seeds the test pairs) and ``<key>_n_seeds`` (how many).
    """
    from helpers.chapters.verdicts import verdict

    if table.empty:
        return {}, f"No pair of configurations to compare by {kind}."
    values: Values = {}
    lines = []
    for _, row in table.iterrows():
        if kind == "resolution" and row["resolution"] == row["best_resolution"]:
            continue
        key = comparison_key(kind, row, runs)
        na, nb, auc_a, auc_b = _names(kind, row, runs)
        values.update({f"{key}_p": float(row["p"]), f"{key}_p_adj": float(row["p_holm"]),
                       f"{key}_p_adj_txt": p_text(float(row["p_holm"])),
                       f"{key}_p_ens": float(row["p_ensemble"]), f"{key}_auc_a": auc_a,
                       f"{key}_auc_b": auc_b, f"{key}_n_seeds": int(row["n_seeds"])})  # fmt: skip
        equivalent = bool(row["equivalent"]) if "equivalent" in row else None
        if "p_generalized_holm" in row:  # the few-seed companion (size appendix)
            gen = float(row["p_generalized_holm"])
            found = float(row["p_holm"]) < ALPHA  # robustness is a question only for a difference
            word = ("robust" if gen < ALPHA else "not robust") if found else "no difference claimed"
            values.update({f"{key}_p_gen_adj": gen, f"{key}_p_gen_adj_txt": p_text(gen),
                           f"{key}_robust": word})  # fmt: skip
        if "verdict" in row:  # the equivalence test's word and its Holm-adjusted TOST p
            values.update({f"{key}_verdict": str(row["verdict"]),
                           f"{key}_tost_p_adj_txt": p_text(float(row["tost_p_holm"]))})
        where = _where_text(kind, row, runs)
        text = verdict(na, nb, auc_a, auc_b, float(row["p_holm"]), equivalent=equivalent,
                       diff=float(row["diff"]) if "diff" in row else None)
        lines.append(f"* {where} — {text}; "
                     f"AUC {auc_a:.3f} vs {auc_b:.3f}, {plural(int(row['n_seeds']), 'paired seed')}.")  # fmt: skip
    return values, "\n".join(lines)


def _where_text(kind: str, row: pd.Series, runs: pd.DataFrame) -> str:
    parts = [] if kind == "model" else [model_label(row["model"])]
    parts += [f"`{setting(row, k, runs)}`" for k in ("regime", "preprocessing") if k != kind]
    if kind != "resolution":
        parts.append(f"{int(row['resolution'])} px")
    if precision_tag(row, runs):
        parts.append("bf16")
    return ", ".join(parts)


def sweet_spot_verdict(fam: pd.DataFrame, focus: int = 128, alpha: float = 0.05) -> str:
    """A key of :data:`SWEET_VERDICTS` for one resolution family (seed-aware table, the results chapter)."""
    sizes = set(int(r) for r in fam["resolution"])
    if focus not in sizes or not any(r > focus for r in sizes):
        return "untestable"
    best = int(fam["best_resolution"].iloc[0])
    at = fam.set_index(fam["resolution"].astype(int))
    if best != focus:
        return "not reproduced" if at.loc[focus, "p_holm"] < alpha else "not supported"
    larger = at[at.index > focus]
    return "reproduced" if (larger["p_holm"] < alpha).all() else "not distinguished"


def sweet_spot_regimes(
    table: pd.DataFrame, runs: pd.DataFrame, model: str = "mobilenet"
) -> tuple[Values, dict[str, str]]:
    """The sweet-spot verdict per regime × preprocessing from the seed-aware tests (results chapter).

    Values ``sweet_<regime>_<prep>[_bf16]_{verdict,best_res,best_auc,sizes}``; one Markdown
    paragraph per regime (glued as ``sweet_spot_<regime>_md`` by the chapter).
    """
    values: Values = {}
    texts: dict[str, list[str]] = {}
    sub = table[table["model"] == model]
    for _, fam in sub.groupby("family", sort=True):
        row = fam.iloc[0]
        regime = str(setting(row, "regime", runs))
        key = f"sweet_{regime}_{setting(row, 'preprocessing', runs)}{precision_tag(row, runs)}"
        verdict = sweet_spot_verdict(fam)
        sizes = ", ".join(str(int(r)) for r in sorted(fam["resolution"]))
        values.update({f"{key}_verdict": verdict, f"{key}_best_res": int(row["best_resolution"]),
                       f"{key}_best_auc": float(row["auc_best"]), f"{key}_sizes": sizes})  # fmt: skip
        texts.setdefault(regime, []).append(
            f"* `{regime}`, `{setting(row, 'preprocessing', runs)}`"
            f"{', bf16' if precision_tag(row, runs) else ''} (sizes run: {sizes} px): best "
            f"{int(row['best_resolution'])} px (seed-mean AUC {row['auc_best']:.3f}); "
            f"**{verdict}**: {SWEET_VERDICTS[verdict]}."
        )
    return values, {regime: "\n".join(lines) for regime, lines in texts.items()}


def robustness(tables: list[pd.DataFrame], generalized: str = "p_generalized_holm") -> dict[str, object]:
    """Of the differences the published test finds (``p_holm`` < ALPHA) in ``tables``: how many
    (``found``), how many the generalized p-value (column ``generalized``, Holm-adjusted) confirms
    (``robust``) and not (``not_robust``), and those in words (``text``; "none") (results chapter,
    size appendix)."""
    parts = [t for t in tables if len(t)]
    rows = pd.concat(parts) if parts else pd.DataFrame(columns=["p_holm", generalized])
    found = rows[rows["p_holm"] < ALPHA]
    fragile = found[found[generalized] >= ALPHA]
    text = "; ".join(f"{r['family']} at {int(r['resolution'])} px (adjusted p "
                     f"{format_p(r['p_holm'])}, generalized {format_p(r[generalized])})"
                     for _, r in fragile.iterrows())  # fmt: skip
    return {"found": len(found), "robust": len(found) - len(fragile),
            "not_robust": len(fragile), "text": text or "none"}
