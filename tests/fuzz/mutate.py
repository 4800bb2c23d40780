"""Seeded mutators and the in-process harness of the fuzz tests and ``benchmarks/fuzz_soak.py``.

A case is (seed file, mutation, seed): the same triple always gives the same bytes, so a failure
names what to replay. Each case runs in this process under a wall-clock alarm
(:class:`CaseTimeout`, a ``BaseException`` so that no reader boundary can swallow it) and an
address-space limit, and its outcome is ``ok``, ``refused`` (a :class:`SessionKitError`), or a
failure: ``traceback`` (any other exception) or ``hang``.
"""

from __future__ import annotations

import random
import re
import resource
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sessionkit.errors import SessionKitError

#: Values written over header numbers and binary length fields.
EXTREMES = (b"0", b"-1", b"999999999", b"18446744073709551617", b"1e308", b"nan", b"2147483648")
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
#: Codecs an XML declaration may name that are not text encodings (issue 11 item 11).
CODECS = (b"rot13", b"zlib", b"base64", b"hex", b"punycode", b"utf-7", b"utf-16", b"bz2", b"unicode_escape")


def _header_end(data: bytes) -> int:
    """End of a text header (NRRD/MetaImage blank line, XML: the whole file), else 1,024."""
    end = data.find(b"\n\n")
    return end if 0 < end < 65536 else min(len(data), 1024)


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    """1-16 random bits flipped, most of them near the start (where headers are)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        limit = len(out) if rng.random() < 0.3 else min(len(out), 2048)
        position = rng.randrange(limit)
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncation(data: bytes, rng: random.Random) -> bytes:
    """The file cut at a random point (header or data)."""
    return data[: rng.randrange(1, len(data))]


def header_edit(data: bytes, rng: random.Random) -> bytes:
    """One number of the text header replaced by an extreme value (NRRD sizes, line skip, ...)."""
    end = _header_end(data)
    numbers = list(_NUMBER.finditer(data, 0, end))
    if not numbers:
        return bit_flips(data, rng)
    match = rng.choice(numbers)
    return data[: match.start()] + rng.choice(EXTREMES) + data[match.end() :]


def length_flip(data: bytes, rng: random.Random) -> bytes:
    """Four bytes overwritten by an extreme 32-bit value (DICOM/NIfTI lengths and dimensions)."""
    out = bytearray(data)
    position = rng.randrange(max(1, min(len(out) - 4, 4096)))
    out[position : position + 4] = rng.choice((b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00"))
    return bytes(out)


def encoding_swap(data: bytes, rng: random.Random) -> bytes:
    """An XML declaration naming another codec (text sessions only)."""
    body = re.sub(rb"^<\?xml[^>]*\?>", b"", data, count=1)
    return b'<?xml version="1.0" encoding="' + rng.choice(CODECS) + b'"?>' + body


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "bit-flip": bit_flips,
    "truncate": truncation,
    "header-edit": header_edit,
    "length-flip": length_flip,
}


def mutate(data: bytes, mutation: str, seed: int) -> bytes:
    """The bytes of case (``data``, ``mutation``, ``seed``)."""
    mutations = {**MUTATIONS, "encoding": encoding_swap}
    return mutations[mutation](data, random.Random(seed))


class CaseTimeout(BaseException):
    """Raised by the alarm when a case runs longer than its limit."""


@dataclass(frozen=True)
class Outcome:
    """What one case did: ``ok``, ``refused``, ``traceback`` or ``hang``, with a one-line detail."""

    kind: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        """``True`` for a traceback or a hang."""
        return self.kind in ("traceback", "hang")


@contextmanager
def memory_cap(limit_bytes: int) -> Iterator[None]:
    """Limit this process's address space to ``limit_bytes`` more than it uses now (RLIMIT_AS)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as handle:
        used = int(handle.read().split()[0]) * resource.getpagesize()
    cap = used + limit_bytes
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_case(action: Callable[[], object], seconds: float) -> Outcome:
    """Run ``action`` under a wall-clock alarm of ``seconds``; classify what happened."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        action()
        return Outcome("ok")
    except CaseTimeout:
        return Outcome("hang", f"over {seconds} s")
    except SessionKitError as exc:
        return Outcome("refused", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome("traceback", f"{type(exc).__name__}: {exc} ({last.filename}:{last.lineno})"[:300])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cases(seeds: list[Path], count: int, base_seed: int) -> Iterator[tuple[Path, str, int]]:
    """``count`` (seed file, mutation, seed) triples cycling over files and mutations."""
    names = sorted(MUTATIONS)
    for number in range(count):
        yield seeds[number % len(seeds)], names[(number // len(seeds)) % len(names)], base_seed + number
