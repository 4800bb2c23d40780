"""STAPLE equals SimpleITK's STAPLEImageFilter on real corpus masks (probabilities to 1e-6, the 0.5 mask exactly)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from sessionkit.analysis.staple import staple
from sessionkit.errors import AnalysisInputError
from sessionkit.io import read_image

sitk = pytest.importorskip("SimpleITK")


def itk_staple(masks: list[np.ndarray]) -> tuple[np.ndarray, tuple[float, ...], tuple[float, ...]]:
    f = sitk.STAPLEImageFilter()
    f.SetForegroundValue(1)
    out = f.Execute([sitk.GetImageFromArray(m.astype(np.uint8)) for m in masks])
    return sitk.GetArrayFromImage(out), f.GetSensitivity(), f.GetSpecificity()


def assert_equal_to_itk(masks: list[np.ndarray]) -> None:
    ours = staple(masks)
    probability, sensitivity, specificity = itk_staple(masks)
    assert np.abs(ours.probability - probability).max() < 1e-6
    assert np.array_equal(ours.mask, probability > 0.5)
    assert ours.sensitivity == pytest.approx(sensitivity, abs=1e-6)
    assert ours.specificity == pytest.approx(specificity, abs=1e-6)


def test_four_readers_of_a_real_tumour(corpus: Path) -> None:
    tumour = read_image(corpus / "C-nrrd-labelmap-pyradiomics" / "breast1_label.nrrd").array == 1
    masks = [ndimage.binary_dilation(tumour), ndimage.binary_erosion(tumour), np.roll(tumour, 2, axis=1), tumour]
    assert_equal_to_itk(masks)
    result = staple(masks)
    assert result.mask.sum() > 0 and result.sensitivity[1] < 0.2  # the eroded reader misses most of it


def test_three_totalsegmentator_readers(corpus: Path) -> None:
    """The normal and fast TotalSegmentator models and the ROI-subset run, structure by structure."""
    folder = corpus / "E1-nifti-totalsegmentator"
    maps = [read_image(folder / name).array for name in ("example_seg.nii.gz", "example_seg_fast.nii.gz")]
    maps.append(np.roll(maps[0], 1, axis=2))
    for label in (1, 2, 5):
        masks = [m == label for m in maps]
        assert all(mask.any() for mask in masks)
        assert_equal_to_itk(masks)


def test_refuses_one_mask_and_handles_all_empty() -> None:
    with pytest.raises(AnalysisInputError, match="two or more"):
        staple([np.zeros((2, 2, 2), bool)])
    empty = staple([np.zeros((2, 2, 2), bool)] * 3)
    assert not empty.mask.any() and empty.specificity == (1.0, 1.0, 1.0)
