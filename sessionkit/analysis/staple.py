"""STAPLE consensus of binary masks (Warfield, Zou & Wells 2004), as ITK's ``STAPLEImageFilter`` runs it.

Expectation–maximisation over the whole image: the consensus probability ``W`` starts as the readers'
mean mask and the prior ``g`` is its mean over all voxels; each iteration estimates every reader's
sensitivity ``p`` and specificity ``q`` from ``W`` (M step) and then ``W`` from them (E step), until no
``p`` or ``q`` changes by more than the tolerance (1e-7, ITK's). The consensus mask is ``W > 0.5``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sessionkit.analysis.contour_metrics import BoolArray, FloatArray
from sessionkit.errors import AnalysisInputError

#: ITK's convergence tolerance on every sensitivity and specificity.
STAPLE_TOLERANCE = 1e-7


@dataclass(frozen=True)
class StapleResult:
    """Consensus of ``n`` readers' masks.

    Attributes
    ----------
    probability : ndarray of float64, shape of the masks
        Probability that each voxel belongs to the true segmentation.
    sensitivity, specificity : tuple of n float
        Each reader's estimated sensitivity and specificity against it (NaN sensitivity when no reader
        marked a voxel).
    iterations : int
        EM iterations run.
    """

    probability: FloatArray
    sensitivity: tuple[float, ...]
    specificity: tuple[float, ...]
    iterations: int

    @property
    def mask(self) -> BoolArray:
        """The consensus mask: probability above 0.5."""
        return np.asarray(self.probability > 0.5)


def staple(
    masks: Sequence[BoolArray], tolerance: float = STAPLE_TOLERANCE, max_iterations: int = 10_000
) -> StapleResult:
    """STAPLE over readers' binary masks of one segment on one grid.

    Parameters
    ----------
    masks : sequence of ndarray of bool, all of one shape
        One mask per reader (two or more).
    tolerance : float
        Stop when no sensitivity or specificity changes by more than this between iterations.
    max_iterations : int
        Upper bound on the EM iterations.

    Raises
    ------
    AnalysisInputError
        Fewer than two masks, or masks of different shapes.
    """
    if len(masks) < 2 or len({mask.shape for mask in masks}) != 1:
        raise AnalysisInputError(
            f"STAPLE needs two or more masks of one shape, found {[mask.shape for mask in masks]}"
        )
    shape = masks[0].shape
    decisions = np.stack([np.asarray(mask, dtype=bool).ravel() for mask in masks])
    n = len(masks)
    if not decisions.any():
        return StapleResult(np.zeros(shape), (float("nan"),) * n, (1.0,) * n, 0)
    weight = decisions.mean(axis=0)
    prior = float(weight.mean())
    last_p, last_q = np.full(n, -10.0), np.full(n, -10.0)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        total, background = weight.sum(), (1.0 - weight).sum()
        p = np.array([weight[d].sum() / total for d in decisions])
        q = np.array([(1.0 - weight)[~d].sum() / background if background else 1.0 for d in decisions])
        alpha = np.full(weight.shape, prior)
        beta = np.full(weight.shape, 1.0 - prior)
        for d, p_i, q_i in zip(decisions, p, q, strict=True):
            alpha *= np.where(d, p_i, 1.0 - p_i)
            beta *= np.where(d, 1.0 - q_i, q_i)
        weight = alpha / (alpha + beta)
        converged = np.all(np.abs(p - last_p) <= tolerance) and np.all(np.abs(q - last_q) <= tolerance)
        last_p, last_q = p, q
        if converged:
            break
    return StapleResult(
        weight.reshape(shape), tuple(float(v) for v in last_p), tuple(float(v) for v in last_q), iterations
    )
