#!/usr/bin/env python3
"""Dump a configfs subtree of the LIO target as a line-oriented fixture.

    capture-configfs.py [--root /sys/kernel/config/target] [--title TEXT] [SUBTREE...] > file

One line per entry, depth-first, names sorted bytewise, paths relative to ROOT:

    d <mode> <path>
    f <mode> <path> = "<content>"      content C-escaped (\\n \\t \\\\ \\" \\xNN)
    f <mode> <path> ! <ERRNO>          the read failed (write-only attributes: EACCES, ...)
    l <mode> <path> -> <link target>   readlink(2) text, as the kernel reports it

<mode> is the octal permission bits (st_mode & 07777). Header lines start with '#'.
The reader in librts' in-memory configfs backend parses exactly this format; keep it stable
(bump "v1" in the header when it changes).
"""
import argparse
import errno
import os
import stat
import sys

MAX_READ = 1 << 20


def escape(data: bytes) -> str:
    out = []
    for b in data:
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def read_attr(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(len(c) for c in chunks) >= MAX_READ:
                break
        return b"".join(chunks)
    finally:
        os.close(fd)


def walk(root: str, rel: str, out):
    path = os.path.join(root, rel) if rel else root
    st = os.lstat(path)
    mode = "%04o" % stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        out.write("l %s %s -> %s\n" % (mode, rel, os.readlink(path)))
    elif stat.S_ISDIR(st.st_mode):
        if rel:
            out.write("d %s %s\n" % (mode, rel))
        for name in sorted(os.listdir(path), key=os.fsencode):
            walk(root, os.path.join(rel, name) if rel else name, out)
    else:
        try:
            out.write('f %s %s = "%s"\n' % (mode, rel, escape(read_attr(path))))
        except OSError as e:
            out.write("f %s %s ! %s\n" % (mode, rel, errno.errorcode.get(e.errno, str(e.errno))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default="/sys/kernel/config/target")
    ap.add_argument("--title", default="")
    ap.add_argument("subtrees", nargs="*")
    a = ap.parse_args()
    out = sys.stdout
    out.write("# rtslib-c configfs capture v1\n")
    if a.title:
        out.write("# %s\n" % a.title)
    out.write("# kernel: %s\n" % os.uname().release)
    out.write("# root: %s\n" % a.root)
    out.write("# line: d|f|l <mode> <path relative to root> [= \"content\" | ! ERRNO | -> target]\n")
    for sub in a.subtrees or [""]:
        sub = sub.strip("/")
        if sub:
            # the parents' lines so a fixture of a subtree is self-contained
            parts = sub.split("/")
            for i in range(1, len(parts)):
                p = "/".join(parts[:i])
                out.write("d %04o %s\n" % (stat.S_IMODE(os.lstat(os.path.join(a.root, p)).st_mode), p))
        walk(a.root, sub, out)


if __name__ == "__main__":
    main()
