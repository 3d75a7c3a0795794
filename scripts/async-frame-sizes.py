#!/usr/bin/env python3
"""Lists the async frame (context) size of every async function in a Swift binary, largest first.

A Swift task allocates each async call's frame from its own slabs and frees the slabs only when the task ends, so a
task keeps its deepest chain of frames for its whole life: for the connection's task in Hummingbird that is as long
as the connection (docs/benchmarks.md, "Memory per stream"). Every inlined callee and every value an async function
builds in place take a slot of their own in its frame.

An async function's pointer (`…Tu`) is two 32-bit words: the function's relative address, then the size of the
context its caller allocates. Needs binutils (`nm`, `readelf`) and `swift-demangle`.

    scripts/async-frame-sizes.py .build/release/sluice SluiceServer 20
"""
import struct
import subprocess
import sys


def sections(binary):
    """(name, address, file offset, size) of each section."""
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("[") or "]" not in line:
            continue
        fields = line[line.index("]") + 1:].split()
        try:
            found.append((fields[0], int(fields[2], 16), int(fields[3], 16), int(fields[4], 16)))
        except (IndexError, ValueError):
            continue
    return found


def frame_sizes(binary):
    """(context size, mangled name) of every async function pointer defined in the binary."""
    data = open(binary, "rb").read()
    mapped = [s for s in sections(binary) if s[0] not in (".bss", ".tbss")]
    symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    sizes = []
    for line in symbols.splitlines():
        fields = line.split()
        if len(fields) < 3 or not fields[2].endswith("Tu"):
            continue
        address = int(fields[0], 16)
        for _, start, offset, size in mapped:
            if start <= address < start + size:
                at = offset + address - start
                _, context = struct.unpack("<iI", data[at:at + 8])
                sizes.append((context, fields[2]))
                break
    return sorted(sizes, reverse=True)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: async-frame-sizes.py BINARY [MODULE-SUBSTRING] [COUNT]")
    binary = sys.argv[1]
    module = sys.argv[2] if len(sys.argv) > 2 else ""
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    chosen = [(size, name) for size, name in frame_sizes(binary) if module in name][:count]
    names = subprocess.run(
        ["swift-demangle", "--simplified"], input="\n".join(name for _, name in chosen),
        capture_output=True, text=True, check=True).stdout.splitlines()
    for (size, _), name in zip(chosen, names):
        print(f"{size:7d}  {name.replace('async function pointer to ', '')}")


if __name__ == "__main__":
    main()
