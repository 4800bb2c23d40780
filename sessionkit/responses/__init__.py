"""What lasts on disk for a run (reading-flow §1, §14; clarifications C2, C3).

Modules: :mod:`.paths` (run folder layout, reader ids, safe names, file naming), :mod:`.csvlog`
(append-only RFC 4180 logs with fsync and tail recovery), :mod:`.state_file` (atomic ``state.json``
with 20 kept versions), :mod:`.run_folder` (one run's files; recovery at restart, see
``docs/run-folder.md``), :mod:`.export` (CSV, JSON, IQ results XML).
"""
