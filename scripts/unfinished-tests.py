#!/usr/bin/env python3
"""Reads swift-testing's output and prints the tests that started and never passed or failed (a hung run's suspects)."""
import re
import sys

started, ended = [], set()
for line in sys.stdin:
    if m := re.match(r'^\S+ Test (".*") started\.$', line.rstrip()):
        started.append(m.group(1))
    elif m := re.match(r'^\S+ Test (".*")(?: with \d+ test cases?)? (?:passed|failed) after', line):
        ended.add(m.group(1))
for name in started:
    if name not in ended:
        print(f"  {name}")
