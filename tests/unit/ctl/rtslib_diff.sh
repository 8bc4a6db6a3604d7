#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Differential test against python3-rtslib-fb: restore the full fixture with rtsctl into an
# emulated configfs tree, then dump that same tree with rtslib's own RTSRoot.dump() (pointed
# at the tree) and with `rtsctl save`, and compare. rtslib lists writable attributes by
# file mode, so the read-only / write-only files of the emulator's table (lib/emu_model.c)
# get their kernel modes first. Our extension fields (rtslib_c, tcq_depth) are the only
# accepted difference. Skips (77) without /usr/bin/python3 + rtslib_fb.
# Usage: rtslib_diff.sh RTSCTL
set -u
RTSCTL=${1:?usage: $0 RTSCTL}
SRC=${RTS_TEST_SRCDIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
PY=/usr/bin/python3
$PY -c 'import rtslib_fb' 2>/dev/null || { echo "rtslib_fb not installed"; exit 77; }
base=/dev/shm
[ -w "$base" ] || base=/tmp
W=$(mktemp -d "$base/rtsctl-diff-XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/root" "$W/files"
sed "s#@DIR@#$W/files#" "$SRC/tests/fixtures/saveconfig/full.json" >"$W/full.json"
r() { "$RTSCTL" --backend emulate --root "$W/root" "$@"; }
r -q restore "$W/full.json" || { echo "restore failed"; exit 1; }
# an ALUA LU group: only we save it (top-level rtslib_c), rtslib must not mind
r -q create /alua/lu_gps/lg1 id=4 && r -q set /backstores/ramdisk/rd0 property lu_gp=lg1 || exit 1
r -q save "$W/ours.json" || exit 1

# kernel file modes from the emulator's table
grep -oE '\{ "[A-Za-z0-9_]+", M_(RO|WO)' "$SRC/lib/emu_model.c" | sed -E 's/\{ "([^"]+)", M_(RO|WO)/\1 \2/' | sort -u >"$W/modes"
while read -r name mode; do
	find "$W/root/target" -type f -name "$name" -exec chmod "$([ "$mode" = RO ] && echo 0444 || echo 0200)" {} +
done <"$W/modes"
# the acl_param names (AuthMethod...) are read-only below ACLs only: TPG param/ stays rw
find "$W/root/target" -path '*/tpgt_*/param/*' -not -path '*/acls/*' -type f -exec chmod 0644 {} +

$PY - "$W/root" "$W/theirs.json" <<'EOF' || exit 1
import json, sys
import rtslib_fb.node as node
node.CFSNode.configfs_dir = sys.argv[1] + "/target"
import rtslib_fb.root as rroot
rroot.RTSRoot.__init__ = lambda self: node.CFSNode.__init__(self)
# emulator gap: its rd_mcp info lacks the kernel's "PAGES/PAGE_SIZE: N*4096" field
import rtslib_fb.tcm as tcm, resource
_pg = tcm.RDMCPStorageObject._get_page_size
def page_size(self):
    try:
        return _pg(self)
    except AttributeError:
        return resource.getpagesize()
tcm.RDMCPStorageObject._get_page_size = page_size
_pages = tcm.RDMCPStorageObject._get_pages
def pages(self):
    try:
        return _pages(self)
    except AttributeError:
        return int(self._parse_info("RamDisk Pages"))
tcm.RDMCPStorageObject._get_pages = pages
d = rroot.RTSRoot().dump()
with open(sys.argv[2], "w") as f:
    f.write(json.dumps(d, sort_keys=True, indent=2) + "\n")
EOF

# Our extension fields must be restorable by rtslib: NodeACL.setup() setattr()s tcq_depth
# (a real property: cmdsn_depth), TPG.setup() setattr()s rtslib_c (plain attribute).
$PY - <<'EOF' || exit 1
import inspect
from rtslib_fb.target import TPG, NodeACL
assert isinstance(NodeACL.tcq_depth, property) and NodeACL.tcq_depth.fset, "NodeACL.tcq_depth"
for cls in (TPG, NodeACL):
    src = inspect.getsource(cls.setup)
    assert "setattr(" in src and "iteritems" in src, cls
t = object.__new__(TPG)
setattr(t, "rtslib_c", {"nexus": "naa.5001405abcdef099"})   # what TPG.setup() does
print("rtslib restores tcq_depth and ignores rtslib_c")
EOF

$PY - "$W/ours.json" "$W/theirs.json" <<'EOF'
import json, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
EXT = {"rtslib_c", "tcq_depth"}   # our documented extension fields

def canon(x):
    # rtslib lists in configfs readdir order; we sort. Compare as sorted lists.
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((canon(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x

diffs = []
def cmp(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in EXT:
                continue
            if k not in a: diffs.append("%s.%s: only rtslib writes it (%r)" % (path, k, b[k]))
            elif k not in b: diffs.append("%s.%s: only rtsctl writes it (%r)" % (path, k, a[k]))
            else: cmp(a[k], b[k], path + "." + k)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)): cmp(x, y, "%s[%d]" % (path, i))
    elif isinstance(a, str) and isinstance(b, str) and b == a + ",data_pages_per_blk=None":
        # rtslib quirk: it appends "None" when the kernel's info has no DataPagesPerBlk
        # (the emulator's info has none); restoring that string would fail in rtslib itself
        print("KNOWN %s: rtslib %r" % (path, b))
    elif a != b:
        diffs.append("%s: rtsctl %r, rtslib %r" % (path, a, b))
cmp(canon(ours), canon(theirs), "")
fields = set()
def walk(x, p=""):
    if isinstance(x, dict):
        for k, v in x.items(): fields.add((p + "." + k).lstrip(".")); walk(v, p + "." + k)
    elif isinstance(x, list):
        for v in x: walk(v, p + "[]")
walk(theirs)
print("rtslib wrote %d distinct field paths; compared every one" % len(fields))
for d in diffs: print("DIFF", d)
sys.exit(1 if diffs else 0)
EOF
[ $? = 0 ] || exit 1

# Other direction: the file rtslib wrote restores with rtsctl into a fresh tree, and saving
# that tree gives rtslib's file back (our extension fields aside: rtslib does not have them).
mkdir -p "$W/root2"
sed 's/,data_pages_per_blk=None//' "$W/theirs.json" >"$W/theirs-fixed.json"
"$RTSCTL" -q --backend emulate --root "$W/root2" restore "$W/theirs-fixed.json" || { echo "rtsctl cannot restore rtslib's file"; exit 1; }
"$RTSCTL" -q --backend emulate --root "$W/root2" save "$W/back.json" || exit 1
$PY - "$W/back.json" "$W/theirs-fixed.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("rtslib_c", "tcq_depth")}
    if isinstance(x, list):
        return sorted((strip(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x
if strip(a) != strip(b):
    print("rtslib file -> rtsctl restore -> rtsctl save differs")
    sys.exit(1)
print("rtslib's file restored by rtsctl saves back identical")
EOF
