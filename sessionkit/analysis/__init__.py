"""What a finished study turns into: final answers, agreement, accuracy and ROC, MRMC (analysis.md).

Modules: :mod:`.ratings` (MRMC ratings tables from CSV/.imrmc), :mod:`.roc` (Wilcoxon AUC, DeLong,
Wilson CIs), :mod:`.mrmc` (Obuchowski–Rockette–Hillis), :mod:`.output` (strict JSON).
Third-party statistics libraries (scipy, statsmodels, krippendorff) stay inside this package.
"""
