"""Issue 29: how an image of any shape becomes N x N (``geometry``, ``resample``) and the
external set scored in every geometry (``predictions.external_geometry``).

Pure functions on small synthetic non-square pictures (a 40x30 image with a red left band, a
blue right band and a green centre), the caches (decoded arrays, frozen-base features) that
must never hand a run images made another way, the run parameters and ids (every committed
id unchanged), ``add_external`` with a stand-in model (no Keras), the sweep's
``--external-masks`` and the own-folder options. No training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from data_fixtures import make_folder, random_image
from PIL import Image
from test_issue28_ownfolder import WorkStarted, fake_root, no_work  # noqa: F401 - fixtures
from test_issue28_sweep import _config
from test_sweep_inputs import NB as FOLDER_NB

from helpers.runs import records as R

REPO = Path(__file__).resolve().parents[1]
RED, BLUE, GREEN, BLACK = (255, 0, 0), (0, 0, 255), (0, 255, 0), (0, 0, 0)


def banded(w: int = 40, h: int = 30, band: int = 5) -> Image.Image:
    """Grey w x h picture: red left band, blue right band, a green 4x4 mark at the centre."""
    a = np.full((h, w, 3), 128, np.uint8)
    a[:, :band], a[:, w - band:] = RED, BLUE
    a[h // 2 - 2:h // 2 + 2, w // 2 - 2:w // 2 + 2] = GREEN
    return Image.fromarray(a)


def colours(arr: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(int(v) for v in c) for c in np.asarray(arr).reshape(-1, 3)}


# ----------------------------------------------------------------------- the geometries


def test_squash_keeps_both_bands_and_the_default_is_unchanged() -> None:
    from helpers.data.resize import to_square

    img = banded()
    out = np.asarray(to_square(img, 20, "squash", "nearest"))
    assert tuple(out[10, 0]) == RED and tuple(out[10, 19]) == BLUE
    assert tuple(out[10, 10]) == GREEN
    # the defaults are Pillow's bilinear resize of the whole image, as before issue 29
    np.testing.assert_array_equal(np.asarray(to_square(img, 20)),
                                  np.asarray(img.resize((20, 20), Image.BILINEAR)))


@pytest.mark.parametrize("resample", ["bilinear", "area", "bilinear_plain", "nearest"])
def test_crop_removes_the_side_bands(resample: str) -> None:
    from helpers.data.resize import to_square

    out = np.asarray(to_square(banded(), 15, "crop", resample))
    assert out.shape == (15, 15, 3)
    assert not (out[..., 0] > 200).any() and not (out[..., 2] > 200).any()  # no red, no blue
    assert tuple(out[7, 7]) == GREEN  # the centre kept
    assert np.asarray(to_square(banded(), 30, "crop")).tolist() == np.asarray(
        banded())[:, 5:35].tolist()  # the largest centred square, not resampled at its size


def test_pad_adds_black_bars_top_and_bottom() -> None:
    from helpers.data.resize import to_square

    out = np.asarray(to_square(banded(), 40, "pad"))  # 40x30 -> 40x40: no resampling
    assert colours(out[:5]) == {BLACK} and colours(out[35:]) == {BLACK}
    np.testing.assert_array_equal(out[5:35], np.asarray(banded()))
    small = np.asarray(to_square(banded(), 20, "pad", "nearest"))
    assert colours(small[:2]) == {BLACK} and colours(small[18:]) == {BLACK}
    assert tuple(small[10, 0]) == RED and tuple(small[10, 19]) == BLUE
    tall = np.asarray(to_square(banded().transpose(Image.Transpose.ROTATE_90), 40, "pad"))
    assert colours(tall[:, :5]) == {BLACK} and colours(tall[:, 35:]) == {BLACK}  # side bars
    odd = np.asarray(to_square(banded(40, 31), 40, "pad"))  # 9 rows: 4 above, 5 below
    assert colours(odd[:4]) == {BLACK} and colours(odd[35:]) == {BLACK}
    np.testing.assert_array_equal(odd[4:35], np.asarray(banded(40, 31)))
    odd_crop = np.asarray(to_square(banded(41, 30), 30, "crop"))  # 11 columns: 5 left, 6 right
    np.testing.assert_array_equal(odd_crop, np.asarray(banded(41, 30))[:, 5:35])


def test_lesion_box_crops_to_the_mask_with_the_margin_and_pads_outside() -> None:
    from helpers.data.resize import lesion_box, to_square

    mask = np.zeros((30, 40), np.uint8)
    mask[10:20, 12:28] = 255  # 16 wide, 10 high: side 16 * 1.2 = 19.2 -> 19, centre (20, 15)
    assert lesion_box(mask) == (11, 6, 19)  # 10 % of 16 on every side, squared around the centre
    img = banded()
    out = np.asarray(to_square(img, 19, "lesion_box", "nearest", lesion_box(mask)))
    np.testing.assert_array_equal(out, np.asarray(img)[6:25, 11:30])
    edge = np.zeros((30, 40), np.uint8)
    edge[0:10, 30:40] = 1  # a 0/1 mask in the top right corner: the box leaves the image
    left, top, side = lesion_box(edge)
    assert (left, top, side) == (29, -1, 12)
    out = np.asarray(to_square(img, 12, "lesion_box", "nearest", (left, top, side)))
    assert colours(out[0]) == {BLACK} and colours(out[:, 11]) == {BLACK}  # padded black
    assert tuple(out[5, 8]) == BLUE  # inside: the blue band
    with pytest.raises(ValueError, match="empty lesion mask"):
        lesion_box(np.zeros((30, 40), np.uint8))
    with pytest.raises(ValueError, match="needs the lesion's box"):
        to_square(img, 12, "lesion_box")


def test_prepare_refuses_a_mask_of_another_size() -> None:
    from helpers.data.images import prepare

    with pytest.raises(ValueError, match="a 30x40 mask for a 40x30 image"):
        prepare(banded(), 16, "lesion_box", mask=np.ones((40, 30), np.uint8))


# ----------------------------------------------------------------------- the resampling


def test_bilinear_plain_aliases_where_antialiased_bilinear_averages() -> None:
    from helpers.data.resize import to_square

    y, x = np.mgrid[:64, :64]
    board = (((x // 3) + (y // 3)) % 2 * 255).astype(np.uint8)  # 3-px checkerboard
    img = Image.fromarray(np.stack([board] * 3, -1))
    smooth = np.asarray(to_square(img, 8, "squash", "bilinear"), dtype=int)
    plain = np.asarray(to_square(img, 8, "squash", "bilinear_plain"), dtype=int)
    assert np.ptp(smooth) <= 10  # antialiased: every pixel about mid-grey
    assert plain.min() == 0 and plain.max() == 255  # 4 source pixels: aliased black and white
    # target pixel i samples at (i + 0.5) * 8 - 0.5: 3.5 for i = 0, between pixels 3 and 4,
    # both in square 1 on both axes ((1 + 1) % 2: black); 11.5 for i = 1, between pixels 11
    # (square 3) and 12 (square 4): half black, half white across x
    assert plain[0, 0].tolist() == [0, 0, 0] and plain[0, 1].tolist() == [128, 128, 128]


def test_nearest_keeps_only_source_colours_and_area_averages_blocks() -> None:
    from helpers.data.resize import to_square

    rng = np.random.default_rng(0)
    palette = np.array([RED, BLUE, GREEN, (250, 250, 250)], np.uint8)
    img = Image.fromarray(palette[rng.integers(0, 4, (30, 40))])
    assert colours(np.asarray(to_square(img, 13, "squash", "nearest"))) <= set(map(tuple,
                                                                                palette.tolist()))
    assert not colours(np.asarray(to_square(img, 13, "squash", "bilinear"))) <= set(
        map(tuple, palette.tolist()))
    block = np.zeros((4, 4, 3), np.uint8)
    block[:2, :2], block[2:, 2:] = 200, 100
    area = np.asarray(to_square(Image.fromarray(block), 2, "squash", "area"))
    assert area[..., 0].tolist() == [[200, 0], [0, 100]]  # each 2x2 block's mean


def test_unknown_names_are_refused() -> None:
    from helpers.data.resize import to_square
    from helpers.training import validate_params

    with pytest.raises(ValueError, match="geometry='diamond'"):
        to_square(banded(), 8, "diamond")
    with pytest.raises(ValueError, match=r"resample='bicubic' is invalid: expected one of "
                                         r"\['bilinear', 'area', 'bilinear_plain', 'nearest'\]"):
        validate_params({"resample": "bicubic"})
    with pytest.raises(ValueError, match="'lesion_box' is scored for the external set"):
        validate_params({"geometry": "lesion_box"})


# ----------------------------------------------------------------------- run params and ids


def test_defaults_leave_the_identity_and_ids_unchanged() -> None:
    from helpers.training import validate_params

    base = dict(dataset="isic2017", task="melanoma", model="mobilenet", resolution=64,
                regime="frozen", preprocessing="native", seed=0)
    plain = validate_params(base).identity()
    assert "geometry" not in plain and "resample" not in plain
    assert R.run_id({**base, "geometry": "squash", "resample": "bilinear"}) == R.run_id(base)
    area = R.run_id(validate_params({**base, "resample": "area", "external": "ph2",
                                     "external_masks": "/m", "external_root": "/x"}).identity())
    assert area.startswith("isic2017-melanoma-mobilenet-64-frozen-native-area-ext_ph2-s0-")
    crop = R.run_id({**base, "geometry": "crop", "resample": "nearest"})
    assert "-native-crop-nearest-s0-" in crop
    assert len({R.run_id(base), area, crop, R.run_id({**base, "geometry": "pad"})}) == 4
    assert "external_masks" in R.LOCATION_KEYS  # a location: never in the identity


def test_every_committed_run_id_recomputes_from_its_params() -> None:
    committed = sorted(REPO.glob("results/*/records/*.json"))
    assert committed, "no committed records to compare"
    for path in committed:
        rec = R.read_json(path)
        if isinstance(rec, dict) and "params" in rec and "run_id" in rec:
            assert R.run_id(rec["params"]) == rec["run_id"], path.name


# ----------------------------------------------------------------------- the caches


def wide_folder(root: Path, classes: dict[str, int], seed0: int = 0, ext: str = "png") -> Path:
    """root/<class>/<name>.png: distinct 60x40 pictures (lossless), not square."""
    seed = seed0
    for cls, n in classes.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for k in range(n):
            img = random_image(seed, 60).crop((0, 10, 60, 50))
            img.save(root / cls / f"{cls.lower()}{k:03d}.{ext}")
            seed += 1
    return root


def _direct(root: Path, ids: np.ndarray, res: int, geometry: str, resample: str) -> np.ndarray:
    from helpers.data.images import decode_file

    return np.stack([decode_file(next(root.glob(f"{i}.*")), res, geometry, resample)
                     for i in ids])


@pytest.mark.parametrize("other", [("crop", "bilinear"), ("squash", "area"), ("pad", "nearest")])
def test_load_dataset_never_reuses_arrays_made_another_way(tmp_path, folder_env, other) -> None:
    from helpers.data import load_dataset

    root = wide_folder(tmp_path / "photos", {"a": 8, "b": 8})

    def load(geometry: str = "squash", resample: str = "bilinear"):
        return load_dataset("folder", task="b", resolution=16, data_root=root,
                            geometry=geometry, resample=resample)

    first = load()
    assert first.report.cache["arrays"] == "miss" and first.report.resize == {
        "geometry": "squash", "resample": "bilinear"}
    made = load(*other)
    assert made.report.cache["arrays"] == "miss"  # not the default arrays
    assert made.report.resize == {"geometry": other[0], "resample": other[1]}
    assert any(f"geometry {other[0]!r} and resample {other[1]!r}" in n for n in made.report.notes)
    test = made.splits["test"]
    np.testing.assert_array_equal(test.images, _direct(root, test.ids, 16, *other))
    assert not np.array_equal(test.images, first.splits["test"].images)
    assert made.fingerprint == first.fingerprint  # over the files, whatever the geometry
    assert load(*other).report.cache["arrays"] == "hit"
    again = load()  # and the default again: its own arrays, not the other ones
    assert again.report.cache["arrays"] == "hit"
    np.testing.assert_array_equal(again.splits["test"].images,
                                  _direct(root, again.splits["test"].ids, 16, "squash", "bilinear"))


def test_load_external_never_reuses_arrays_made_another_way(tmp_path, folder_env) -> None:
    from helpers.data import load_external

    ext = wide_folder(tmp_path / "hosp", {"benign": 3, "melanoma": 3}, seed0=300)
    runs = [("crop", "bilinear"), ("squash", "bilinear"), ("pad", "area"), ("crop", "bilinear"),
            ("squash", "bilinear")]
    fps = set()
    for geometry, resample in runs:  # each after another one: a cache must not answer it
        split, _, fp = load_external(ext, "melanoma", 16, geometry=geometry, resample=resample)
        fps.add(fp)
        np.testing.assert_array_equal(split.images,
                                      _direct(ext, split.ids, 16, geometry, resample))
    assert len(fps) == 1  # the fingerprint is over the files


def test_feature_cache_key_names_geometry_and_resample(tmp_path) -> None:
    import hashlib

    from helpers.training.features import feature_cache_path

    kw = dict(dataset="isic2017", model="mobilenet", resolution=64, preprocessing="native",
              weights_id="abc", digest="d" * 32, cache_dir=tmp_path)
    default = feature_cache_path(**kw)
    key = hashlib.sha256(b"isic2017|mobilenet|64|native|abc|" + b"d" * 32).hexdigest()[:16]
    assert default.name == f"isic2017-mobilenet-64-native-{key}.npz"  # the existing caches
    assert feature_cache_path(**kw, geometry="squash", resample="bilinear") == default
    others = {feature_cache_path(**kw, geometry=g, resample=r)
              for g, r in (("crop", "bilinear"), ("pad", "bilinear"), ("squash", "area"),
                           ("squash", "bilinear_plain"), ("crop", "nearest"))}
    assert len(others) == 5 and default not in others
    assert "-crop-nearest-" in feature_cache_path(**kw, geometry="crop", resample="nearest").name


def test_a_run_refuses_a_dataset_made_another_way(tmp_path, folder_env) -> None:
    from helpers.data import load_dataset
    from helpers.training import validate_params
    from helpers.training.run import load_data

    root = wide_folder(tmp_path / "photos", {"a": 8, "b": 8})
    ds = load_dataset("folder", task="b", resolution=16, data_root=root)
    p = validate_params(dict(dataset="folder", task="b", resolution=32, geometry="crop"))
    p.resolution = 16  # below the models' minimum: only load_data is called
    with pytest.raises(ValueError, match="geometry='crop'"):
        load_data(p, ds)
    p.geometry = "squash"
    assert load_data(p, ds) is ds


# ----------------------------------------------------------------------- the external set


def ph2_like(tmp_path: Path, n: int = 3, *, masks: bool = True) -> tuple[Path, Path]:
    """An external folder (benign/, melanoma/; IMDnnn.png, 60x40) and masks/IMDnnn_lesion.png."""
    ext, mdir = tmp_path / "ph2" / "images", tmp_path / "ph2" / "masks"
    mdir.mkdir(parents=True)
    k = 0
    for cls in ("benign", "melanoma"):
        (ext / cls).mkdir(parents=True)
        for _ in range(n):
            img = np.asarray(random_image(500 + k, 60).crop((0, 10, 60, 50))).copy()
            img[:, :6], img[:, -6:] = RED, BLUE  # bands that crop removes
            Image.fromarray(img).save(ext / cls / f"IMD{k:03d}.png")
            if masks:
                m = np.zeros((40, 60), np.uint8)
                m[5 + k:20 + k, 15 + 2 * k:35 + 2 * k] = 255
                Image.fromarray(m).save(mdir / f"IMD{k:03d}_lesion.png")
            k += 1
    return ext, mdir


class MeanModel:
    """Stand-in classifier: P = mean pixel / 255 of each image (no Keras)."""

    def predict(self, x: np.ndarray, verbose: int = 0) -> np.ndarray:
        return np.asarray(x, np.float64).reshape(len(x), -1).mean(axis=1) / 255.0


def _external_record(monkeypatch, tmp_path: Path, **params: Any) -> dict[str, Any]:
    from helpers.training import external, validate_params

    monkeypatch.setattr(external, "array_batches", lambda x, y, batch_size: x)  # no Keras
    p = validate_params(dict(dataset="folder", task="melanoma", resolution=32, regime="frozen",
                             external="ph2", cache_dir=str(tmp_path / "cache"), **params))
    rec: dict[str, Any] = {"predictions": {}, "metrics": {}, "data": {}, "provenance": {},
                           "warnings": []}
    external.add_external(rec, p, MeanModel(), "melanoma")
    return rec


def test_add_external_scores_every_geometry_with_the_same_ids(tmp_path, monkeypatch) -> None:
    from helpers.data import external_masks

    ext, mdir = ph2_like(tmp_path)
    rec = _external_record(monkeypatch, tmp_path, external_root=str(ext),
                           external_masks=str(mdir), geometry="crop", resample="nearest")
    by = rec["predictions"]["external_geometry"]
    assert list(by) == ["squash", "crop", "pad", "lesion_box"]
    assert rec["data"]["external"]["geometries"] == list(by)
    assert rec["data"]["external"]["counts"] == [3, 3]
    ids = rec["predictions"]["external"]["ids"]
    assert ids[0] == "benign/IMD000" and len(ids) == 6
    assert all(g["ids"] == ids and g["labels"] == rec["predictions"]["external"]["labels"]
               for g in by.values())
    assert by["crop"] == rec["predictions"]["external"]  # the run's own geometry, scored once
    assert rec["metrics"]["external_geometry"]["crop"] == rec["metrics"]["external"]
    assert set(rec["metrics"]["external_geometry"]) == set(by)
    assert all(rec["metrics"]["external_geometry"][g]["n"] == 6 for g in by)
    probs = {g: tuple(v["probs"]) for g, v in by.items()}
    assert len(set(probs.values())) == 4  # four different pictures of each image
    assert rec["provenance"]["external_masks_fingerprint"] == external_masks(ext, mdir)[2]
    assert rec["warnings"] == []


def test_add_external_without_masks_scores_three_geometries(tmp_path, monkeypatch) -> None:
    ext, _ = ph2_like(tmp_path, masks=False)
    rec = _external_record(monkeypatch, tmp_path, external_root=str(ext))
    assert list(rec["predictions"]["external_geometry"]) == ["squash", "crop", "pad"]
    assert rec["predictions"]["external_geometry"]["squash"] == rec["predictions"]["external"]
    assert "external_masks_fingerprint" not in rec["provenance"] and rec["warnings"] == []


def test_an_image_without_a_mask_leaves_out_lesion_box_with_a_warning(tmp_path,
                                                                      monkeypatch) -> None:
    ext, mdir = ph2_like(tmp_path)
    (mdir / "IMD004_lesion.png").unlink()
    rec = _external_record(monkeypatch, tmp_path, external_root=str(ext),
                           external_masks=str(mdir))
    assert rec["data"]["external"]["geometries"] == ["squash", "crop", "pad"]
    assert rec["warnings"] == ["external geometry 'lesion_box' not scored: 1 of 6 external "
                               "images have no lesion mask in 'masks' (e.g. 'melanoma/IMD004')"]


def test_an_empty_mask_leaves_out_lesion_box_with_a_warning(tmp_path, monkeypatch) -> None:
    ext, mdir = ph2_like(tmp_path)
    Image.fromarray(np.zeros((40, 60), np.uint8)).save(mdir / "IMD001_lesion.png")
    rec = _external_record(monkeypatch, tmp_path, external_root=str(ext),
                           external_masks=str(mdir))
    assert "lesion_box" not in rec["predictions"]["external_geometry"]
    assert len(rec["warnings"]) == 1 and "'benign/IMD001'" in rec["warnings"][0]


def test_masks_are_matched_by_name_and_ambiguity_is_an_error(tmp_path) -> None:
    from helpers.data import DataError, external_masks

    ext, mdir = ph2_like(tmp_path, n=1)
    (mdir / "notes.txt").write_text("not a mask")
    found, missing, fp = external_masks(ext, mdir)
    assert {k: v.name for k, v in found.items()} == {"benign/IMD000.png": "IMD000_lesion.png",
                                                      "melanoma/IMD001.png": "IMD001_lesion.png"}
    assert missing == [] and len(fp) == 64
    Image.fromarray(np.ones((40, 60), np.uint8)).save(mdir / "IMD001_lesion.png")
    assert external_masks(ext, mdir)[2] != fp  # over the mask files' contents
    (mdir / "IMD0010_lesion.png").write_bytes((mdir / "IMD000_lesion.png").read_bytes())
    assert external_masks(ext, mdir)[0]["melanoma/IMD001.png"].name == "IMD001_lesion.png"
    (mdir / "IMD001.png").write_bytes((mdir / "IMD000_lesion.png").read_bytes())
    with pytest.raises(DataError, match="'melanoma/IMD001.png' matches 2 mask files"):
        external_masks(ext, mdir)
    with pytest.raises(DataError, match="lesion mask folder .*nomasks not found"):
        external_masks(ext, tmp_path / "nomasks")


# ----------------------------------------------------------------------- sweep and own folder


def test_sweep_checks_the_masks_folder_and_passes_it_to_the_runs(tmp_path, monkeypatch,
                                                                 capsys) -> None:
    from concurrent.futures import Future

    from helpers import sweep as S

    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    photos = make_folder(tmp_path / "photos", {"benign": 4, "melanoma": 4})
    ext, mdir = ph2_like(tmp_path)
    cfg = str(_config(tmp_path, [0], FOLDER_NB, fixed={"external": "ph2", "task": "melanoma"}))
    ok = ["--data-root", str(photos), "--external-root", str(ext), "--allow-dirty"]
    assert S.main([cfg, "--dry-run", *ok, "--external-masks", str(mdir)]) == 0
    assert "input problem" not in capsys.readouterr().out
    assert S.main([cfg, "--dry-run", *ok, "--external-masks", str(tmp_path / "nomasks")]) == 2
    assert "input problem: lesion masks of 'ph2': DataError: lesion mask folder" in (
        capsys.readouterr().out)
    (tmp_path / "empty").mkdir()
    assert S.main([cfg, "--dry-run", *ok, "--external-masks", str(tmp_path / "empty")]) == 2
    assert "no lesion mask in 'empty' matches an image of 'images'" in capsys.readouterr().out
    (mdir / "IMD002_lesion.png").unlink()
    assert S.main([cfg, "--dry-run", *ok, "--external-masks", str(mdir)]) == 0
    assert "note: 1 external image(s) have no lesion mask (e.g. 'benign/IMD002')" in (
        capsys.readouterr().out)

    seen: list[dict[str, Any]] = []

    class Record(S.SequentialExecutor):
        def submit(self, fn, spec):
            seen.append(spec)
            fut: Future = Future()
            fut.set_result({"run_id": spec["run_id"], "status": "ok", "wall_s": 0.0})
            return fut

    S.run_sweep(cfg, executor=Record(), data_root=photos, external_root=ext,
                external_masks=mdir, allow_dirty=True)
    where = Path(seen[0]["cwd"]) / seen[0]["locations"]["external_masks"]  # relative to it
    assert where.resolve() == mdir.resolve()
    with pytest.raises(S.SweepConfigError, match="--external-masks belongs to an external set"):
        S.run_sweep(str(_config(tmp_path, [0], FOLDER_NB)), executor=Record(),
                    data_root=photos, external_masks=mdir, allow_dirty=True)


def test_a_finished_run_is_redone_when_its_masks_change(tmp_path, monkeypatch) -> None:
    from helpers.data import external_fingerprint, external_masks
    from helpers.sweep.inputs import InputCheck

    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    ext, mdir = ph2_like(tmp_path)
    params = {"dataset": "folder", "task": "melanoma", "external": "ph2"}
    check = InputCheck(None, None, None, ext, mdir)
    prov = {"external_fingerprint": external_fingerprint(ext, "melanoma"),
            "external_masks_fingerprint": external_masks(ext, mdir)[2]}
    assert check._masks_changed(prov) is None
    assert "lesion masks changed" in check._masks_changed(
        {**prov, "external_masks_fingerprint": "0" * 64})
    assert "lesion masks given now" in check._masks_changed(
        {"external_fingerprint": prov["external_fingerprint"]})
    why = check.changed(params, {"provenance": {**prov, "external_masks_fingerprint": "1" * 64}})
    assert why is not None and why.endswith("re-running")


def test_own_folder_geometry_resample_and_masks_options(tmp_path, capsys, no_work,  # noqa: F811
                                                        fake_root) -> None:  # noqa: F811
    from helpers.build import ownfolder

    folder = make_folder(tmp_path / "photos", {"benign": 10, "melanoma": 10})
    ext, mdir = ph2_like(tmp_path)
    with pytest.raises(WorkStarted):
        ownfolder.main(["--folder", str(folder), "--positive", "melanoma", "--seeds", "0",
                        "--geometry", "crop", "--resample", "area", "--external", str(ext),
                        "--external-masks", str(mdir)])
    out = capsys.readouterr().out
    assert "geometry crop: the largest centred square of each photo; resample area" in out
    assert f"lesion masks of the external folder: {json.dumps(str(mdir))}" in out
    cfg = yaml.safe_load((fake_root / "results" / "own" / "photos" / "sweep.yaml").read_text())
    assert cfg["fixed"]["geometry"] == "crop" and cfg["fixed"]["resample"] == "area"
    code = ownfolder.main(["--folder", str(folder), "--positive", "melanoma",
                           "--external-masks", str(mdir)])
    assert code == 2 and "--external-masks needs --external" in capsys.readouterr().err
    code = ownfolder.main(["--folder", str(folder), "--positive", "melanoma", "--external",
                           str(ext), "--external-masks", str(tmp_path / "photos")])
    assert code == 2 and "has no mask for any image of \"images\"" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ownfolder.main(["--folder", str(folder), "--positive", "melanoma", "--geometry", "x"])


def test_a_mask_belongs_to_the_longest_image_stem_it_starts_with(tmp_path: Path) -> None:
    """IMD1.jpg and IMD1_b.jpg each with their own mask: no false 'two masks' refusal."""
    from helpers.data.external import find_masks
    from helpers.data.sources import Entry

    masks = tmp_path / "masks"
    masks.mkdir()
    for name in ("IMD1_lesion.png", "IMD1_b_lesion.png"):
        Image.new("L", (4, 4)).save(masks / name)
    entries = [Entry(id=f"mel/{s}", rel=f"mel/{s}.jpg", cls="mel", split=None, group=f"mel/{s}")
               for s in ("IMD1", "IMD1_b")]
    found = find_masks(entries, masks)
    assert {k: v.name for k, v in found.items()} == {"mel/IMD1.jpg": "IMD1_lesion.png",
                                                      "mel/IMD1_b.jpg": "IMD1_b_lesion.png"}
