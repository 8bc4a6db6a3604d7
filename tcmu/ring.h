/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TCMU command ring, userspace side: decode entries the kernel queued and write
 * completions, exactly per linux/target_core_user.h (mailbox v2). Pure functions over a
 * mapped region: no syscalls, no allocation. Everything read from the shared region is
 * validated before use; a corrupt command fails that command, a corrupt ring (head, entry
 * length) fails the device, and neither ever reads or writes outside the mapping.
 */
#ifndef RTS_TCMU_RING_H
#define RTS_TCMU_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "uapi.h"

/* Largest CDB we accept (variable-length CDBs, SPC-4: 8 + 252). */
#define RING_MAX_CDB 260
/* Fixed part of a command entry (struct tcmu_cmd_entry, packed): 112 bytes. */
#define RING_CMD_ENTRY_SIZE ((uint32_t)sizeof(struct tcmu_cmd_entry))
/* Offset of req.iov[0] inside a command entry. */
#define RING_IOV_OFF ((uint32_t)offsetof(struct tcmu_cmd_entry, req.iov))
/* Offset of cmd_ids[0] inside a TMR entry. */
#define RING_TMR_IDS_OFF ((uint32_t)offsetof(struct tcmu_tmr_entry, cmd_ids))

struct tcmu_ring {
	uint8_t *map;             /* start of map0 */
	size_t map_size;          /* bytes mapped */
	struct tcmu_mailbox *mb;  /* == map */
	uint8_t *cmdr;            /* map + cmdr_off */
	uint32_t cmdr_size;       /* ring bytes (not necessarily a power of two) */
	size_t data_off;          /* first byte of the data area */
	uint16_t caps;            /* TCMU_MAILBOX_FLAG_CAP_* */
	uint32_t next;            /* private consumer index (next entry to decode) */
	uint32_t tail;            /* completion index written so far (published by ring_publish) */
	uint32_t completable;     /* CMD/unknown slots decoded but not yet completed */
};

enum ring_ent_type {
	RING_ENT_CMD = TCMU_OP_CMD,
	RING_ENT_TMR = TCMU_OP_TMR,
	RING_ENT_UNKNOWN = 7, /* op the kernel never sends: completed at once with UNKNOWN_OP */
};

/* One decoded ring entry (PAD entries are skipped by ring_next). */
struct ring_ent {
	enum ring_ent_type type;
	uint16_t cmd_id;
	uint32_t off;  /* offset of the entry in the ring */
	uint32_t len;  /* entry length */
	/* RING_ENT_TMR */
	uint8_t tmr_type;
	uint32_t tmr_cnt;          /* number of ids in the entry (after bounds clamp) */
	const uint16_t *tmr_ids;   /* into the ring; read with ring_tmr_id() */
};

/*
 * Attach to a mapped region. Checks the mailbox version, cmdr_off/cmdr_size against the
 * mapping and the head/tail indexes; starts consuming at the current cmd_tail. On error
 * returns -EINVAL/-EPROTO/-ENOTSUP and sets *reason to a static explanation.
 */
int ring_attach(struct tcmu_ring *r, void *map, size_t map_size, const char **reason);

/* The kernel's producer index, loaded with acquire semantics. */
uint32_t ring_head(const struct tcmu_ring *r);

/*
 * Decode the next entry at the private consumer index, skipping PAD entries.
 * Returns 1 with *ent filled, 0 when the ring is empty, -EPROTO (with *reason) when the
 * ring itself is corrupt (bad head, entry length, entry crossing the end): the device must
 * be failed since no later entry can be located. Does not advance past the entry: call
 * ring_consume() once the entry's content has been copied out.
 */
int ring_next(struct tcmu_ring *r, struct ring_ent *ent, const char **reason);
/* Advance the consumer index past @ent (and count a CMD/UNKNOWN slot as completable). */
void ring_consume(struct tcmu_ring *r, const struct ring_ent *ent);

/*
 * Copy a command's CDB and data iovecs out of the ring (a completion may overwrite the
 * entry later). iov_base offsets are translated to pointers into the data area after
 * checking every iovec lies inside it. @iov receives iov_cnt + iov_bidi_cnt entries (Data-Out
 * first, then Data-In for BIDI); *ret_iovcnt / *ret_bidi report the counts.
 * Returns 0, -E2BIG when more than @max_iov iovecs are needed (*ret_iovcnt says how many),
 * -EFAULT/-EINVAL (with *reason) for a corrupt command, which must then be failed.
 */
int ring_cmd_decode(const struct tcmu_ring *r, const struct ring_ent *ent, uint8_t *cdb,
		    unsigned int *ret_cdb_len, struct iovec *iov, unsigned int max_iov,
		    unsigned int *ret_iovcnt, unsigned int *ret_bidi, const char **reason);

/* Number of iovecs (data-out + bidi + dif) a command entry declares, 0 if corrupt. */
unsigned int ring_cmd_iov_count(const struct tcmu_ring *r, const struct ring_ent *ent);

/* The i-th aborted command id of a TMR entry. */
uint16_t ring_tmr_id(const struct ring_ent *ent, uint32_t i);
/* Name of a TCMU_TMR_* type for logs ("ABORT_TASK", ...; "type N" when unknown). */
const char *ring_tmr_name(uint8_t type);

/* Length of a CDB from its opcode group (0 for groups 6/7 and bad variable-length CDBs). */
unsigned int ring_cdb_len(const uint8_t *cdb, size_t avail);

struct ring_rsp {
	uint8_t status;
	uint8_t uflags;            /* TCMU_UFLAG_* to set (READ_LEN, UNKNOWN_OP, KEEP_BUF) */
	uint32_t read_len;         /* with TCMU_UFLAG_READ_LEN */
	const uint8_t *sense;      /* copied when status is CHECK CONDITION */
	size_t sense_len;
};

/*
 * Complete command @cmd_id out of order (CAP_OOOC): the next CMD slot at the completion
 * index, whatever command it held, gets @cmd_id and the response; PAD and TMR slots are
 * stepped over. Not visible to the kernel until ring_publish().
 * Returns 0, -ENOSPC when no consumed CMD slot is left (more completions than commands:
 * a caller bug, nothing is written), or -EPROTO when a slot header between the completion
 * and consumer indexes no longer describes a walkable entry (shared memory changed).
 */
int ring_complete(struct tcmu_ring *r, uint16_t cmd_id, const struct ring_rsp *rsp);

/* Make all completions so far visible: store cmd_tail with release semantics. */
void ring_publish(struct tcmu_ring *r);

/* Resynchronise after the kernel reset the ring (action/reset_ring): head == tail == 0. */
void ring_reset(struct tcmu_ring *r);

#endif
