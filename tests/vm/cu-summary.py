#!/usr/bin/python3
"""Summarise iscsi-test-cu (CUnit, verbose) outputs of several LUNs side by side.

  cu-summary.py <label>=<output file> ...

Prints a Markdown table of passed / failed / skipped per LUN (a test that logged [SKIPPED]
counts as skipped, not passed; one a time limit cut short is "unfinished"), the same counts
over the tests that completed on every LUN (runs cut short at different points compare like
with like), and every test whose outcome is not the same on all LUNs.
"""
import re
import sys

TOKEN = re.compile(r"Suite: (?P<suite>\S+)|Test: (?P<test>\S+) \.\.\.|(?P<res>passed|FAILED)"
                   r"|(?P<skip>\[SKIPPED\])")


def parse(path):
    out = {}
    suite, test, skipped = "", None, False
    with open(path, errors="replace") as f:
        text = f.read()
    for m in TOKEN.finditer(text):
        if m.group("suite"):
            suite = m.group("suite")
        elif m.group("test"):
            test, skipped = suite + "." + m.group("test"), False
        elif m.group("skip"):
            skipped = True
        elif m.group("res") and test:
            out[test] = "failed" if m.group("res") == "FAILED" else ("skipped" if skipped else "passed")
            test = None
    if test:  # the run ended inside a test (its time limit, a crash)
        out[test] = "unfinished"
    return out


def main():
    runs = []
    for arg in sys.argv[1:]:
        label, path = arg.split("=", 1)
        runs.append((label, parse(path)))
    print("| LUN | tests | passed | failed | skipped |")
    print("|---|---|---|---|---|")
    for label, res in runs:
        vals = list(res.values())
        print("| %s | %d | %d | %d | %d |" % (label, len(vals), vals.count("passed"),
                                               vals.count("failed"), vals.count("skipped")))
    done = [{n for n, v in r.items() if v != "unfinished"} for _, r in runs]
    common = set.intersection(*done) if done else set()
    print()
    print("Over the %d tests completed on every LUN:" % len(common))
    print()
    print("| LUN | passed | failed | skipped |")
    print("|---|---|---|---|")
    for label, res in runs:
        vals = [res[n] for n in common]
        print("| %s | %d | %d | %d |" % (label, vals.count("passed"), vals.count("failed"),
                                         vals.count("skipped")))
    names = sorted(set().union(*(r for _, r in runs)))
    diff = [n for n in names if len({r.get(n, "-") for _, r in runs}) > 1]
    print()
    print("Tests whose outcome differs (%d):" % len(diff))
    print()
    print("| test | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for n in diff:
        print("| %s | %s |" % (n, " | ".join(r.get(n, "-") for _, r in runs)))
    failed = [n for n in names if any(r.get(n) == "failed" for _, r in runs)]
    print()
    print("Failed anywhere (%d): %s" % (len(failed), ", ".join(failed) or "none"))


if __name__ == "__main__":
    main()
