"""Multi-reader multi-case ROC analysis: Obuchowski–Rockette with Hillis' degrees of freedom.

Figure of merit: the empirical (Wilcoxon) AUC, ties ½. Error covariances: jackknife over all K cases,
``(K−1)/K · Σ_k (θ_(k) − θ̄)(θ_(k) − θ̄)ᵀ``. The three analyses of OR-DBM MRMC 2.51: random readers and
random cases (F with Hillis' ddf_H), fixed readers and random cases (χ²), random readers and fixed cases
(F on the treatment × reader ANOVA). Variance components are the raw ANOVA estimates (they may be
negative); ``max(Cov2 − Cov3, 0)`` and ``max(Cov2, 0)`` appear only in the error terms.

Sources: Obuchowski & Rockette (1995) Commun Stat Simul Comput 24:285; Hillis, Obuchowski, Schartz &
Berbaum (2005) Stat Med 24:1579; Hillis (2007) Stat Med 26:596; the OR-DBM MRMC 2.51 output
(tests/data/mrmc) for every printed formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from sessionkit.analysis.ratings import RatingTable
from sessionkit.analysis.roc import placement_values
from sessionkit.errors import AnalysisInputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MrmcResult:
    """Everything OR-DBM MRMC prints, as plain numbers; :meth:`to_json` gives analysis.md §3.3's JSON.

    ``auc`` has shape (modalities, readers); ``covariance`` is the jackknife covariance of the reader
    AUCs indexed ``[t, r, t', r']``. The three analyses are dicts in the JSON layout.
    """

    table: RatingTable
    alpha: float
    auc: FloatArray
    covariance: FloatArray
    anova: dict[str, Any]
    variance_components: dict[str, float]
    dbm_variance_components: dict[str, float]
    rrrc: dict[str, Any]
    frrc: dict[str, Any]
    rrfc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``sessionkit analyze mrmc --format json`` (analysis.md §3.3, plus the ANOVA tables)."""
        table = self.table
        truth = table.truth
        var_error = self.variance_components["var_error"]
        correlations = {
            key: (self.variance_components[key] / var_error if var_error else None) for key in ("cov1", "cov2", "cov3")
        }
        return {
            "method": "OR-Hillis",
            "figure_of_merit": "wilcoxon-auc",
            "covariance": "jackknife",
            "readers": list(table.readers),
            "modalities": list(table.modalities),
            "cases": {"negative": int((truth == 0).sum()), "positive": int((truth == 1).sum())},
            "auc": {
                m: {r: float(self.auc[t, i]) for i, r in enumerate(table.readers)}
                for t, m in enumerate(table.modalities)
            },
            "modality_auc": {m: float(self.auc[t].mean()) for t, m in enumerate(table.modalities)},
            "variance_components": dict(self.variance_components),
            "correlations": correlations,
            "dbm_variance_components": dict(self.dbm_variance_components),
            "anova": self.anova,
            "rrrc": self.rrrc,
            "frrc": self.frrc,
            "rrfc": self.rrfc,
        }


def jackknife_auc(table: RatingTable) -> tuple[FloatArray, FloatArray]:
    """Wilcoxon AUC of every (modality, reader) and its case-deleted jackknife values.

    Parameters
    ----------
    table : RatingTable
        Fully crossed ratings, ``scores`` shape (T, R, K), ``truth`` 0/1 of shape (K,).

    Returns
    -------
    auc : ndarray of float64, shape (T, R)
    jackknife : ndarray of float64, shape (T, R, K)
        AUC with case k left out (exact, from the placement values: no K-fold recomputation).
    """
    scores, truth = table.scores, table.truth
    pos, neg = truth == 1, truth == 0
    n1, n0 = int(pos.sum()), int(neg.sum())
    n_mod, n_read, n_case = scores.shape
    auc = np.empty((n_mod, n_read))
    jack = np.empty((n_mod, n_read, n_case))
    for t in range(n_mod):
        for r in range(n_read):
            v10, v01 = placement_values(scores[t, r, pos], scores[t, r, neg])
            a = float(v10.mean())
            auc[t, r] = a
            jack[t, r, pos] = (n1 * a - v10) / (n1 - 1)
            jack[t, r, neg] = (n0 * a - v01) / (n0 - 1)
    return auc, jack


def _pair_means(cov: FloatArray) -> tuple[float, float, float, float]:
    """Var(error), Cov1 (same reader), Cov2 (same modality), Cov3 (neither) from ``cov[t, r, t', r']``."""
    n_mod, n_read = cov.shape[:2]
    same_t = np.eye(n_mod, dtype=bool)[:, None, :, None]
    same_r = np.eye(n_read, dtype=bool)[None, :, None, :]
    return (
        float(cov[same_t & same_r].mean()),
        float(cov[~same_t & same_r].mean()),
        float(cov[same_t & ~same_r].mean()),
        float(cov[~same_t & ~same_r].mean()),
    )


def _two_sided_t(estimate: float, std_err: float, df: float, alpha: float) -> dict[str, Any]:
    """t statistic, two-sided p and CI; a normal reference when ``df`` is infinite."""
    stat = estimate / std_err if std_err > 0 else float("nan")
    quantile = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(stat), df)) if std_err > 0 else float("nan")
    return {"t": stat, "p": p, "ci": [estimate - quantile * std_err, estimate + quantile * std_err]}


def _two_sided_z(estimate: float, std_err: float, alpha: float) -> dict[str, Any]:
    stat = estimate / std_err if std_err > 0 else float("nan")
    quantile = float(stats.norm.ppf(1 - alpha / 2))
    p = float(2 * stats.norm.sf(abs(stat))) if std_err > 0 else float("nan")
    return {"z": stat, "p": p, "ci": [estimate - quantile * std_err, estimate + quantile * std_err]}


def _single(auc: float, std_err: float, df: float | None, alpha: float, **extra: float) -> dict[str, Any]:
    """A single modality's AUC with its t (``df``) or normal (``df`` None) confidence interval."""
    q = float(stats.norm.ppf(1 - alpha / 2) if df is None else stats.t.ppf(1 - alpha / 2, df))
    entry: dict[str, Any] = {"auc": auc, "std_err": std_err}
    if df is not None:
        entry["df"] = df
    return entry | {"ci": [auc - q * std_err, auc + q * std_err]} | extra


def _hillis_df(error_term: float, ms: float, df_ms: int) -> float:
    """Satterthwaite-type ddf ``error_term² / (ms² / df_ms)`` (Hillis 2007); infinite when ``ms`` is 0."""
    return float("inf") if ms == 0 else error_term**2 / (ms**2 / df_ms)


def or_hillis(table: RatingTable, alpha: float = 0.05) -> MrmcResult:
    """Obuchowski–Rockette–Hillis analysis of a fully crossed ROC study (all three OR-DBM analyses).

    Parameters
    ----------
    table : RatingTable
        Ratings of every reader on every case in every modality; truth 0/1.
    alpha : float
        Two-sided level of every test and confidence interval (default 0.05: 95 % CIs).

    Returns
    -------
    MrmcResult

    Raises
    ------
    AnalysisInputError
        Fewer than two modalities, readers, positive or negative cases.
    """
    n_mod, n_read, n_case = table.scores.shape
    n1 = int((table.truth == 1).sum())
    n0 = n_case - n1
    if n_mod < 2 or n_read < 2 or n1 < 2 or n0 < 2:
        raise AnalysisInputError(
            f"{table.source}: MRMC needs at least 2 modalities, 2 readers, 2 positive and 2 negative cases; "
            f"found {n_mod} modalities, {n_read} readers, {n1} positive and {n0} negative cases"
        )
    auc, jack = jackknife_auc(table)
    flat = jack.reshape(n_mod * n_read, n_case)
    centred = flat - flat.mean(axis=1, keepdims=True)
    cov = ((n_case - 1) / n_case * centred @ centred.T).reshape(n_mod, n_read, n_mod, n_read)
    var_error, cov1, cov2, cov3 = _pair_means(cov)

    grand = float(auc.mean())
    mod_mean, read_mean = auc.mean(axis=1), auc.mean(axis=0)
    ss_t = n_read * float(((mod_mean - grand) ** 2).sum())
    ss_r = n_mod * float(((read_mean - grand) ** 2).sum())
    ss_tr = float(((auc - mod_mean[:, None] - read_mean[None, :] + grand) ** 2).sum())
    df_t, df_r, df_tr = n_mod - 1, n_read - 1, (n_mod - 1) * (n_read - 1)
    ms_t, ms_r, ms_tr = ss_t / df_t, ss_r / df_r, ss_tr / df_tr
    ms_r_by_mod = ((auc - mod_mean[:, None]) ** 2).sum(axis=1) / df_r
    var_error_by_mod = np.array([float(np.diag(cov[t, :, t, :]).mean()) for t in range(n_mod)])
    off_diag = ~np.eye(n_read, dtype=bool)
    cov2_by_mod = np.array([float(cov[t, :, t, :][off_diag].mean()) for t in range(n_mod)])

    var_tr = ms_tr - var_error + cov1 + cov2 - cov3
    var_r = (ms_r - var_tr - var_error - (n_mod - 1) * cov1 + cov2 + (n_mod - 1) * cov3) / n_mod
    components = {"var_r": var_r, "var_tr": var_tr, "cov1": cov1, "cov2": cov2, "cov3": cov3, "var_error": var_error}
    dbm = {  # Hillis et al. (2005) Table I: DBM components from the OR ones
        "var_r": var_r,
        "var_c": n_case * cov3,
        "var_tr": var_tr,
        "var_tc": n_case * (cov2 - cov3),
        "var_rc": n_case * (cov1 - cov3),
        "var_trc_error": n_case * (var_error - cov1 - cov2 + cov3),
    }
    mods, pairs = table.modalities, list(combinations(range(n_mod), 2))

    def differences(std_err: float, extra: dict[str, Any], test: str, df: float) -> list[dict[str, Any]]:
        rows = []
        for a, b in pairs:
            estimate = float(mod_mean[a] - mod_mean[b])
            if test == "z":
                tested = _two_sided_z(estimate, std_err, alpha)
            else:
                tested = _two_sided_t(estimate, std_err, df, alpha)
            rows.append({"modalities": [mods[a], mods[b]], "estimate": estimate, "std_err": std_err, **extra, **tested})
        return rows

    # Analysis 1: random readers and random cases.
    error_rrrc = ms_tr + n_read * max(cov2 - cov3, 0.0)
    ddf = _hillis_df(error_rrrc, ms_tr, df_tr)
    f_rrrc = ms_t / error_rrrc
    single_rrrc = {}
    for t, m in enumerate(mods):
        term = float(ms_r_by_mod[t]) + n_read * max(float(cov2_by_mod[t]), 0.0)
        df_single = _hillis_df(term, float(ms_r_by_mod[t]), df_r)
        se = float(np.sqrt(term / n_read))
        single_rrrc[m] = _single(float(mod_mean[t]), se, df_single, alpha, cov2=float(cov2_by_mod[t]))
    rrrc = {
        "f": f_rrrc,
        "df_num": df_t,
        "df_den": ddf,
        "p": float(stats.f.sf(f_rrrc, df_t, ddf)),
        "error_term": error_rrrc,
        "differences": differences(float(np.sqrt(2 / n_read * error_rrrc)), {"df": ddf}, "t", ddf),
        "single": single_rrrc,
    }

    # Analysis 2: fixed readers and random cases.
    error_frrc = var_error - cov1 + (n_read - 1) * max(cov2 - cov3, 0.0)
    chi2 = df_t * ms_t / error_frrc
    single_frrc = {}
    for t, m in enumerate(mods):
        se = float(np.sqrt((var_error_by_mod[t] + (n_read - 1) * max(float(cov2_by_mod[t]), 0.0)) / n_read))
        extra = {"var_error": float(var_error_by_mod[t]), "cov2": float(cov2_by_mod[t])}
        single_frrc[m] = _single(float(mod_mean[t]), se, None, alpha, **extra)
    per_reader = []  # OR-DBM's single-reader tests; with > 2 modalities each pair uses its own (co)variances
    for r, reader in enumerate(table.readers):
        for a, b in pairs:
            var_pair = float(cov[a, r, a, r] + cov[b, r, b, r]) / 2
            cov1_pair = float(cov[a, r, b, r])
            se = float(np.sqrt(2 * (var_pair - cov1_pair)))
            estimate = float(auc[a, r] - auc[b, r])
            per_reader.append(
                {
                    "reader": reader,
                    "modalities": [mods[a], mods[b]],
                    "estimate": estimate,
                    "std_err": se,
                    **_two_sided_z(estimate, se, alpha),
                    "var_error": var_pair,
                    "cov1": cov1_pair,
                }
            )
    frrc = {
        "chi2": chi2,
        "df": df_t,
        "p": float(stats.chi2.sf(chi2, df_t)),
        "differences": differences(float(np.sqrt(2 / n_read * error_frrc)), {}, "z", float("inf")),
        "single": single_frrc,
        "per_reader": per_reader,
    }

    # Analysis 3: random readers and fixed cases.
    f_rrfc = ms_t / ms_tr if ms_tr > 0 else float("inf")
    single_rrfc = {}
    for t, m in enumerate(mods):
        se = float(np.sqrt(ms_r_by_mod[t] / n_read))
        single_rrfc[m] = _single(float(mod_mean[t]), se, df_r, alpha, ms_r=float(ms_r_by_mod[t]))
    rrfc = {
        "f": f_rrfc,
        "df_num": df_t,
        "df_den": df_tr,
        "p": float(stats.f.sf(f_rrfc, df_t, df_tr)),
        "differences": differences(float(np.sqrt(2 / n_read * ms_tr)), {"df": df_tr}, "t", df_tr),
        "single": single_rrfc,
    }
    anova = {
        "ss": {"t": ss_t, "r": ss_r, "tr": ss_tr},
        "df": {"t": df_t, "r": df_r, "tr": df_tr},
        "ms": {"t": ms_t, "r": ms_r, "tr": ms_tr},
        "ms_r_by_modality": {m: float(ms_r_by_mod[t]) for t, m in enumerate(mods)},
    }
    return MrmcResult(table, alpha, auc, cov, anova, components, dbm, rrrc, frrc, rrfc)


def format_mrmc_text(result: MrmcResult) -> str:
    """A plain-text report of :func:`or_hillis` laid out like OR-DBM MRMC's (8 decimals for estimates)."""
    data = result.to_json()
    mods, readers = data["modalities"], data["readers"]
    level = f"{100 * (1 - result.alpha):g}%"
    cases = data["cases"]
    lines = [
        "Obuchowski-Rockette-Hillis MRMC analysis (Wilcoxon AUC, jackknife covariances)",
        f"{len(mods)} modalities, {len(readers)} readers, {cases['negative'] + cases['positive']} cases "
        f"({cases['negative']} negative, {cases['positive']} positive)",
        "",
        "AUC by reader" + "".join(f"{m:>14}" for m in mods),
    ]
    lines += [f"  {r:<11}" + "".join(f"{data['auc'][m][r]:14.8f}" for m in mods) for r in readers]
    lines.append("  mean       " + "".join(f"{data['modality_auc'][m]:14.8f}" for m in mods))
    comps = data["variance_components"]
    lines += ["", "OR variance components"]
    lines += [f"  {key:<10}{comps[key]:14.8f}" for key in ("var_r", "var_tr", "cov1", "cov2", "cov3", "var_error")]

    def diff_rows(rows: list[dict[str, Any]], stat: str) -> list[str]:
        out = []
        for row in rows:
            df = f", df {row['df']:.2f}" if "df" in row else ""
            out.append(
                f"  {row['modalities'][0]} - {row['modalities'][1]}: {row['estimate']:.5f} "
                f"(SE {row['std_err']:.5f}{df}, {stat} {row[stat]:.2f}, p {row['p']:.4f}, "
                f"{level} CI {row['ci'][0]:.5f} to {row['ci'][1]:.5f})"
            )
        return out

    def single_rows(single: dict[str, dict[str, Any]]) -> list[str]:
        return [
            f"  {m}: AUC {s['auc']:.8f} (SE {s['std_err']:.8f}"
            + (f", df {s['df']:.2f}" if "df" in s else "")
            + f", {level} CI {s['ci'][0]:.8f} to {s['ci'][1]:.8f})"
            for m, s in single.items()
        ]

    rrrc, frrc, rrfc = data["rrrc"], data["frrc"], data["rrfc"]
    lines += [
        "",
        "1. Random readers and random cases",
        f"  F({rrrc['df_num']}, {rrrc['df_den']:.2f}) = {rrrc['f']:.2f}, p = {rrrc['p']:.4f}",
        *diff_rows(rrrc["differences"], "t"),
        *single_rows(rrrc["single"]),
        "",
        "2. Fixed readers and random cases",
        f"  X2({frrc['df']}) = {frrc['chi2']:.5f}, p = {frrc['p']:.4f}",
        *diff_rows(frrc["differences"], "z"),
        *single_rows(frrc["single"]),
        "  per reader:",
        *[
            f"  reader {row['reader']}" + line[1:]
            for row, line in zip(frrc["per_reader"], diff_rows(frrc["per_reader"], "z"), strict=True)
        ],
        "",
        "3. Random readers and fixed cases",
        f"  F({rrfc['df_num']}, {rrfc['df_den']}) = {rrfc['f']:.2f}, p = {rrfc['p']:.4f}",
        *diff_rows(rrfc["differences"], "t"),
        *single_rows(rrfc["single"]),
    ]
    return "\n".join(lines)
