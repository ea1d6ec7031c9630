#!/usr/bin/env python3
"""Instructions per request by source line of one shared object, from two callgrind runs.

callgrind.sh's profiles of a cdylib carry no line numbers, but with per-instruction costs
(`CALLGRIND_DUMP_INSTR=1 tests/bench/callgrind.sh ... --keep`) each instruction's address can
be mapped to its source line with addr2line, inlined frames included. This script subtracts the
warm-up-only run from the full run, divides by N and prints the costliest lines:

  tests/bench/callgrind_lines.py --so target/release/libmod_jk_rs.so \\
      RUN/callgrind/mod_jk_rs.browser.0.out RUN/callgrind/mod_jk_rs.browser.1000.out 1000 \\
      [--by line|ours|function] [--top 60]

--by line: the innermost source line (often the standard library's);
--by ours: the innermost line in this repository (what of ours it was inlined into);
--by function: the outermost function of ours the instruction belongs to.
--function REGEX keeps only the instructions of outermost functions matching REGEX.
Only the instructions' own costs are counted (not what they call).
"""
import argparse
import collections
import os
import re
import subprocess


def costs(path, object_name):
    """{address: instructions} of the object's own instructions in one callgrind file."""
    names, out = {}, collections.Counter()
    inside, address, after_call = False, 0, False
    with open(path) as f:
        for line in f:
            head = line[:4]
            if head in ("ob=(", "cob="):
                m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line.strip())
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("ob="):
                    inside = object_name in names.get(m.group(1), "")
                continue
            if line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
                continue
            if not line or line[0] not in "0123456789+-*":
                continue
            fields = line.split()
            a = fields[0]
            if a.startswith("0x"):
                address = int(a, 16)
            elif a[0] == "+":
                address += int(a[1:])
            elif a[0] == "-":
                address -= int(a[1:])
            if after_call:
                after_call = False
                continue
            if inside and len(fields) >= 3:
                out[address] += int(fields[2])
    return out


def frames(so, addresses):
    """{address: [(function, file:line), ...]} innermost first (addr2line -i)."""
    result = subprocess.run(["addr2line", "-e", so, "-C", "-f", "-i", "-a"]
                            + [hex(a) for a in addresses],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    chains, current, i = collections.defaultdict(list), None, 0
    while i < len(result):
        if result[i].startswith("0x"):
            current = int(result[i], 16)
            i += 1
            continue
        chains[current].append((result[i], result[i + 1].split(" (")[0]))
        i += 2
    return chains


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--so", required=True, help="the shared object callgrind saw (same build)")
    p.add_argument("base")
    p.add_argument("full")
    p.add_argument("n", type=int)
    p.add_argument("--by", choices=["line", "ours", "function"], default="ours")
    p.add_argument("--top", type=int, default=60)
    p.add_argument("--function", metavar="REGEX",
                   help="only instructions of the outermost functions of ours matching REGEX")
    args = p.parse_args()
    name = os.path.basename(args.so)
    base, full = costs(args.base, name), costs(args.full, name)
    per = {a: (full[a] - base.get(a, 0)) / args.n for a in full}
    per = {a: v for a, v in per.items() if v > 0}
    chains = frames(args.so, sorted(per))
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")) + "/"
    table = collections.Counter()
    for a, v in per.items():
        chain = chains.get(a) or [("?", "?")]
        ours = [(f, loc) for f, loc in chain if not loc.startswith("/rustc")]
        outer = ours[-1][0] if ours else chain[-1][0]
        if args.function and not re.search(args.function, outer):
            continue
        if args.by == "line":
            key = chain[0][1]
        elif args.by == "ours":
            key = (ours[0][1] if ours else chain[0][1])
        else:
            key = (ours[-1][0] if ours else chain[-1][0])
        table[key.replace(root, "")] += v
    for key, v in table.most_common(args.top):
        print(f"{v:9.1f}  {key}")
    shown = "" if not args.function else f", in functions matching {args.function!r}"
    print(f"{sum(table.values()):9.1f}  in all ({name}, own instructions per request{shown})")


if __name__ == "__main__":
    main()
