"""The reader state machine and the service the server calls (reading-flow §2-§13).

Modules: :mod:`.navigation` (navigation list, group order, fy-sha256-v1), :mod:`.answers` (answer
evaluation, §6), :mod:`.requirements` (contour/line requirements, §7), :mod:`.machine` (pure
``step(state, event) -> state``), :mod:`.history` (navigation-order lookups: viewer state, label-map
sources), :mod:`.rows` (response rows), :mod:`.service` (``ReadingService``: runs on disk),
:mod:`.annotation_store` (an annotation file stored durably and logged, never replacing the acknowledged one
before its successor is logged), :mod:`.contours` (label maps).
"""
