#!/usr/bin/env python3
"""Compare two configfs captures (format v1 of capture-configfs.py): the real kernel's and the
tree librts' emulated backend made for the same operations.

    compare-capture.py [--allow FILE] [--subst FROM=TO]... REAL EMULATED

Prints one line per difference, `<kind> <path> [detail]`, kinds:
  missing   in REAL, not in EMULATED          extra    in EMULATED, not in REAL
  type      d/f/l differ                      mode     permission bits differ
  content   attribute content differs         link     symlink target differs
  errno     read errno differs (or one side read, the other failed)
Differences matched by the allowlist (lines `<kind|*> <fnmatch glob>  # reason`) are counted,
not printed (-v prints them too). --subst rewrites EMULATED text (paths of backing files).
Exit 0 when no difference is left, 1 otherwise.
"""
import argparse
import fnmatch
import re
import sys

RANDOM_LINK = re.compile(r"(/lun_\d+/)[0-9a-f]{10}$")
LINE = re.compile(r'^([dfl]) (\d{4}) (.*?)(?: (=) "(.*)"| (!) (\S+)| (->) (.*))?$')


def load(path, substs=()):
    entries = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            line = line.rstrip("\n")
            for a, b in substs:
                line = line.replace(a, b)
            if not line or line.startswith("#"):
                continue
            m = LINE.match(line)
            if not m:
                raise SystemExit("%s: bad line: %s" % (path, line))
            kind, mode, p = m.group(1), m.group(2), m.group(3)
            if kind == "l":
                # librts names LUN / mapped LUN links with 10 random hex digits (as rtslib)
                p = RANDOM_LINK.sub(r"\1@link", p)
            if m.group(4):
                val = ("=", m.group(5))
            elif m.group(6):
                val = ("!", m.group(7))
            elif m.group(8):
                val = ("->", m.group(9))
            else:
                val = None
            entries[p] = (kind, mode, val)
    return entries


def load_allow(path):
    rules = []
    if not path:
        return rules
    with open(path) as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if line:
                kind, glob = line.split(None, 1)
                rules.append((kind, glob.strip()))
    return rules


def allowed(rules, kind, path):
    return any((k == "*" or k == kind) and fnmatch.fnmatchcase(path, g) for k, g in rules)


def link_norm(target):
    # the kernel reports ../../../core/x (relative), the emulator root-relative paths
    t = target
    while t.startswith("../"):
        t = t[3:]
    if t.startswith("target/"):
        t = t[len("target/"):]
    return t


def compare(real, emu):
    for p in sorted(set(real) | set(emu)):
        r, e = real.get(p), emu.get(p)
        if e is None:
            yield "missing", p, "%s %s" % (r[0], r[1])
            continue
        if r is None:
            yield "extra", p, "%s %s" % (e[0], e[1])
            continue
        if r[0] != e[0]:
            yield "type", p, "real %s, emulated %s" % (r[0], e[0])
            continue
        if r[1] != e[1]:
            yield "mode", p, "real %s, emulated %s" % (r[1], e[1])
        if r[0] == "l":
            if link_norm(r[2][1]) != link_norm(e[2][1]):
                yield "link", p, "real %s, emulated %s" % (r[2][1], e[2][1])
        elif r[0] == "f":
            if r[2][0] != e[2][0] or (r[2][0] == "!" and r[2][1] != e[2][1]):
                yield "errno", p, "real %s %s, emulated %s %s" % (r[2] + e[2])
            elif r[2][1] != e[2][1]:
                yield "content", p, 'real "%s", emulated "%s"' % (r[2][1], e[2][1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--allow")
    ap.add_argument("--subst", action="append", default=[])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("real")
    ap.add_argument("emulated")
    a = ap.parse_args()
    substs = [tuple(s.split("=", 1)) for s in a.subst]
    real, emu = load(a.real), load(a.emulated, substs)
    rules = load_allow(a.allow)
    left = hidden = 0
    for kind, p, detail in compare(real, emu):
        if allowed(rules, kind, p):
            hidden += 1
            if a.v:
                print("allowed %s %s %s" % (kind, p, detail))
            continue
        left += 1
        print("%s %s %s" % (kind, p, detail))
    print("== %d entries real, %d emulated: %d difference(s), %d allowlisted"
          % (len(real), len(emu), left, hidden))
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
