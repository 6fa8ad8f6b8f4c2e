"""The claims each chapter's prose makes, page by page (every chapter's claims checked in CI).

Data only: :mod:`helpers.chapters.claims` checks them (and re-exports :data:`CHAPTER_CLAIMS`);
``tests/test_claims.py`` runs the checks on the executed chapters and
``tests/test_claims_mutation.py`` shows each can fail. Names are ``<chapter>::<glue name>``.
"""

from __future__ import annotations

from typing import Any

from helpers.paper_reference import CLAIMED_LATENCY_MS
from helpers.stats.equivalence import MARGIN_AUC

ALPHA = 0.05
Claim = tuple[str, str, str, Any]
_R4, _R6, _R8 = "04_results::", "06_deployment::", "08_findings_resolution::"
_K7 = "07_pneumonia_mobilenetv2::"
_S10 = "10_or_hillis_size::"
_B11 = "11_beyond_auc::"
_P5, _D6 = "05_precision_parity::", "06_deployment::"
_D1, _C2, _T3, _X9 = "01_data::", "02_separable_cost::", "03_train::", "09_external_site::"
CHAPTER_CLAIMS: dict[str, list[Claim]] = {
    "01_data": [
        ("01: melanoma is a minority of training images", _D1 + "data_pct_pos_train", "<", 50),
        ("01: 'always benign' scores above 0.5 on test", _D1 + "data_majority_test", ">", 0.5),
        ("01: duplicates were removed", _D1 + "data_n_removed", ">", 0),
        ("01: some groups joined train to val/test", _D1 + "data_n_cross", ">", 0),
        ("01: balanced test set smaller than the official one", _D1 + "data_n_bal_test", "<", _D1 + "data_n_test"),
        ("01: no file skipped", _D1 + "data_n_skipped", "==", 0),
    ],
    "02_separable_cost": [
        ("02: saving passes 8x from N = 72", _C2 + "cost_n_for_8", "==", 72),
        ("02: first block below 8x", _C2 + "cost_red_first", "<", 8),
        ("02: other blocks above 8x", _C2 + "cost_red_rest_min", ">", 8),
        ("02: no block reaches 9x", _C2 + "cost_red_rest_max", "<", 9),
        ("02: all thirteen blocks within 8-9x (low)", _C2 + "cost_red_overall", ">", 8),
        ("02: all thirteen blocks within 8-9x (high)", _C2 + "cost_red_overall", "<", 9),
        ("02: formulas match Keras's parameter counts", _C2 + "cost_n_disagree", "==", 0),
        ("02: formulas match the profiler's conv FLOPs", _C2 + "cost_prof_conv_mismatch", "==", 0),
        ("02: the profiler's total is larger", _C2 + "cost_prof_excess_min", ">", 0),
        ("02: cost quadratic in the input side", _C2 + "cost_slope_dev", "<", 1e-3),
        ("02: ResNet50 needs more MACs than MobileNet", _C2 + "cost_ratio_rn_mn", ">", 1),
        ("02: the ratio is the same at every size", _C2 + "cost_ratio_spread", "<", 1e-3),
        ("02: .h5 files in MiB match the paper's sizes", _C2 + "cost_h5_gap_max", "<", 0.2),
        ("02: decimal MB further from the paper than .h5 MiB", _C2 + "cost_mb_gap_min", ">", _C2 + "cost_h5_gap_max"),
        ("02: Adam-state files far larger than the paper's MobileNet", _C2 + "cost_adam_mib_mobilenet", ">", _C2 + "cost_paper_mb_mobilenet"),
        ("02: Adam-state files far larger than the paper's ResNet50", _C2 + "cost_adam_mib_resnet50", ">", _C2 + "cost_paper_mb_resnet50"),
    ],
    "03_train": [
        ("03: the book's run is not the paper's full regime", _T3 + "train_regime", "!=", "full"),
        ("03: test AUC above chance (interval above 0.5)", _T3 + "train_test_auc_lo", ">", 0.5),
        ("03: sensitivity at 0.5 below one half", _T3 + "train_test_sens", "<", 0.5),
        ("03: specificity above sensitivity", _T3 + "train_test_spec", ">", _T3 + "train_test_sens"),
        ("03: accuracy above always-benign", _T3 + "train_test_acc", ">", _T3 + "train_test_majority"),
        ("03: ... but barely (within 0.05)", _T3 + "train_test_acc_gain", "<", 0.05),
        ("03: learning rate was cut", _T3 + "train_n_lr_cuts", ">", 0),
        ("03: validation loss ended above its minimum", _T3 + "train_val_loss_last", ">", _T3 + "train_val_loss_min"),
        ("03: only part of the parameters learnt", _T3 + "train_trainable", "<", _T3 + "train_params"),
    ],
    "09_external_site": [
        ("09: PH2 AUC above ISIC test in every learnt cell", _X9 + "found_diff_min", ">", 0),
        ("09: no interval of PH2 - ISIC below zero", _X9 + "found_n_diff_below", "==", 0),
        ("09: like-for-like, PH2 higher in some cells", _X9 + "found_mix_n_above", ">", 0),
        ("09: like-for-like, PH2 lower in none", _X9 + "found_mix_n_below", "==", 0),
        ("09: best size on PH2 never ISIC's", _X9 + "found_n_same_best", "==", 0),
        ("09: sensitivity at ISIC's Youden threshold higher on PH2", _X9 + "found_thr_sens_external", ">", _X9 + "found_thr_sens_test"),
        ("09: specificity at ISIC's Youden threshold higher on PH2", _X9 + "found_thr_spec_external", ">", _X9 + "found_thr_spec_test"),
        ("09: no other geometry beats squash", _X9 + "found_geo_higher", "==", 0),
        ("09: most geometry comparisons not detectable", _X9 + "found_geo_nodiff", ">", _X9 + "found_geo_lower"),
        ("09: atypical nevi harder than common", _X9 + "found_sub_atypical_nevus", "<", _X9 + "found_sub_common_nevus"),
        ("09: atypical nevi harder in every cell", _X9 + "found_n_sub_harder", "==", _X9 + "found_n_sub"),
        ("09: no fine-tuned run has scored PH2", _X9 + "found_n_full_runs", "==", 0),
    ],
    "04_results": [
        ("04: some paper-regime rows take their sizes from two machines", _R4 + "plat_rows_split", ">", 0),
        ("04: one paper-regime cell mixes machines ('1 cell')", _R4 + "plat_cells_mixed", "==", 1),
        # 1. no sweet spot at 128 px, in either regime
        ("04 found: frozen sweet spot not reproduced", _R4 + "sweet_frozen_unit_verdict", "==", "not reproduced"),
        ("04 found: frozen best size is the 256 px quoted", _R4 + "sweet_frozen_unit_best_res", "==", 256),
        ("04 found: frozen 128 px below 256 px", _R4 + "or_res_frozen_mobilenet_unit_128_256_p_adj", "<", ALPHA),
        ("04 found: frozen 128 px seed mean below 256 px's", _R4 + "fig_auc_frozen_mobilenet_unit_128", "<", _R4 + "fig_auc_frozen_mobilenet_unit_256"),
        ("04 found: frozen 128 vs 256 px is borderline (not far below 0.05)", _R4 + "or_res_frozen_mobilenet_unit_128_256_p_adj", ">", 0.01),
        ("04 found: frozen 128 vs 256 px not robust (generalized p above 0.05)", _R4 + "or_res_frozen_mobilenet_unit_128_256_p_gen_adj", ">=", ALPHA),
        ("04 found: frozen 128 vs 256 px robust word", _R4 + "or_res_frozen_mobilenet_unit_128_256_robust", "==", "not robust"),
        ("04 found: full sweet spot not supported", _R4 + "sweet_full_unit_verdict", "==", "not supported"),
        ("04 found: full best size is 256 px", _R4 + "sweet_full_unit_best_res", "==", 256),
        *[(f"04 found: native gives the same {g} verdict", f"{_R4}sweet_{g}_native_verdict", "==", f"{_R4}sweet_{g}_unit_verdict")
          for g in ("frozen", "full")],
        # 2. a plateau, not shown flat
        ("04 found: frozen 224 ~ 256 px", _R4 + "or_res_frozen_mobilenet_unit_224_256_p_adj", ">=", ALPHA),
        ("04 found: full 128 ~ 256 px", _R4 + "or_res_full_mobilenet_unit_128_256_p_adj", ">=", ALPHA),
        *[(f"04 found: {c} equivalence inconclusive", f"{_R4}or_res_{c}_verdict", "==", "inconclusive")
          for c in ("frozen_mobilenet_unit_224_256", "full_mobilenet_unit_128_256")],
        # 3. ResNet50 never ahead of MobileNet
        ("04 found: frozen ResNet50 [0,1] near chance", _R4 + "frozen_resnet50_unit_best_auc", "<", 0.6),
        *[(f"04 found: ResNet50 not ahead ({g} {p} {r} px)", f"{_R4}or_models_{g}_{p}_{r}_verdict", "!=", "lower")
          for g in ("frozen", "full") for p in ("unit", "native") for r in (64, 128, 224, 256)],
        *[(f"04 found: frozen native {r} px not distinguishable", f"{_R4}or_models_frozen_native_{r}_p_adj", ">=", ALPHA)
          for r in (64, 128, 224, 256)],
        ("04 found: full 64 px ResNet50 lower", _R4 + "or_models_full_unit_64_p_adj", "<", ALPHA),
        ("04 found: full 64 px ResNet50 seed mean lower", _R4 + "fig_auc_full_resnet50_unit_64", "<", _R4 + "fig_auc_full_mobilenet_unit_64"),
        ("04 found: full 224 px ResNet50 lower", _R4 + "or_models_full_unit_224_p_adj", "<", ALPHA),
        ("04 found: full 224 px ResNet50 AUC lower", _R4 + "or_models_full_unit_224_auc_b", "<", _R4 + "or_models_full_unit_224_auc_a"),
        ("04 found: full 224 px ResNet50 has one seed", _R4 + "fig_auc_full_resnet50_unit_bf16_224_n_seeds", "==", 1),
        # 4. fine-tuning lifts 64 px, not 224-256 px
        *[(f"04 found: MobileNet {p} 64 px full > frozen", f"{_R4}or_regime_mobilenet_{p}_64_p_adj", "<", ALPHA) for p in ("unit", "native")],
        *[(f"04 found: MobileNet {p} 64 px full AUC higher", f"{_R4}or_regime_mobilenet_{p}_64_auc_b", ">", f"{_R4}or_regime_mobilenet_{p}_64_auc_a") for p in ("unit", "native")],
        *[(f"04 found: MobileNet [0,1] {r} px full ~ frozen", f"{_R4}or_regime_mobilenet_unit_{r}_p_adj", ">=", ALPHA) for r in (224, 256)],
        ("04 found: the 64 px lift is not robust with three seeds", _R4 + "or_regime_mobilenet_unit_64_p_gen_adj", ">=", ALPHA),
    ],
    "05_precision_parity": [
        # the design: MobileNet 128 px and ResNet50 64 px, both preprocessings, seeds 0-2
        ("05: four parity cells (2 configurations x 2 preprocessings)", _P5 + "parity_n_cells", "==", 4),
        ("05: twelve paired runs (4 cells x seeds 0-2)", _P5 + "parity_n_pairs", "==", 12),
        ("05: ResNet50's gate is 2 preprocessings x 3 seeds", _P5 + "parity_gate_n", "==", 6),
        # "bf16 trained ResNet50 1.28-1.44 times as fast ... but MobileNet only 0.75-1.01 times"
        ("05: bf16 trains ResNet50 faster than float32", _P5 + "bf16_train_min_resnet50", ">", 1),
        ("05: MobileNet gains less from bf16 than ResNet50 ('only')", _P5 + "bf16_train_max_mobilenet", "<", _P5 + "bf16_train_min_resnet50"),
        ("05: MobileNet has no speed to gain from bf16 (within 10 %)", _P5 + "bf16_train_max_mobilenet", "<", 1.1),
        # "ResNet50's [cells ran] in bf16 because its own parity cells ... hold by the rule above"
        *[(f"05: parity holds for ResNet50 64 px {prep} (the bf16 gate)", f"{_P5}par_resnet50_64_{prep}_verdict", "==", "holds")
          for prep in ("unit", "native")],
        # "That gate is the declared rule's, not an equivalence"
        *[(f"05: ResNet50 64 px {prep} is not shown equivalent", f"{_P5}par_resnet50_64_{prep}_eq_verdict", "!=", "equivalent")
          for prep in ("unit", "native")],
        ("05: ResNet50 64 px [0,1] interval reaches beyond the margin (effect not excluded)", _P5 + "par_resnet50_64_unit_eq_lo", "<", -MARGIN_AUC),
        # the CPU without bf16 instructions
        ("05: the emulating CPU has no bf16 instructions", _P5 + "emu_cpu_bf16", "==", 0.0),
        ("05: emulated bf16 trains slower than float32", _P5 + "emu_train_ratio", "<", 1),
        ("05: an emulated bf16 run takes longer than a float32 one", _P5 + "emu_run_h_bf16", ">", _P5 + "emu_run_h_fp32"),
        # section 4: the same run on two machines
        ("05: the largest CPU/GPU twin difference exceeds the seed SD", _P5 + "twin_worst_in_sd", ">", 1),
        ("05: swapping in the GPU draws changes the ResNet50 [0,1] parity verdict", _P5 + "twindraw_resnet50_64_unit_verdict", "!=", _P5 + "par_resnet50_64_unit_verdict"),
        ("05 found: parity holds in 3 of the cells", _P5 + "parity_n_hold", "==", 3),
        ("05 found: parity fails for MobileNet 128 px native", _P5 + "par_mobilenet_128_native_verdict", "==", "does not hold"),
        ("05 found: its mean delta exceeds its seed SD", _P5 + "par_mobilenet_128_native_mean_delta", ">", _P5 + "par_mobilenet_128_native_seed_sd"),
        ("05 found: no cell shown equivalent", _P5 + "parity_n_equiv", "==", 0),
        ("05 found: with the GPU draws parity for ResNet50 [0,1] does not hold", _P5 + "twindraw_resnet50_64_unit_verdict", "==", "does not hold"),
    ],
    "06_deployment": [
        ("06: re-training reproduced the run records' models", _D6 + "retrain_max_dp", "<", 1e-3),
        ("06: eight frozen models (2 networks x 4 sizes, seed 0)", _D6 + "n_configs", "==", 8),
        ("06: one int8 file per frozen model", _D6 + "int8_n", "==", _D6 + "n_configs"),
        ("06: four formats per model", _D6 + "n_records", "==", 32),
        ("06: full int8 smaller than float32", _D6 + "int8_shrink", ">", 1),
        ("06: float32 file reproduces Keras within rounding", _D6 + "float32_max_dp", "<", 1e-4),
        ("06: float16 moves probabilities more than float32", _D6 + "float16_max_dp", ">", _D6 + "float32_max_dp"),
        ("06: full int8 faster than float32", _D6 + "int8_speedup_min", ">", 1),
        ("06: dynamic-range int8 slower than float32 for MobileNet", _D6 + "dyn_over_float_mobilenet", ">", 1),
        ("06: dynamic-range int8 costs MobileNet more than ResNet50", _D6 + "dyn_over_float_resnet50", "<", _D6 + "dyn_over_float_mobilenet"),
        # section 7: train at one size, test at another
        ("06: MobileNet has all four mismatch rows", _D6 + "mm_rows_mobilenet", "==", 4),
        ("06: testing smaller hurts more than testing larger", _D6 + "mm_down_mean", "<", _D6 + "mm_up_mean"),
        ("06: testing larger still costs AUC on average", _D6 + "mm_up_mean", "<", 0),
        ("06: no larger test size detectably better (no Touvron gain)", _D6 + "mm_up_n_better", "==", 0),
        ("06: MobileNet 224 -> 256 px step not detectable", _D6 + "mm_224_256_p", ">=", ALPHA),
        ("06: MobileNet 256 -> 224 px step not detectable", _D6 + "mm_256_224_p", ">=", ALPHA),
        # section 8: saturation of the int8 sigmoid
        ("06: most Kilaru test images are saturated", _D6 + "sat_share_min", ">", 0.5),
        ("06: the int8 grid alone lowers the Kilaru AUC", _D6 + "sat_auc_grid_max", "<", _D6 + "sat_auc_f32_min"),
        ("06: the int8 files lose more than the grid alone", _D6 + "sat_auc_int8_max", "<", _D6 + "sat_auc_grid_min"),
        ("06: the logit-out int8 files keep more than the int8 files", _D6 + "sat_auc_logit_min", ">", _D6 + "sat_auc_int8_max"),
        ("06: the logit-out int8 files keep more than the grid allows", _D6 + "sat_auc_logit_min", ">", _D6 + "sat_auc_grid_max"),
        ("06: the frozen models are less saturated than Kilaru's", _D6 + "sat_frozen_max", "<", _D6 + "sat_share_min"),
        ("06: the grid explains little of the frozen int8 loss", _D6 + "sat_frozen_grid_cost_max", "<", _D6 + "int8_max_abs_delta"),
        # section 9: the model to ship answers under the paper's 50 ms
        ("06: the model to ship is under 50 ms", _D6 + "rec_ms", "<", CLAIMED_LATENCY_MS),
        ("06: MobileNet int8 under the paper's 4 MB", _D6 + "ship_mobilenet_int8_mb", "<", _D6 + "ship_claim_int8_mb"),
        ("06: some int8 file differs after Holm", _D6 + "int8_n_sig_holm", ">", 0),
        ("06: no int8 file shown equivalent", _D6 + "int8_n_equiv", "==", 0),
        ("06: some int8 files inconclusive", _D6 + "int8_n_inconclusive", ">", 0),
        ("06: the int8 files lose Kilaru AUC against float32", _D6 + "sat_auc_int8_max", "<", _D6 + "sat_auc_f32_min"),
        ("06: not every file is under 50 ms", _D6 + "n_under_claim", "<", _D6 + "n_records"),
    ],
    "07_pneumonia_mobilenetv2": [
        ("07: the official test set less duplicates (< 624)", _K7 + "k_n_test", "<", 624),
        ("07: validation accuracy above test accuracy (not the same population)", _K7 + "k_val_acc", ">", _K7 + "k_test_acc"),
        ("07: the training split is mostly pneumonia", _K7 + "k_prev_train", ">", 50),
        ("07: the one-unit-head model is below the paper's 14 MB", _K7 + "k_size_mb", "<", 14),
        ("07: ResNet50 well short of 200 MB", _K7 + "k_size_resnet_mb", "<", 200),
        ("07: MobileNetV2 at least 60 % faster than ResNet50", _K7 + "k_faster_resnet", ">=", 60),
        ("07: MobileNetV2 at least 60 % faster than DenseNet121", _K7 + "k_faster_densenet", ">=", 60),
        ("07 found: validation accuracy above the paper's 91.2 %", _K7 + "k_val_acc", ">=", 91.2),
        ("07 found: validation AUC above the paper's 0.947", _K7 + "k_val_auc", ">=", 0.947),
        ("07 found: test AUC below validation AUC", _K7 + "k_test_auc", "<", _K7 + "k_val_auc"),
        ("07 found: test specificity at 0.5 below sensitivity", _K7 + "k_test_spec_05", "<", _K7 + "k_test_sens_05"),
        ("07 found: Youden does not detectably repair specificity", _K7 + "k_test_spec_youden_lo", "<", _K7 + "k_test_spec_05"),
        ("07 found: frozen early-layer lung share below uniform (224 px)", _K7 + "gc_early_lung_224", "<", _K7 + "gc_lung_area"),
        ("07 found: frozen early-layer corner share above uniform (224 px)", _K7 + "gc_early_corner_224", ">", _K7 + "gc_corner_area"),
        ("07 found: fine-tuning moves mass towards the lungs", _K7 + "gc_ft_lung", ">", _K7 + "gc_last_lung_224"),
        ("07 found: only partly (lowest seed below frozen)", _K7 + "gc_ft_lung_min", "<", _K7 + "gc_last_lung_224"),
        ("07 found: no less in the corners", _K7 + "gc_ft_corner", ">=", _K7 + "gc_last_corner_224"),
    ],
    "08_findings_resolution": [
        ("08: pneumonia intervals hardly wider at patient level", _R8 + "pw_pneumonia_highest", "<", 1.1),
        ("08: bacterial vs viral intervals clearly wider at patient level", _R8 + "pw_bacterial_vs_viral_median", ">", 1.2),
        ("08: several images per child", _R8 + "pw_bacterial_vs_viral_patients", "<", _R8 + "pw_bacterial_vs_viral_images"),
        ("08: the test folder shares ids with the training folder", _R8 + "sp_shared_ids", ">", 0),
        ("08: same-id train/test pairs no more alike than random children", _R8 + "sp_same_vs_random_p", ">=", ALPHA),
        ("08: two radiographs of one test child more alike than same-id pairs", _R8 + "sp_within_median", ">", _R8 + "sp_same_median"),
        ("08: no verdict word changes with the child as the unit", _R8 + "pu_changed", "==", 0),
        ("08: the closest call stays below 0.05 by child", _R8 + "pu_close_patient", "<", ALPHA),
        ("08: the closest call's word says so", _R8 + "pu_close_word", "==", "still below"),
        ("08: only the cheapest full-regime cells ran (none at 224 px)", _R8 + "fr_full_n_224", "==", 0),
        ("08: frozen MobileNetV2, bacterial vs viral does not detectably lose more", _R8 + "fr_verdict_mobilenetv2_frozen", "==", "does not detectably lose more"),
        ("08: frozen MobileNetV2 ratio difference not detectable", _R8 + "fr_d_p_mobilenetv2_frozen", ">=", ALPHA),
        ("08: both findings ran fully fine-tuned at 64 and 128 px", _R8 + "fr_d128_seeds_full", ">=", 1),
        ("08: full 64/128 px, the subtler finding loses less", _R8 + "fr_d128_verdict_full", "==", "loses less"),
        ("08: full 64/128 px, bacterial vs viral keeps more", _R8 + "fr_r128_bacterial_vs_viral_full", ">", _R8 + "fr_r128_pneumonia_full"),
        ("08: full 64/128 px difference detectable", _R8 + "fr_d128_p_full", "<", ALPHA),
        ("08: frozen 64/128 px, no detectable difference", _R8 + "fr_d128_verdict_frozen", "==", "does not detectably lose more or less"),
        ("08: frozen 64/128 px difference not detectable", _R8 + "fr_d128_p_frozen", ">=", ALPHA),
        ("08: the full regime is incomplete", _R8 + "fr_todo_full", ">", 0),
        ("08: MobileNetV2 trains slower at the larger size", _R8 + "fr_cost_large_ips", "<", _R8 + "fr_cost_small_ips"),
        ("08: one like-for-like skin/chest pair", _R8 + "sc_n_like", "==", 1),
        ("08: its skin AUC near chance at 64 px", _R8 + "sc_like_skin_auc_low", "<", 0.6),
        ("08: its skin AUC near chance at 224 px", _R8 + "sc_like_skin_auc_high", "<", 0.6),
        ("08: the frozen MobileNet pair differs", _R8 + "sc_mob_frozen_p", "<", ALPHA),
        ("08: the fine-tuned MobileNet pair does not", _R8 + "sc_mob_full_p", ">=", ALPHA),
        ("08 found: not every planned run has a record", _R8 + "fr_grid_n_ok", "<", _R8 + "fr_grid_n_planned"),
        ("08 found: every missing run is fully fine-tuned", _R8 + "fr_todo_full", "==", _R8 + "fr_grid_n_todo"),
    ],
    "discussion_xray": [
        ("xray: validation accuracy reproduces Kilaru's 91.2 %", _K7 + "k_val_acc", ">=", 91.2),
        ("xray: validation AUC reproduces Kilaru's 0.947", _K7 + "k_val_auc", ">=", 0.947),
        ("xray: model below the paper's 14 MB", _K7 + "k_size_mb", "<", 14),
        ("xray: '60 % faster' conservative against ResNet50", _K7 + "k_faster_resnet", ">=", 60),
        ("xray: '60 % faster' conservative against DenseNet121", _K7 + "k_faster_densenet", ">=", 60),
        ("xray: full fine-tuning has run at the smaller sizes only", _R8 + "fr_full_n_224", "==", 0),
        ("xray: frozen, the subtler finding does not detectably lose more", _R8 + "fr_verdict_mobilenetv2_frozen", "==", "does not detectably lose more"),
        ("xray: frozen ratio difference not detectable", _R8 + "fr_d_p_mobilenetv2_frozen", ">=", ALPHA),
        ("xray: full 64/128 px, the subtler finding loses less", _R8 + "fr_d128_verdict_full", "==", "loses less"),
        ("xray: full 64/128 px, bacterial vs viral keeps more", _R8 + "fr_r128_bacterial_vs_viral_full", ">", _R8 + "fr_r128_pneumonia_full"),
        ("xray: full 64/128 px difference detectable", _R8 + "fr_d128_p_full", "<", ALPHA),
        ("xray: frozen MobileNets, melanoma keeps less (negative z)", _R8 + "sc_mob_frozen_z", "<", 0),
        ("xray: frozen MobileNets differ", _R8 + "sc_mob_frozen_p", "<", ALPHA),
        ("xray: fine-tuned MobileNets do not differ", _R8 + "sc_mob_full_p", ">=", ALPHA),
        ("xray: the like-for-like pair's skin AUC near chance", _R8 + "sc_like_skin_auc_high", "<", 0.6),
        ("xray: Part I, full fine-tuning lifts skin at 64 px", _R4 + "or_regime_mobilenet_unit_64_p_adj", "<", ALPHA),
        ("xray: Part I, full 64 px seed-mean AUC above frozen", _R4 + "or_regime_mobilenet_unit_64_auc_b", ">", _R4 + "or_regime_mobilenet_unit_64_auc_a"),
        *[(f"xray: frozen early-layer lung share below uniform at {px} px", f"{_K7}gc_early_lung_{px}", "<", _K7 + "gc_lung_area")
          for px in (224, 32)],
        ("xray: frozen early-layer corner share above uniform at 224 px", _K7 + "gc_early_corner_224", ">", _K7 + "gc_corner_area"),
        ("xray: fine-tuning moves mass towards the lungs", _K7 + "gc_ft_lung", ">", _K7 + "gc_last_lung_224"),
        ("xray: fine-tuning moves no mass out of the corners", _K7 + "gc_ft_corner", ">=", _K7 + "gc_last_corner_224"),
        ("xray: seeds spread wider than the lung gain (lowest seed below frozen)", _K7 + "gc_ft_lung_min", "<", _K7 + "gc_last_lung_224"),
        ("xray: the Kilaru protocol is complete for three seeds", _K7 + "k_n_seeds", "==", 3),
        ("xray: the Kilaru numbers are the paper's protocol", _K7 + "k_regime", "==", "paper's protocol (top 30 layers)"),
    ],
    "11_beyond_auc": [
        # accuracy density mostly measures size
        ("11 found: MobileNet has the higher accuracy density", _B11 + "mobilenet_density", ">", _B11 + "resnet50_density"),
        ("11 found: MobileNet is the smaller model", _B11 + "mobilenet_size_mb", "<", _B11 + "resnet50_size_mb"),
        # the 0.5 threshold and calibration
        ("11 found: sensitivity at 0.5 below half", _B11 + "op_full_mobilenet_unit_128_sens_05", "<", 0.5),
        ("11 found: Youden sensitivity higher", _B11 + "op_full_mobilenet_unit_128_sens_youden", ">", _B11 + "op_full_mobilenet_unit_128_sens_05"),
        ("11 found: at the cost of specificity", _B11 + "op_full_mobilenet_unit_128_spec_youden", "<", _B11 + "op_full_mobilenet_unit_128_spec_05"),
        ("11 found: fine-tuned ECE above frozen best", _B11 + "cal_full_mobilenet_unit_128_ece", ">", _B11 + "cal_frozen_mobilenet_unit_256_ece"),
        ("11 found: temperature > 1 (over-confident)", _B11 + "cal_full_mobilenet_unit_128_temperature", ">", 1),
        ("11 found: temperature scaling lowers ECE", _B11 + "cal_full_mobilenet_unit_128_ece_ts", "<", _B11 + "cal_full_mobilenet_unit_128_ece"),
        # fit
        ("11 found: fine-tuned MobileNet 64 px fits its training set", _B11 + "fit_full_mobilenet_unit_64_train_acc_last", ">", 0.95),
        ("11 found: its validation loss climbs after its minimum", _B11 + "fit_full_mobilenet_unit_64_val_loss_last", ">", _B11 + "fit_full_mobilenet_unit_64_val_loss_min"),
        ("11 found: ResNet50 64 px: not all seeds past the majority share", _B11 + "fit_full_resnet50_unit_64_n_beyond", "<", _B11 + "fit_full_resnet50_unit_64_n_seeds"),
    ],
    "discussion": [
        # the threshold, calibration and fit claims it makes from the companion results chapter
        ("frozen ResNet50 [0,1] never calls a lesion malignant at 0.5", _B11 + "op_frozen_resnet50_unit_128_sens_05", "==", 0.0),
        ("full ResNet50 [0,1] 64 px: low sensitivity at 0.5", _B11 + "op_full_resnet50_unit_64_sens_05", "<", 0.1),
        ("full ResNet50 [0,1] 64 px: Youden sensitivity far higher", _B11 + "op_full_resnet50_unit_64_sens_youden", ">", 0.5),
        ("full MobileNet [0,1] 128 px: sensitivity at 0.5 below 50 %", _B11 + "op_full_mobilenet_unit_128_sens_05", "<", 0.5),
        ("full MobileNet [0,1] 128 px: Youden (val) sensitivity above 0.5's", _B11 + "op_full_mobilenet_unit_128_sens_youden", ">", _B11 + "op_full_mobilenet_unit_128_sens_05"),
        # Calibration: full fine-tuning is over-confident, temperature scaling repairs it
        ("full MobileNet [0,1] 128 px: ECE above frozen at its best size", _B11 + "cal_full_mobilenet_unit_128_ece", ">", _B11 + "cal_frozen_mobilenet_unit_256_ece"),
        ("full MobileNet [0,1] 128 px: temperature > 1 (over-confident)", _B11 + "cal_full_mobilenet_unit_128_temperature", ">", 1.5),
        ("full MobileNet [0,1] 128 px: temperature scaling lowers ECE", _B11 + "cal_full_mobilenet_unit_128_ece_ts", "<", _B11 + "cal_full_mobilenet_unit_128_ece"),
        # Fit: MobileNet memorises at 64 px; ResNet50 often does not pass the constant answer
        ("full MobileNet [0,1] 64 px fits its training set", _B11 + "fit_full_mobilenet_unit_64_train_acc_last", ">", 0.95),
        ("full ResNet50 [0,1] 64 px: not all seeds beyond majority", _B11 + "fit_full_resnet50_unit_64_n_beyond", "<", _B11 + "fit_full_resnet50_unit_64_n_seeds"),
        ("full ResNet50 native 64 px: not all seeds beyond majority", _B11 + "fit_full_resnet50_native_64_n_beyond", "<", _B11 + "fit_full_resnet50_native_64_n_seeds"),
        ("full MobileNet native 64 px fits its training set", _B11 + "fit_full_mobilenet_native_64_train_acc_last", ">", 0.95),
        ("full MobileNet [0,1] 64 px: validation loss climbs after its minimum", _B11 + "fit_full_mobilenet_unit_64_val_loss_last", ">", _B11 + "fit_full_mobilenet_unit_64_val_loss_min"),
        # "in bf16 none of the 64 px runs gets past the majority share while some float32 runs do"
        *[(f"full ResNet50 {prep} 64 px bf16: no run beyond majority", f"{_B11}fit_full_resnet50_{prep}_bf16_64_n_beyond", "==", 0)
          for prep in ("unit", "native")],
        ("full ResNet50 [0,1] 64 px float32: some run beyond majority", _B11 + "fit_full_resnet50_unit_64_n_beyond", ">", 0),
        *[(f"discussion: bf16 parity holds for ResNet50 64 px {prep}", f"{_P5}par_resnet50_64_{prep}_verdict", "==", "holds")
          for prep in ("unit", "native")],
        ("discussion: with the GPU draws, parity for ResNet50 [0,1] does not hold", _P5 + "twindraw_resnet50_64_unit_verdict", "==", "does not hold"),
    ],
    "10_or_hillis_size": [
        ("size: at 5 seeds the published test is within 0.04-0.06 (low end)", _S10 + "size_hillis_5_min", ">=", 0.04),
        ("size: at 5 seeds the published test is within 0.04-0.06 (high end)", _S10 + "size_hillis_5_max", "<=", 0.06),
        ("size: at 3 seeds the published test is liberal somewhere", _S10 + "size_hillis_3_max", ">", 0.06),
        ("size: at 3 seeds the published test is not conservative", _S10 + "size_hillis_3_min", ">=", 0.04),
        ("size: 2 seeds are worse than 3", _S10 + "size_hillis_2_max", ">", _S10 + "size_hillis_3_max"),
        ("size: the floor lowers the worst case at 3 seeds", _S10 + "size_constrained_3_max", "<", _S10 + "size_hillis_3_max"),
        ("size: the floor is conservative somewhere at 3 seeds", _S10 + "size_constrained_3_min", "<", 0.04),
        ("size: the floor would change some verdict", _S10 + "size_n_changed", ">", 0),
        ("size found: the floor leaves the 3-seed worst case liberal", _S10 + "size_constrained_3_max", ">", 0.06),
        ("size: the generalized p-value is never above 0.05 at 3 seeds", _S10 + "size_generalized_3_max", "<=", 0.05),
        ("size: the generalized p-value is conservative where the published test is liberal", _S10 + "size_generalized_3_max", "<", _S10 + "size_hillis_3_max"),
        ("size found: some verdicts are not robust", _S10 + "size_n_changed_generalized", ">", 0),
        ("size found: most found differences are robust", _S10 + "size_n_robust", ">", _S10 + "size_n_not_robust"),
        ("size found: some found differences are not robust", _S10 + "size_n_not_robust", ">", 0),
        ("size: at 5 seeds the generalized p-value is near 0.05", _S10 + "size_generalized_5_max", "<=", 0.055),
        ("size: at 2 seeds the generalized p-value is very conservative", _S10 + "size_generalized_2_max", "<", 0.045),
        ("size found: the floor moves one comparison", _S10 + "size_n_changed", "==", 1),
    ],
}  # fmt: skip
