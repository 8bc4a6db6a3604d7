#!/usr/bin/python3
"""SG_IO from Python: one SCSI command to a /dev/sgN or /dev/sdX, its status, sense and data.

Used by the VM scenarios (iscsi-lun's I/O checks, the differential conformance driver) so that
hundreds of commands run in one process instead of one sg_raw start-up each under qemu TCG.
"""
import ctypes
import fcntl
import os
import struct

SG_IO = 0x2285
SG_DXFER_NONE = -1
SG_DXFER_TO_DEV = -2
SG_DXFER_FROM_DEV = -3
# struct sg_io_hdr (scsi/sg.h), native layout
_HDR = struct.Struct("@iiBBHIPPPIIiPBBBBHHiII")


class Result:
    """status: SAM status; sense: bytes written; data: Data-In received (resid removed)."""

    def __init__(self, status, sense, data, host_status, driver_status, resid):
        self.status = status
        self.sense = sense
        self.data = data
        self.host_status = host_status
        self.driver_status = driver_status
        self.resid = resid

    @property
    def key(self):
        return sense_key(self.sense)

    @property
    def asc(self):
        return sense_asc(self.sense)

    def brief(self):
        if self.host_status or (self.driver_status & ~0x08):
            return "host %#x driver %#x" % (self.host_status, self.driver_status)
        if self.status == 0:
            return "GOOD"
        if self.status == 2:
            return "CHECK %x/%04x%s" % (self.key, self.asc, sks_str(self.sense))
        return "status %#x" % self.status


def sense_key(s):
    if len(s) < 3:
        return -1
    if (s[0] & 0x7f) in (0x72, 0x73):
        return s[1] & 0xf
    return s[2] & 0xf


def sense_asc(s):
    if (s[0] & 0x7f) in (0x72, 0x73):
        return (s[2] << 8 | s[3]) if len(s) >= 4 else -1
    return (s[12] << 8 | s[13]) if len(s) >= 14 else -1


def sense_info(s):
    """INFORMATION field (fixed format, VALID set) or None."""
    if len(s) >= 7 and (s[0] & 0x7f) in (0x70, 0x71) and s[0] & 0x80:
        return int.from_bytes(s[3:7], "big")
    if len(s) >= 8 and (s[0] & 0x7f) in (0x72, 0x73):
        i = 8
        while i + 1 < len(s):
            if s[i] == 0 and i + 12 <= len(s):
                return int.from_bytes(s[i + 4:i + 12], "big")
            i += 2 + s[i + 1]
    return None


def sense_sks(s):
    """Sense-key specific bytes (SKSV set) as a 3-byte tuple, or None."""
    if len(s) >= 18 and (s[0] & 0x7f) in (0x70, 0x71) and s[15] & 0x80:
        return (s[15], s[16], s[17])
    if len(s) >= 8 and (s[0] & 0x7f) in (0x72, 0x73):
        i = 8
        while i + 1 < len(s):
            if s[i] == 2 and i + 7 <= len(s) and s[i + 4] & 0x80:
                return (s[i + 4], s[i + 5], s[i + 6])
            i += 2 + s[i + 1]
    return None


def sks_str(s):
    k = sense_sks(s)
    if not k:
        return ""
    if sense_key(s) == 5:
        return " [%s byte %d%s]" % ("cdb" if k[0] & 0x40 else "param", k[1] << 8 | k[2],
                                     (" bit %d" % (k[0] & 7)) if k[0] & 0x08 else "")
    return " [sks %02x%02x%02x]" % k


class Dev:
    def __init__(self, path, timeout_ms=60000):
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.timeout_ms = timeout_ms

    def close(self):
        os.close(self.fd)

    def cmd(self, cdb, data_out=None, data_in_len=0):
        cdb = bytes(cdb)
        cdb_buf = ctypes.create_string_buffer(cdb, len(cdb))
        sense_buf = ctypes.create_string_buffer(252)
        if data_out is not None:
            direction = SG_DXFER_TO_DEV
            dbuf = ctypes.create_string_buffer(bytes(data_out), max(len(data_out), 1))
            dlen = len(data_out)
        elif data_in_len:
            direction = SG_DXFER_FROM_DEV
            dbuf = ctypes.create_string_buffer(data_in_len)
            dlen = data_in_len
        else:
            direction = SG_DXFER_NONE
            dbuf = None
            dlen = 0
        hdr = bytearray(_HDR.pack(ord("S"), direction, len(cdb), len(sense_buf), 0, dlen,
                                  ctypes.addressof(dbuf) if dbuf is not None else 0,
                                  ctypes.addressof(cdb_buf), ctypes.addressof(sense_buf),
                                  self.timeout_ms, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        fcntl.ioctl(self.fd, SG_IO, hdr, True)
        f = _HDR.unpack(bytes(hdr))
        status, sb_len_wr, host_status, driver_status, resid = f[13], f[16], f[17], f[18], f[19]
        data = b""
        if direction == SG_DXFER_FROM_DEV:
            data = dbuf.raw[:max(0, dlen - resid)]
        return Result(status, sense_buf.raw[:sb_len_wr], data, host_status, driver_status, resid)


def be(v, n):
    return v.to_bytes(n, "big")


def rw10(op, lba, n, b1=0):
    return bytes([op, b1]) + be(lba, 4) + bytes([0]) + be(n, 2) + bytes([0])


def rw12(op, lba, n, b1=0):
    return bytes([op, b1]) + be(lba, 4) + be(n, 4) + bytes([0, 0])


def rw16(op, lba, n, b1=0):
    return bytes([op, b1]) + be(lba, 8) + be(n, 4) + bytes([0, 0])
