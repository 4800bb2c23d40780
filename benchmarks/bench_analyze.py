"""Analysis speed (issue #13): MRMC on 10 readers x 2 modalities x 500 cases (target under 1 s), and
agreement on 20 readers x 1,000 cases against the same statistics in statsmodels / krippendorff / pingouin.

Run: python benchmarks/bench_analyze.py [--repeat N]
Synthetic ratings (seeded): binormal 1-5 confidence ratings for MRMC (half the cases diseased), 1-5
ordinal ratings and continuous measurements for agreement. Prints best-of-N times and ratios
(sessionkit / peer; the peer computes only that statistic, sessionkit's call does the whole question).
"""

from __future__ import annotations

import argparse
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pingouin
from _timing import best_of, best_of_pair
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from sessionkit.analysis.agreement import AgreementRating, agreement
from sessionkit.analysis.icc import icc_forms
from sessionkit.analysis.mrmc import or_hillis
from sessionkit.analysis.ratings import RatingTable
from sessionkit.analysis.roc import wilcoxon_auc


def mrmc_table(readers: int = 10, modalities: int = 2, cases: int = 500, seed: int = 1) -> RatingTable:
    """Binormal ratings binned to 1-5, with reader and modality effects."""
    rng = np.random.default_rng(seed)
    truth = (np.arange(cases) % 2).astype(np.int64)
    case_effect = rng.normal(0, 0.5, cases)
    scores = np.empty((modalities, readers, cases))
    for t in range(modalities):
        for r in range(readers):
            latent = truth * (1.2 + 0.2 * t) + case_effect + rng.normal(0, 1, cases)
            scores[t, r] = np.digitize(latent, [-0.5, 0.3, 1.0, 1.8]) + 1
    names = tuple(str(i) for i in range(readers))
    modality_names = tuple(f"M{t}" for t in range(modalities))
    return RatingTable(names, modality_names, tuple(map(str, range(cases))), truth, scores, "synthetic")


def naive_jackknife(table: RatingTable) -> None:
    """The textbook jackknife: the AUC recomputed with each case left out (what placement values avoid)."""
    keep = np.ones(table.truth.size, dtype=bool)
    for k in range(table.truth.size):
        keep[k] = False
        for t in range(table.scores.shape[0]):
            for r in range(table.scores.shape[1]):
                s = table.scores[t, r, keep]
                wilcoxon_auc(s[table.truth[keep] == 1], s[table.truth[keep] == 0])
        keep[k] = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    table = mrmc_table()
    mrmc_s = best_of(args.repeat, lambda: or_hillis(table))
    naive_s = best_of(1, lambda: naive_jackknife(table))
    print(f"MRMC OR-Hillis, 10 readers x 2 modalities x 500 cases: {mrmc_s * 1000:.1f} ms (target < 1000 ms)")
    print(f"  naive leave-one-out jackknife of the AUCs alone: {naive_s * 1000:.0f} ms ({naive_s / mrmc_s:.0f}x ours)")

    rng = np.random.default_rng(2)
    truth_level = rng.integers(1, 6, 1000)
    ordinal = np.clip(truth_level[:, None] + rng.integers(-1, 2, (1000, 20)), 1, 5)
    ratings = [
        AgreementRating("q", str(i), f"R{j}", str(int(ordinal[i, j]))) for i in range(1000) for j in range(20)
    ]
    ours = best_of(args.repeat, lambda: agreement("q", ratings, "ordinal"))

    def peer() -> None:
        counts, _ = aggregate_raters(ordinal)
        fleiss_kappa(counts)
        krippendorff.alpha(reliability_data=ordinal.T.astype(float), level_of_measurement="ordinal")

    peer_s = best_of(args.repeat, peer)
    print(f"Agreement, 20 readers x 1,000 cases, ordinal (percent agreement, Fleiss' kappa, ordinal alpha): "
          f"{ours * 1000:.0f} ms")
    print(f"  statsmodels fleiss_kappa + krippendorff.alpha on a ready matrix: {peer_s * 1000:.0f} ms "
          f"(ratio {ours / peer_s:.2f})")

    measured = truth_level[:, None] * 10.0 + rng.normal(0, 3, (1000, 20))
    frame = pd.DataFrame(
        [(i, j, measured[i, j]) for i in range(1000) for j in range(20)], columns=["case", "reader", "value"]
    )

    def pingouin_icc() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pingouin.intraclass_corr(frame, targets="case", raters="reader", ratings="value")

    peer_s, ours = best_of_pair(args.repeat, pingouin_icc, lambda: icc_forms(measured))
    print(f"ICC, six forms with CIs, 20 readers x 1,000 cases: {ours * 1000:.1f} ms; "
          f"pingouin.intraclass_corr {peer_s * 1000:.0f} ms (ratio {ours / peer_s:.3f})")


if __name__ == "__main__":
    main()
