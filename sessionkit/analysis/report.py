"""``sessionkit analyze report``: a study's runs → ``report.html``, ``tables/*.csv``, ``results.json``.

The report is one self-contained HTML file (styles inline, charts as inline SVG, no script, no network)
that opens from an e-mail or a USB stick. Every number in it is also in ``results.json`` and a table.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sessionkit import __version__
from sessionkit.analysis.accuracy import accuracy_table
from sessionkit.analysis.agreement import AgreementRating, agreement_table
from sessionkit.analysis.answers import FinalAnswer, answers_csv, collect_answers, select_rating, study_ratings
from sessionkit.analysis.charts import box_chart, distribution_chart, roc_chart
from sessionkit.analysis.design import Design, read_design
from sessionkit.analysis.mrmc import or_hillis
from sessionkit.analysis.output import dumps, finite_or_none
from sessionkit.errors import AnalysisInputError
from sessionkit.responses.export import write_export

#: Question types summarised by their answer distribution (the rest: numbers or free text).
CATEGORICAL = ("Radio", "CheckBox", "Button")
NUMERIC = ("IntegerValue", "FloatValue")


@dataclass
class StudyReport:
    """Everything ``analyze report`` writes: ``results`` (results.json), ``tables`` (name → rows), ``charts``."""

    results: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    answers: list[FinalAnswer]
    charts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def pseudonymize(answers: Sequence[FinalAnswer]) -> list[FinalAnswer]:
    """Readers renamed ``R1…Rn`` in order of first appearance."""
    names = {reader: f"R{n}" for n, reader in enumerate(dict.fromkeys(a.reader_id for a in answers), start=1)}
    return [replace(a, reader_id=names[a.reader_id]) for a in answers]


def agreement_ratings(answers: Iterable[FinalAnswer]) -> list[AgreementRating]:
    """Ratings for agreement from final answers: design cases (or page instances without a design),
    original instances; a CheckBox question becomes one Y/N question per option; Text is left out."""
    answers = [a for a in answers if a.repetition == 0 and a.question_type not in ("Text", "InfoBox", "Picture")]
    options: dict[str, dict[str, None]] = defaultdict(dict)
    for a in answers:
        if a.question_type == "CheckBox":
            for label in a.answer.split("|") if a.answer else []:
                options[a.question_descriptor].setdefault(label)
    ratings = []
    for a in answers:
        case = a.case_id or a.page_instance
        common = {"case": case, "reader": a.reader_id, "modality": a.modality, "read": str(a.read)}
        if a.question_type == "CheckBox":
            chosen = set(a.answer.split("|")) if a.answer else set()
            for label in options[a.question_descriptor]:
                value = "Y" if label in chosen else "N"
                ratings.append(AgreementRating(f"{a.question_descriptor}: {label}", value=value, **common))
        elif a.answer:
            ratings.append(
                AgreementRating(a.question_descriptor, value=a.answer, question_type=a.question_type, **common)
            )
    return ratings


def _label_order(label: str) -> tuple[int, float, str]:
    """Numbers first in numeric order, then labels alphabetically."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def _distribution(answers: Sequence[FinalAnswer]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per question on the design's cases: answer counts per reader (categorical; numeric labels in
    numeric order) or a numeric summary per reader."""
    questions: dict[tuple[str, str], list[FinalAnswer]] = defaultdict(list)
    for a in answers:
        if a.repetition == 0 and a.case_id:
            questions[(a.question_descriptor, a.question_type)].append(a)
    summary, rows = [], []
    for (descriptor, qtype), items in questions.items():
        entry: dict[str, Any] = {"question": descriptor, "type": qtype, "answers": len(items)}
        if qtype in CATEGORICAL:
            counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for a in items:
                labels = a.answer.split("|") if qtype == "CheckBox" and a.answer else [a.answer]
                for label in labels:
                    counts[a.reader_id][label] += 1
            labels_seen = sorted({label for per in counts.values() for label in per}, key=_label_order)
            entry["distribution"] = {
                reader: {label: per[label] for label in labels_seen if label in per} for reader, per in counts.items()
            }
            rows += [
                {"question": descriptor, "reader": reader, "answer": answer, "count": count}
                for reader, per in counts.items()
                for answer, count in per.items()
            ]
        elif qtype in NUMERIC:
            values: dict[str, list[float]] = defaultdict(list)
            for a in items:
                if a.answer_numeric is not None:
                    values[a.reader_id].append(a.answer_numeric)
            entry["numeric"] = {
                reader: {
                    "n": len(v),
                    "mean": statistics.fmean(v),
                    "sd": statistics.stdev(v) if len(v) > 1 else None,
                    "min": min(v),
                    "max": max(v),
                }
                for reader, v in values.items()
            }
        summary.append(entry)
    return summary, rows


def _study(answers: Sequence[FinalAnswer], design: Design, excluded: list[tuple[Path, str]]) -> dict[str, Any]:
    readers = list(dict.fromkeys(a.reader_id for a in answers))
    cased = [a for a in answers if a.case_id]
    visits = {(a.reader_id, a.arm, a.read, a.page_instance): a for a in cased}
    times: dict[str, list[float]] = defaultdict(list)
    for (reader, *_), a in visits.items():
        times[reader].append(a.reading_time_s)
    arms = {a.arm for a in answers}
    pages_per_arm = {arm: {r.page_id for r in design.rows if not r.arm or r.arm == arm} for arm in arms}
    completion = {}
    for reader in readers:
        done = {(a.arm, a.page_id) for a in cased if a.reader_id == reader and a.answer}
        reader_arms = {a.arm for a in answers if a.reader_id == reader}
        expected = sum(len(pages_per_arm[arm]) for arm in reader_arms)
        completion[reader] = len(done) / expected if expected else None
    return {
        "readers": readers,
        "cases": len({a.case_id for a in cased}),
        "modalities": list(dict.fromkeys(a.modality for a in cased)),
        "arms": list(dict.fromkeys(a.arm for a in answers)),
        "excluded_runs": [{"run": str(path), "reason": reason} for path, reason in excluded],
        "pages_not_in_design": sorted({a.page_id for a in answers if not a.case_id}),
        "completion": completion,
        "reading_time_s": {
            reader: {
                "cases": len(v),
                "median": statistics.median(v),
                "q1": statistics.quantiles(v, n=4)[0] if len(v) > 1 else v[0],
                "q3": statistics.quantiles(v, n=4)[2] if len(v) > 1 else v[0],
                "total": sum(v),
            }
            for reader, v in times.items()
        },
    }


def _mrmc(answers: Sequence[FinalAnswer], rating: str, source: str, alpha: float) -> dict[str, Any]:
    """The MRMC JSON, or ``{"error": why}`` when the design does not allow it (one modality, not crossed)."""
    try:
        return or_hillis(study_ratings(answers, rating, source), alpha).to_json()
    except AnalysisInputError as exc:
        return {"error": str(exc)}


def build_report(
    paths: Sequence[str | Path],
    design_path: str | Path,
    *,
    rating: str | None = None,
    positive_from: float | None = None,
    include_incomplete: bool = False,
    anonymous: bool = False,
    alpha: float = 0.05,
) -> StudyReport:
    """Read the runs and compute every section of the report.

    Raises
    ------
    RatingsReadError, AnalysisInputError, ResponseLogError
        Unreadable design or runs; bad design rows; ``rating`` naming no question or two on one page.
    """
    design = read_design(design_path)
    collected = collect_answers(paths, design, include_incomplete=include_incomplete)
    answers = pseudonymize(collected.answers) if anonymous else collected.answers
    if not answers:
        raise AnalysisInputError(f"no answers in {', '.join(map(str, paths))} (excluded: {len(collected.excluded)})")
    questions, distribution_rows = _distribution(answers)
    agreement = agreement_table(agreement_ratings([a for a in answers if a.case_id]))
    results: dict[str, Any] = {
        "sessionkit": __version__,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "study": _study(answers, design, collected.excluded),
        "questions": questions,
        "agreement": [r.to_json() for r in agreement],
        "rating": rating,
        "accuracy": [],
        "mrmc": None,
    }
    tables: dict[str, list[dict[str, Any]]] = {"answer_distribution": distribution_rows}
    if rating:
        rated = select_rating(answers, rating)
        results["accuracy"] = [r.to_json() for r in accuracy_table(rated, positive_from, alpha)]
        results["mrmc"] = _mrmc(answers, rating, str(design_path), alpha)
    tables.update(_tables(results, answers))
    return StudyReport(finite_or_none(results), tables, answers, _charts(results, answers))


def _tables(results: dict[str, Any], answers: Sequence[FinalAnswer]) -> dict[str, list[dict[str, Any]]]:
    """The flat tables behind every number of the report."""
    tables: dict[str, list[dict[str, Any]]] = {}
    seen = {(a.reader_id, a.arm, a.read, a.page_instance): a for a in answers if a.case_id}
    tables["reading_time"] = [
        {"reader": a.reader_id, "arm": a.arm, "read": a.read, "page_instance": a.page_instance, "case_id": a.case_id,
         "modality": a.modality, "reading_time_s": a.reading_time_s}
        for a in seen.values()
    ]  # fmt: skip
    rows = []
    for entry in results["agreement"]:
        row = {key: value for key, value in entry.items() if key not in ("icc", "bland_altman")}
        for form, item in (entry["icc"] or {}).items():
            row[form] = item["value"]
            row[f"{form}_ci_low"], row[f"{form}_ci_high"] = item["ci"]
        rows.append(row)
    tables["agreement"] = rows
    tables["bland_altman"] = [
        {"question": e["question"], "modality": e["modality"], "reader_a": p["readers"][0], "reader_b": p["readers"][1],
         "n": p["n"], "bias": p["bias"], "sd": p["sd"], "loa_low": p["loa"][0], "loa_high": p["loa"][1]}
        for e in results["agreement"] for p in e["bland_altman"]
    ]  # fmt: skip
    accuracy, roc = [], []
    for entry in results["accuracy"]:
        row = {"reader": entry["reader"], "modality": entry["modality"], "cases": entry["cases"]}
        for name in ("accuracy", "sensitivity", "specificity", "ppv", "npv"):
            part = entry[name]
            row[name] = part["value"] if part else None
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = part["ci"] if part else (None, None)
        row["auc"], row["auc_std_err"] = entry["auc"], entry["auc_std_err"]
        row["auc_ci_low"], row["auc_ci_high"] = entry["auc_ci"] or (None, None)
        accuracy.append(row)
        if entry["roc"]:
            roc += [
                {"reader": entry["reader"], "modality": entry["modality"], "fpr": x, "tpr": y}
                for x, y in zip(entry["roc"]["fpr"], entry["roc"]["tpr"], strict=True)
            ]
    tables["accuracy"], tables["roc_points"] = accuracy, roc
    mrmc = results["mrmc"]
    if mrmc and "error" not in mrmc:
        tables["mrmc_auc"] = [
            {"modality": m, "reader": r, "auc": auc} for m, per in mrmc["auc"].items() for r, auc in per.items()
        ]
        tests = []
        for analysis in ("rrrc", "frrc", "rrfc"):
            for diff in mrmc[analysis]["differences"]:
                tests.append(
                    {"analysis": analysis, "comparison": " - ".join(diff["modalities"]), "estimate": diff["estimate"],
                     "std_err": diff["std_err"], "df": diff.get("df"), "statistic": diff.get("t", diff.get("z")),
                     "p": diff["p"], "ci_low": diff["ci"][0], "ci_high": diff["ci"][1]}
                )  # fmt: skip
        tables["mrmc_tests"] = tests
    return tables


def _charts(results: dict[str, Any], answers: Sequence[FinalAnswer]) -> dict[str, list[tuple[str, str]]]:
    """Inline SVG charts per section: ``{section: [(caption, svg)]}``."""
    charts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entry in results["questions"]:
        if "distribution" in entry:
            caption = f"{entry['question']}: answers per reader"
            charts["questions"].append((caption, distribution_chart(entry["question"], entry["distribution"])))
    times: dict[str, list[float]] = {reader: [] for reader in results["study"]["readers"]}
    seen = {(a.reader_id, a.arm, a.read, a.page_instance): a.reading_time_s for a in answers if a.case_id}
    for (reader, *_), value in seen.items():
        times[reader].append(value)
    if any(times.values()):
        used = {reader: values for reader, values in times.items() if values}
        charts["study"].append(("Reading time per case", box_chart("Reading time per case", used, "seconds")))
    by_modality: dict[str, dict[str, tuple[list[float], list[float], float]]] = defaultdict(dict)
    for entry in results["accuracy"]:
        if entry["roc"]:
            by_modality[entry["modality"]][entry["reader"]] = (entry["roc"]["fpr"], entry["roc"]["tpr"], entry["auc"])
    for modality, curves in by_modality.items():
        charts["roc"].append((f"ROC curves, {modality}", roc_chart(f"{results['rating']} — {modality}", curves)))
    return dict(charts)


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row)) or ["empty"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(finite_or_none(rows))
    return buffer.getvalue().encode("utf-8")


def render_html(report: StudyReport) -> str:
    """The self-contained ``report.html`` (Jinja2 template ``templates/report.html``)."""
    environment = Environment(
        loader=PackageLoader("sessionkit.analysis", "templates"), autoescape=select_autoescape(["html"])
    )
    environment.filters["num"] = lambda value, digits=3: "–" if value is None else f"{value:.{digits}f}"
    return environment.get_template("report.html").render(r=report.results, charts=report.charts, tables=report.tables)


def write_report(report: StudyReport, out_dir: str | Path) -> list[Path]:
    """Write ``report.html``, ``results.json``, ``answers.csv`` and ``tables/*.csv`` into ``out_dir``.

    Raises
    ------
    ResponseLogError
        A file cannot be written.
    """
    out = Path(out_dir)
    written = [
        write_export(render_html(report).encode("utf-8"), out / "report.html", durable=False),
        write_export(dumps(report.results).encode("utf-8"), out / "results.json", durable=False),
        write_export(answers_csv(report.answers), out / "tables" / "answers.csv", durable=False),
    ]
    for name, rows in report.tables.items():
        written.append(write_export(_csv(rows), out / "tables" / f"{name}.csv", durable=False))
    return written
