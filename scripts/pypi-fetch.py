#!/usr/bin/env python3
"""Downloads one file of a PyPI release into a folder and prints its path.

Usage: pypi-fetch.py NAME VERSION sdist|bdist_wheel DEST_DIR
Uses PyPI's JSON API (https://pypi.org/pypi/NAME/json), so it works wherever pip's index does.
"""
import json
import os
import sys
import urllib.parse
import urllib.request

name, version, kind, dest = sys.argv[1:5]
index = "https://pypi.org/pypi/%s/json" % name
with urllib.request.urlopen(index, timeout=120) as response:
    meta = json.load(response)
files = [f for f in meta["releases"].get(version, []) if f["packagetype"] == kind]
if kind == "bdist_wheel":
    # Prefer a pure-Python wheel: it is the same on every machine.
    files.sort(key=lambda f: not f["filename"].endswith("-none-any.whl"))
if not files:
    sys.exit("no %s file for %s %s on PyPI" % (kind, name, version))
url = urllib.parse.urljoin(index, files[0]["url"])
path = os.path.join(dest, files[0]["filename"])
partial = path + ".part"
urllib.request.urlretrieve(url, partial)
os.replace(partial, path)
print(path)
