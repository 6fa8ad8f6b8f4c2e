#!/usr/bin/env bash
# The GPU path end to end on this CPU, before a GPU is asked for (issue 23, item 4):
# prepare -> pack-inputs -> unpack-inputs -> run --pack (Keras on JAX) -> bench -> collect,
# on configs/device-dryrun.yaml (2 runs, 1 epoch), in a temporary folder.
#
#   RESBOOK_DATA_DIR=... RESBOOK_WEIGHTS_DIR=... bash scripts/device_dryrun.sh [WORK_DIR]
#
# The checkout must be clean (prepare refuses otherwise: the records name a commit), unless
# ALLOW_DIRTY=1 (the test does that; its records then name no commit).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RESBOOK_DATA_DIR:?set RESBOOK_DATA_DIR (the data root)}"
: "${RESBOOK_WEIGHTS_DIR:?set RESBOOK_WEIGHTS_DIR (local ImageNet weights)}"
PY=${PYTHON:-.venv/bin/python}
W=${1:-$(mktemp -d)}
mkdir -p "$W"
DS="$PY scripts/device_sweep.py"
ext=(--external-root "$RESBOOK_DATA_DIR/ph2/images" --external-masks "$RESBOOK_DATA_DIR/ph2/masks")
dirty=(); [ "${ALLOW_DIRTY:-0}" = 1 ] && dirty=(--allow-dirty)
$DS prepare configs/device-dryrun.yaml --code-only --to "$W/job" --output-dir "$W/none" \
    --data-root "$RESBOOK_DATA_DIR" "${ext[@]}" "${dirty[@]}"
# small parts and a small per-call budget (the unslim checkout takes 56 of its 90 MiB), so the
# dry run deals its inputs into several carry folders, as a GPU session does
$DS pack-inputs "$W/job" --to "$W/carry" --data-root "$RESBOOK_DATA_DIR" \
    --weights-dir "$RESBOOK_WEIGHTS_DIR" "${ext[@]}" --call-mib 90 --part-mib 8
# "there": only the carried folders and the checkout
PYTHONPATH=scripts/gpu_machine_imports $DS unpack-inputs "$W"/carry/c* --to "$W/inputs"
# as there: Keras on JAX, and none of what the GPU machine lacks (TensorFlow, papermill, Jupyter)
PYTHONPATH=scripts/gpu_machine_imports KERAS_BACKEND=jax JAX_PLATFORMS=cpu \
    $DS run "$W/job" --output-dir "$W/out" \
    --data-root "$W/inputs/data" --weights-dir "$W/inputs/weights" --cache-dir "$W/cache" \
    --external-root "$W/inputs/external/images" --external-masks "$W/inputs/external/masks" \
    --workers 1 --pack 2 --monitor --archive "$W/records.tar.gz"
# "here" again
$DS bench "$W/records.tar.gz" --label "dry run on the CPU" --include-cpu --out "$W/bench.json"
$DS collect "$W/records.tar.gz" "$W/job" --into "$W/collected"
ls "$W/collected/records"
echo "dry run done in $W"
