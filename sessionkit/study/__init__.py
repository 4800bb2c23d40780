"""Reader studies: several arms (sessions) read by several readers (issue 18).

Modules: :mod:`.order` (arm order per reader: fixed, balanced Latin square, seeded random).
"""
