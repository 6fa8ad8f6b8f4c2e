"""Fixtures shared by several test files; helpers that are not fixtures live in *_fixtures.py."""

from __future__ import annotations

import pytest

# plain asserts in the shared training helpers report their values, as in a test module
pytest.register_assert_rewrite("train_fixtures")


@pytest.fixture
def folder_env(tmp_path, monkeypatch):
    """A fresh ``RESBOOK_CACHE_DIR`` under tmp_path and no ``RESBOOK_DATA_DIR`` (data chapter).

    For the folder data set tests: every image comes from the test's own folder, and no cache
    of another test or of the real data is read.
    """
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RESBOOK_DATA_DIR", raising=False)


# --------------------------------------------------------------------------------------------
# `make test-fast`: the inner loop. A test is "heavy" when it builds a Keras model, starts a
# kernel, papermill, a subprocess or a worker pool, or otherwise takes 0.5 s or more (measured
# with `pytest --durations=0`); `make test-fast` runs `-m "not heavy and not slow and not
# browser"` in under a minute, `make test` runs everything. A new test that is heavy belongs
# here (or gets `@pytest.mark.heavy`); a listed test that no longer exists fails the run below.
# --------------------------------------------------------------------------------------------

HEAVY: dict[str, set[str]] = {
    "test_chapter_failures.py": {
        "test_a_chapter_run_killed_midway_leaves_the_committed_file",
        "test_a_chapter_that_finishes_is_written_normalised",
        "test_a_chapter_that_raises_leaves_the_committed_file_and_keeps_its_notebook",
        "test_a_failed_own_folder_chapter_keeps_the_previous_one",
        "test_a_sweep_run_killed_midway_leaves_its_last_notebook",
        "test_a_sweep_run_puts_its_notebook_in_place_when_it_ends",
        "test_the_notebooks_command_exits_nonzero_when_a_chapter_fails",
    },
    "test_device_dryrun.py": {
        "test_the_gpu_path_runs_end_to_end_on_the_cpu",
    },
    "test_costs.py": {
        "test_macs_scale_with_resolution_squared",
        "test_params_formula_equals_keras_every_layer",
        "test_profiler_matches_formulas_mobilenet",
        "test_report_adam_state_sizes",
        "test_report_profiler_check",
        "test_report_sizes_and_quoted_counts",
    },
    "test_data_download.py": {
        "test_fetch_good_and_bad_checksum",
    },
    "test_data_params.py": {
        "test_notebook_runs_on_a_user_folder",
    },
    "test_deploy.py": {
        "test_float32_export_matches_keras",
        "test_int8_export_takes_uint8_pixels_and_correlates",
        "test_latency_only_mode_rewrites_records_in_place",
        "test_logit_model_keeps_the_ranking_and_int8_logit_outputs_probabilities",
        "test_rebuild_build_model_copies_weights",
        "test_to_litert_rejects_bad_format_and_int8_without_data",
    },
    "test_deploy_kept.py": {
        "test_a_bf16_model_exports_through_its_float32_twin",
        "test_a_kept_run_scored_on_other_test_images_is_a_named_skip",
    },
    "test_external.py": {
        "test_run_scores_external_and_results_table",
    },
    "test_external_site.py": {
        "test_external_site_chapter_runs_on_synthetic_records_and_on_none",
    },
    "test_gradcam.py": {
        "test_gradcam_on_a_build_model_network",
    },
    "test_issue28_ownfolder.py": {
        "test_row01_results_chapter_runs_on_one_model",
        "test_row20_papermill_typo_stops_the_chapter",
    },
    "test_issue28_sweep.py": {
        "test_row15_a_run_that_kills_every_worker_fails_alone",
        "test_row15_killed_pool_worker_is_retried_and_the_other_run_kept",
        "test_ux_kernel_stderr_noise_is_filtered_and_logged",
    },
    "test_kept_model.py": {
        "test_a_kept_book_model_loads_in_a_fresh_process",
    },
    "test_layers.py": {
        "test_every_layer_imports_only_the_layers_below_it",
        "test_no_module_imports_another_packages_private_name",
    },
    "test_models.py": {
        "test_build_random_init",
        "test_regimes_and_blocks",
        "test_saved_model_roundtrip_keeps_preprocessing",
    },
    "test_mrmc.py": {
        "test_or_hillis_size_under_null",
    },
    "test_results.py": {
        "test_load_runs_counts_and_flattens",
        "test_plots_return_labelled_figures",
        "test_results_notebook_end_to_end_on_synthetic_records",
    },
    "test_robust.py": {
        "test_notebook_run_by_plain_papermill_stops_at_a_typo",
        "test_sweep_outputs_get_new_file_permissions",
    },
    "test_sweep.py": {
        "test_dask_local_matches_process_pool_and_resumes",
        "test_lost_worker_is_retried_once_and_detached_files_written_here",
        "test_save_models_reaches_the_runs_without_changing_their_identity",
        "test_sweep_runs_records_failures_and_resumes",
    },
    "test_sweep_inputs.py": {
        "test_external_set_needs_its_folder_and_is_checked_on_resume",
        "test_other_data_root_is_rerun_not_skipped",
        "test_other_weights_file_is_rerun",
    },
    "test_xray_features.py": {
        "test_seeded_splits_share_features_and_keep_split_order",
    },
    "test_xray_gradcam_kept.py": {
        "test_kept_runs_maps_kept_models_and_names_the_others",
    },
}


def pytest_collection_modifyitems(config, items):
    found: set[tuple[str, str]] = set()
    for item in items:
        if item.originalname in HEAVY.get(item.path.name, ()):
            item.add_marker(pytest.mark.heavy)
            found.add((item.path.name, item.originalname))
    # a listed test that was renamed or removed (checked when whole files were collected)
    if config.getoption("keyword") or any("::" in str(a) for a in config.args):
        return
    collected = {item.path.name for item in items}
    stale = [f"{f}::{t}" for f, names in HEAVY.items() if f in collected for t in names
             if (f, t) not in found]
    if stale:
        raise pytest.UsageError(f"tests/conftest.py HEAVY lists tests that do not exist: {stale}")
