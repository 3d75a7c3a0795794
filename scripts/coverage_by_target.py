"""Reads `llvm-cov report` from stdin and prints line coverage per Sources/<Target>."""
import re
import sys
from collections import defaultdict

lines = defaultdict(lambda: [0, 0])
for row in sys.stdin:
    match = re.match(r"(?:\S*Sources/)?(Sluice\w+)/\S+\.swift", row)
    if not match:
        continue
    numbers = row.split()
    # Columns: file, regions, missed regions, cover, functions, missed functions, executed, lines, missed lines, cover, ...
    total, missed = int(numbers[7]), int(numbers[8])
    lines[match.group(1)][0] += total
    lines[match.group(1)][1] += missed
print(f"{'target':<20} {'lines':>7} {'missed':>7} {'cover':>7}")
for target, (total, missed) in sorted(lines.items()):
    cover = 100.0 * (total - missed) / total if total else 0.0
    print(f"{target:<20} {total:>7} {missed:>7} {cover:>6.1f}%")
