"""Imports take time in proportion to the file's size: vCard and CSV at 1x and 4x.

For each shape of file that once made an importer slow, builds it at a base
size and at four times that size, parses it (the importer alone, no store),
alternating the sizes so that a busy machine slows both alike, and prints the
median time of each and the ratio of time per KB at 4x to time per KB at 1x.
A linear importer gives a ratio near 1; a quadratic one near 4. Exits 1 when
any ratio exceeds the target.

Shapes: a vCard 2.1 quoted-printable value continued over many lines by soft
line breaks ("=" at the end of each), one long property folded over many
lines, many small cards, cards with a base64 photo each, many CSV rows, and
CSV rows whose quoted cells run over many lines.

    python bench/import_scaling.py            # base 80 KB, 7 repeats
    python bench/import_scaling.py --quick    # base 40 KB, 3 repeats
    python bench/import_scaling.py --target 1.3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from cadence.sources.csv import read_csv
from cadence.sources.vcard import read_vcard

Reader = Callable[[str], object]


def qp_soft_breaks(kb: int) -> str:
    lines = ["BEGIN:VCARD", "VERSION:2.1", "FN:Ada", "NOTE;ENCODING=QUOTED-PRINTABLE:A="]
    lines += ["B="] * (kb * 1024 // 4)
    lines += ["C", "END:VCARD", ""]
    return "\r\n".join(lines)


def long_folded_line(kb: int) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", "FN:Ada", "NOTE:start"]
    lines += [" " + "x" * 73] * (kb * 1024 // 76)
    lines += ["END:VCARD", ""]
    return "\r\n".join(lines)


def long_folded_read_property(kb: int) -> str:
    # A property that is read (and so parsed), not only delimited.
    lines = ["BEGIN:VCARD", "VERSION:3.0", "FN:Ada", "CATEGORIES:a"]
    lines += [" ,tag" + "x" * 68] * (kb * 1024 // 76)
    lines += ["END:VCARD", ""]
    return "\r\n".join(lines)


def many_cards(kb: int) -> str:
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u{0}\r\nFN:Person {0}\r\n"
        "EMAIL:p{0}@example.org\r\nEND:VCARD\r\n"
    )
    return "".join(card.format(i) for i in range(kb * 1024 // 100))


def cards_with_photos(kb: int) -> str:
    # iCloud-shaped cards, each with a folded base64 PHOTO of about 4 KB.
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "\r\n ".join(["/9j/4AAQSkZJRg" * 5] * 58)
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Person;{0};;;\r\nFN:Person {0}\r\n"
        "item1.EMAIL;type=INTERNET;type=pref:p{0}@example.org\r\n"
        "item1.X-ABLabel:_$!<Work>!$_\r\nTEL;type=CELL;type=VOICE:+1 555 0100\r\n"
        "BDAY;VALUE=date:1604-12-01\r\n" + photo + "\r\nUID:u{0}\r\nEND:VCARD\r\n"
    )
    size = len(card.format(0))
    return "".join(card.format(i) for i in range(max(1, kb * 1024 // size)))


def many_rows(kb: int) -> str:
    rows = ["id,name,email,tags"]
    rows += [f"p{i},Person {i},p{i}@example.org,a;b" for i in range(kb * 1024 // 40)]
    return "\n".join(rows) + "\n"


def long_cells(kb: int) -> str:
    # Quoted cells over many lines (the csv module caps one cell at 128 KB).
    body = "\n".join(["x" * 70] * 14)
    rows = [f'p{i},"Person {i}\n{body}"' for i in range(kb * 1024 // 1010)]
    return "id,name\n" + "\n".join(rows) + "\n"


SHAPES: dict[str, tuple[Callable[[int], str], Reader]] = {
    "vcard: quoted-printable soft breaks": (qp_soft_breaks, lambda t: read_vcard(t, source="b")),
    "vcard: long folded line (not read)": (long_folded_line, lambda t: read_vcard(t, source="b")),
    "vcard: long folded line (read)": (
        long_folded_read_property,
        lambda t: read_vcard(t, source="b"),
    ),
    "vcard: many cards": (many_cards, lambda t: read_vcard(t, source="b")),
    "vcard: cards with photos": (cards_with_photos, lambda t: read_vcard(t, source="b")),
    "csv: many rows": (many_rows, lambda t: read_csv(t, source="b")),
    "csv: quoted cells over many lines": (long_cells, lambda t: read_csv(t, source="b")),
}


def timed(read: Reader, text: str) -> float:
    """Seconds per read, reading again until a tenth of a second has passed (timer noise)."""
    count = 0
    start = time.perf_counter()
    while True:
        read(text)
        count += 1
        spent = time.perf_counter() - start
        if spent >= 0.1:
            return spent / count


def measure(
    make: Callable[[int], str], read: Reader, base: int, repeats: int
) -> tuple[float, float, float, float]:
    """(KB at 1x, median seconds at 1x, KB at 4x, median seconds at 4x)."""
    small, large = make(base), make(4 * base)
    read(small)  # warm up imports and caches
    times: dict[int, list[float]] = {1: [], 4: []}
    for _ in range(repeats):
        times[1].append(timed(read, small))
        times[4].append(timed(read, large))
    return (
        len(small.encode()) / 1024,
        statistics.median(times[1]),
        len(large.encode()) / 1024,
        statistics.median(times[4]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller files, fewer repeats")
    parser.add_argument("--target", type=float, default=1.5, help="highest ratio allowed")
    args = parser.parse_args()
    base, repeats = (40, 3) if args.quick else (80, 7)
    worst = 0.0
    print(f"{'shape':40} {'1x KB':>7} {'1x s':>8} {'4x KB':>7} {'4x s':>8} {'ratio':>6}")
    for label, (make, read) in SHAPES.items():
        kb1, s1, kb4, s4 = measure(make, read, base, repeats)
        ratio = (s4 / kb4) / (s1 / kb1)
        worst = max(worst, ratio)
        print(f"{label:40} {kb1:7.0f} {s1:8.4f} {kb4:7.0f} {s4:8.4f} {ratio:6.2f}")
    verdict = "ok" if worst <= args.target else "TOO SLOW"
    print(f"worst ratio {worst:.2f} (target {args.target}): {verdict}")
    return 0 if worst <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
