#!/usr/bin/python3
"""Differential SCSI conformance: the same generated CDB sequences to two LUNs, compared.

  scsi_diff.py <reference sg> <ours sg> <report.md>

The reference is a kernel fileio LUN, ours a user:file LUN of the same size, both reached over
the kernel's iSCSI initiator (tests/vm/iscsi-lun.sh). Sent: every opcode 00h..FFh in its group's
CDB length with an all-zero CDB (minus the few that would change the target: FORMAT UNIT,
SANITIZE, WRITE BUFFER, PERSISTENT RESERVE OUT, MAINTENANCE OUT, EXTENDED COPY), then for the
commands we claim: transfer lengths 0/1/128/129/2048/16384/16385, LBAs at and past the end,
every bit of byte 1 and of CONTROL set alone, allocation lengths that truncate. Compared:
status, sense key/ASC/ASCQ, the sense-key-specific field pointer, the Data-In length, and the
data itself for READs (both LUNs hold the same pattern). The report lists every difference;
docs/scsi-conformance.md says for each kind whether it was fixed or why ours is right.
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import sgio  # noqa: E402

ref_path, ours_path, report = sys.argv[1:4]
ref, ours = sgio.Dev(ref_path), sgio.Dev(ours_path)

SKIP = {0x04, 0x48, 0x3b, 0x5f, 0xa4, 0x83, 0x16, 0x17, 0x56, 0x57, 0x5e}
GROUP_LEN = {0: 6, 1: 10, 2: 10, 4: 16, 5: 12}


def rc16(d):
    r = d.cmd(bytes([0x9e, 0x10]) + bytes(8) + sgio.be(32, 4) + bytes(2), data_in_len=32)
    return int.from_bytes(r.data[0:8], "big"), int.from_bytes(r.data[8:12], "big")


last, bs = rc16(ref)
last2, bs2 = rc16(ours)
assert (last, bs) == (last2, bs2), "LUNs differ in size: %s vs %s" % ((last, bs), (last2, bs2))

cases = []  # (name, cdb, data_out, data_in_len, compare_data)


def add(name, cdb, out=None, inlen=0, data=False):
    cases.append((name, bytes(cdb), out, inlen, data))


# 1. every opcode, all-zero CDB
for op in range(256):
    n = GROUP_LEN.get(op >> 5)
    if n is None or op in SKIP:
        continue
    add("%02x zero" % op, [op] + [0] * (n - 1), inlen=512)

# Both LUNs hold the same pattern in the first and last 4096 blocks.
pat = bytes((i * 7 + i // bs) & 0xff for i in range(2048 * bs))
for d in (ref, ours):
    for lba in (0, 2048, last + 1 - 4096, last + 1 - 2048):
        d.cmd(sgio.rw16(0x8a, lba, 2048), data_out=pat)

# 2. READ/WRITE/VERIFY forms: lengths, LBAs, byte 1 bits, CONTROL bits
rw = [("READ(10)", 0x28, sgio.rw10, 0xffff), ("READ(12)", 0xa8, sgio.rw12, 1 << 32),
      ("READ(16)", 0x88, sgio.rw16, 1 << 32)]
for name, op, mk, lim in rw:
    for n in (0, 1, 128, 129, 2048, 16384, 16385):
        if n < lim:
            add("%s len %d" % (name, n), mk(op, 0, n), inlen=n * bs, data=n <= 2048)
    for lba, n in ((last, 1), (last, 2), (last + 1, 1), (last - 100, 256), (last - 10, 2048)):
        add("%s lba %d len %d" % (name, lba, n), mk(op, lba, n), inlen=n * bs, data=True)
    for bit in range(8):
        c = bytearray(mk(op, 8, 4))
        c[1] |= 1 << bit
        add("%s byte1 bit%d" % (name, bit), c, inlen=4 * bs, data=True)
    for bit in (0, 1, 2, 6, 7):
        c = bytearray(mk(op, 8, 4))
        c[-1] |= 1 << bit
        add("%s control bit%d" % (name, bit), c, inlen=4 * bs, data=True)
add("READ(10) lba 2^32-1", sgio.rw10(0x28, 0xffffffff, 1), inlen=bs)
add("READ(16) lba 2^64-1", sgio.rw16(0x88, (1 << 64) - 1, 1), inlen=bs)
add("READ(6) len 0 (=256)", [0x08, 0, 0, 0, 0, 0], inlen=256 * bs, data=True)
add("READ(6) lba end", [0x08, (last >> 16) & 0x1f, (last >> 8) & 0xff, last & 0xff, 2, 0],
    inlen=2 * bs)
wblk = bytes([0x5a]) * bs
for name, op, mk in (("WRITE(10)", 0x2a, sgio.rw10), ("WRITE(16)", 0x8a, sgio.rw16),
                     ("WRITE AND VERIFY(10)", 0x2e, sgio.rw10), ("WRITE AND VERIFY(16)", 0x8e, sgio.rw16)):
    lba = 3000
    add("%s len 1" % name, mk(op, lba, 1), out=wblk)
    add("%s len 0" % name, mk(op, lba, 0))
    add("%s past end" % name, mk(op, last, 2), out=wblk * 2)
    for bit in range(8):
        c = bytearray(mk(op, lba, 1))
        c[1] |= 1 << bit
        add("%s byte1 bit%d" % (name, bit), c, out=wblk)
for name, op, mk in (("VERIFY(10)", 0x2f, sgio.rw10), ("VERIFY(16)", 0x8f, sgio.rw16)):
    add("%s bytchk0" % name, mk(op, 0, 16))
    add("%s bytchk1 match" % name, mk(op, 0, 2, 0x02), out=pat[:2 * bs])
    bad = bytearray(pat[:2 * bs])
    bad[bs + 5] ^= 1
    add("%s bytchk1 miscompare" % name, mk(op, 0, 2, 0x02), out=bytes(bad))
    add("%s bytchk2" % name, mk(op, 0, 2, 0x04), out=pat[:2 * bs])
    add("%s past end" % name, mk(op, last, 2))
for name, op, mk in (("SYNCHRONIZE CACHE(10)", 0x35, sgio.rw10),
                     ("SYNCHRONIZE CACHE(16)", 0x91, sgio.rw16)):
    add("%s all" % name, mk(op, 0, 0))
    add("%s past end" % name, mk(op, last, 2))
    add("%s immed" % name, mk(op, 0, 8, 0x02))
# COMPARE AND WRITE
caw = pat[:bs] + pat[:bs]
add("COMPARE AND WRITE 1", [0x89, 0] + list(sgio.be(0, 8)) + [0, 0, 0, 1, 0, 0], out=caw)
add("COMPARE AND WRITE 2 (> max)", [0x89, 0] + list(sgio.be(0, 8)) + [0, 0, 0, 2, 0, 0],
    out=caw * 2)
add("COMPARE AND WRITE past end", [0x89, 0] + list(sgio.be(last + 1, 8)) + [0, 0, 0, 1, 0, 0],
    out=caw)
# WRITE SAME
add("WRITE SAME(10) 8", [0x41, 0] + list(sgio.be(3000, 4)) + [0, 0, 8, 0], out=wblk)
add("WRITE SAME(16) 0 blocks", [0x93, 0] + list(sgio.be(3000, 8)) + [0, 0, 0, 0, 0, 0], out=wblk)
add("WRITE SAME(16) past end", [0x93, 0] + list(sgio.be(last, 8)) + [0, 0, 0, 2, 0, 0], out=wblk)
# 3. allocation lengths
for alloc in (0, 1, 5, 36, 96, 255):
    add("INQUIRY alloc %d" % alloc, [0x12, 0, 0, 0, alloc, 0], inlen=255)
for page in (0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2, 0xb3, 0x86):
    for alloc in (4, 255):
        add("INQUIRY VPD %02x alloc %d" % (page, alloc), [0x12, 1, page, 0, alloc, 0], inlen=255)
add("INQUIRY page without EVPD", [0x12, 0, 0x80, 0, 255, 0], inlen=255)
for page in (0x08, 0x0a, 0x1c, 0x3f):
    for alloc in (4, 255):
        add("MODE SENSE(6) %02x alloc %d" % (page, alloc), [0x1a, 0, page, 0, alloc, 0], inlen=255)
        add("MODE SENSE(10) %02x alloc %d" % (page, alloc),
            [0x5a, 0, page, 0, 0, 0, 0, 0, alloc, 0], inlen=255)
for alloc in (0, 8, 12, 32):
    add("READ CAPACITY(16) alloc %d" % alloc,
        [0x9e, 0x10] + [0] * 8 + list(sgio.be(alloc, 4)) + [0, 0], inlen=32, data=True)
add("READ CAPACITY(10)", [0x25] + [0] * 9, inlen=8, data=True)
for alloc in (4, 8, 16, 1024):
    add("REPORT SUPPORTED OPCODES all alloc %d" % alloc,
        [0xa3, 0x0c, 0, 0, 0, 0] + list(sgio.be(alloc, 4)) + [0, 0], inlen=1024)
add("REPORT SUPPORTED OPCODES one READ(16)",
    [0xa3, 0x0c, 1, 0x88, 0, 0] + list(sgio.be(64, 4)) + [0, 0], inlen=64)
add("REQUEST SENSE", [0x03, 0, 0, 0, 252, 0], inlen=252)
add("TEST UNIT READY", [0, 0, 0, 0, 0, 0])
add("READ DEFECT DATA(10)", [0x37, 0, 0x18, 0, 0, 0, 0, 0, 64, 0], inlen=64)
add("PRE-FETCH(10) 8", [0x34, 0] + list(sgio.be(0, 4)) + [0, 0, 8, 0])
add("PRE-FETCH(16) past end", [0x90, 0] + list(sgio.be(last, 8)) + [0, 0, 0, 2, 0, 0])
add("GET LBA STATUS", [0x9e, 0x12] + list(sgio.be(0, 8)) + list(sgio.be(64, 4)) + [0, 0],
    inlen=64)


def key(r):
    if r.status == -1:
        return ("refused", r.err)
    return (r.status, r.key if r.status == 2 else None, r.asc if r.status == 2 else None,
            sgio.sense_sks(r.sense) if r.status == 2 else None)


rows, diffs = [], []
by_op = {}
class Refused:
    """SG_IO itself refused the command (the initiator's block layer, not the target)."""

    def __init__(self, err):
        self.status, self.key, self.asc, self.sense, self.data = -1, None, None, b"", b""
        self.err = err

    def brief(self):
        return "SG_IO %s" % self.err


def send(d, cdb, out, inlen):
    try:
        return d.cmd(cdb, data_out=out, data_in_len=inlen)
    except OSError as e:
        return Refused(e.strerror)


for name, cdb, out, inlen, cmp_data in cases:
    a = send(ref, cdb, out, inlen)
    b = send(ours, cdb, out, inlen)
    same = key(a) == key(b)
    if same and a.status == 0 and inlen:
        same = len(a.data) == len(b.data) and (not cmp_data or a.data == b.data)
    op = "%02x" % cdb[0]
    s = by_op.setdefault(op, [0, 0])
    s[0] += 1
    if not same:
        s[1] += 1
        diffs.append((name, cdb.hex(), a.brief() + (" %dB" % len(a.data) if inlen and a.status == 0 else ""),
                      b.brief() + (" %dB" % len(b.data) if inlen and b.status == 0 else "")))

with open(report, "w") as f:
    f.write("Commands sent: %d, to each LUN; differences: %d\n\n" % (len(cases), len(diffs)))
    f.write("| opcode | sent | differ |\n|---|---|---|\n")
    for op in sorted(by_op):
        f.write("| %s | %d | %d |\n" % (op, by_op[op][0], by_op[op][1]))
    f.write("\n| case | CDB | kernel fileio | ours |\n|---|---|---|---|\n")
    for d in diffs:
        f.write("| %s | %s | %s | %s |\n" % d)
refused = sum(1 for d in diffs if "SG_IO" in d[2] or "SG_IO" in d[3])
print("scsi_diff: %d commands sent to each LUN, %d differences (%s)" % (len(cases), len(diffs), report))
