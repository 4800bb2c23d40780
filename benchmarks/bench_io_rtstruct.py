"""RTSTRUCT rasterisation: sessionkit.io.read_rtstruct vs rt-utils (targets: >= 3x faster, closer to
the pixel-centre truth).

Run: python benchmarks/bench_io_rtstruct.py [--slices 100] [--repeat 3]
Needs the ``bench`` extra (rt-utils). A 512x512xN CT series and a structure set with full
references are generated with pydicom (clarifications C12): a rotated box, a triangle and a ring
(outer and inner contour on the same slices). The truth is analytic: a voxel belongs to a convex
contour when its centre is on the inner side of every edge. Reported: time of the rasterisation
alone (series already loaded by both), time including loading, and voxels differing from the truth.
Then both tools on corpus A1 and A2 (../shared/corpus), failures included.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _dicom_synth import ORIGIN_XY, PIXEL, write_rtstruct, write_series
from _timing import best_of
from rt_utils import RTStructBuilder

from sessionkit.io import read_dicom_series, read_image, read_rtstruct

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def rotated_box(cx: float, cy: float, hx: float, hy: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    corners = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
    return corners @ np.array([[c, s], [-s, c]]) + [cx, cy]


def inside_convex(polygon: np.ndarray, size: int) -> np.ndarray:
    """Analytic truth: (row, column) centres strictly inside a counter-clockwise convex polygon."""
    coords = ORIGIN_XY + PIXEL * np.arange(size)
    x, y = np.meshgrid(coords, coords)  # x varies along columns, y along rows
    inside = np.ones((size, size), dtype=bool)
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        inside &= (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) > 0
    return inside


def scene(slices: int, size: int) -> tuple[dict[str, list[tuple[int, np.ndarray]]], dict[str, np.ndarray]]:
    rois: dict[str, list[tuple[int, np.ndarray]]] = {"box": [], "triangle": [], "ring": []}
    truth = {name: np.zeros((slices, size, size), dtype=bool) for name in rois}
    for k in range(slices // 10, slices - slices // 10):
        box = rotated_box(10.3 + 0.37 * k, -20.7, 60.2, 35.7, 0.35)
        rois["box"].append((k, box))
        truth["box"][k] = inside_convex(box, size)
        if slices // 5 <= k < slices - slices // 5:
            triangle = np.array([[-150.2, 90.1], [-60.7 + 0.5 * k, 120.4], [-110.9, 190.3 - 0.3 * k]])
            rois["triangle"].append((k, triangle))
            truth["triangle"][k] = inside_convex(triangle, size)
        if slices // 3 <= k < slices // 2:
            outer, inner = rotated_box(100.1, 80.2, 80.4, 80.4, 0.1), rotated_box(100.1, 80.2, 30.3, 30.3, 0.1)
            rois["ring"] += [(k, outer), (k, inner)]
            truth["ring"][k] = inside_convex(outer, size) & ~inside_convex(inner, size)
    return rois, truth


def rt_utils_masks(builder: RTStructBuilder, names: list[str]) -> dict[str, np.ndarray]:
    # rt-utils masks are (column, row, slice) arrays filled as [row, column] for square images
    return {name: np.asarray(builder.get_roi_mask_by_name(name)).transpose(2, 0, 1) for name in names}


def synthetic(slices: int, repeat: int) -> None:
    size = 512
    with tempfile.TemporaryDirectory() as tmp:
        series_dir, rs = Path(tmp) / "series", Path(tmp) / "rs.dcm"
        series_dir.mkdir()
        uids = write_series(series_dir, slices, size)
        rois, truth = scene(slices, size)
        write_rtstruct(rs, uids, rois)
        names = list(rois)
        volume = read_dicom_series(series_dir)
        ours = read_rtstruct(rs, reference=volume)
        builder = RTStructBuilder.create_from(str(series_dir), str(rs))
        theirs = rt_utils_masks(builder, names)
        t_ours = best_of(repeat, lambda: read_rtstruct(rs, reference=volume))
        t_theirs = best_of(repeat, lambda: rt_utils_masks(builder, names))
        t_ours_all = best_of(repeat, lambda: read_rtstruct(rs, reference=series_dir))
        t_theirs_all = best_of(
            repeat, lambda: rt_utils_masks(RTStructBuilder.create_from(str(series_dir), str(rs)), names)
        )
        print(f"synthetic 512x512x{slices}, {sum(len(c) for c in rois.values())} contours, 3 ROIs")
        print(
            f"rasterise only: rt-utils {t_theirs:.3f} s | sessionkit {t_ours:.3f} s | "
            f"speed-up {t_theirs / t_ours:.1f}x (target >= 3)"
        )
        print(
            f"load + rasterise: rt-utils {t_theirs_all:.3f} s | sessionkit {t_ours_all:.3f} s | "
            f"speed-up {t_theirs_all / t_ours_all:.1f}x"
        )
        for name in names:
            segment = ours.segment_named(name)
            assert segment is not None
            mine = ours.mask(segment)
            print(
                f"  {name:9} truth {int(truth[name].sum()):7d} voxels | sessionkit differs in "
                f"{int(np.count_nonzero(mine != truth[name])):5d} | rt-utils differs in "
                f"{int(np.count_nonzero(theirs[name] != truth[name])):5d}"
            )


def corpus_sets() -> None:
    cases = [
        (
            "A1",
            CORPUS / "A1-rtstruct-ibsi-ct-phantom/dicom",
            "image",
            "mask/DCM_RS_00060.dcm",
            "../nifti/mask/mask.nii.gz",
        ),
    ] + [
        (
            f"A2 {m}",
            CORPUS / f"A2-rtstruct-sts002-ct-mr-pet/{m}/dicom",
            "image",
            "mask/RS.dcm",
            "../nifti/mask/mask.nii.gz",
        )
        for m in ("CT", "MR_T1", "PET")
    ]
    for label, root, image, rs, truth_path in cases:
        if not root.is_dir():
            print(f"{label}: corpus not found, skipped")
            continue
        truth = read_image(root / truth_path, image_type="LabelMap").layers[0] > 0  # type: ignore[union-attr]
        seg = read_rtstruct(root / rs, reference=root / image)
        mine = seg.layers[0] > 0
        line = f"{label}: sessionkit {int(mine.sum())} voxels, {int(np.count_nonzero(mine != truth))} differ from MIRP"
        try:
            builder = RTStructBuilder.create_from(str(root / image), str(root / rs))
            name = builder.get_roi_names()[0]
            theirs = np.asarray(builder.get_roi_mask_by_name(name)).transpose(2, 0, 1)
            if theirs.shape != truth.shape:
                theirs = theirs.transpose(0, 2, 1)
            line += f"; rt-utils {int(theirs.sum())} voxels, {int(np.count_nonzero(theirs != truth))} differ"
        except Exception as exc:  # report rt-utils failures as results
            line += f"; rt-utils failed: {type(exc).__name__}: {str(exc)[:100]}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    synthetic(args.slices, args.repeat)
    corpus_sets()


if __name__ == "__main__":
    main()
