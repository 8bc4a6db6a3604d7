/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals shared by the emulated backend's files: emu.c (operations, checks) and
 * emu_show.c (values the kernel derives: info, group members, geometry at enable).
 */
#ifndef RTS_LIB_EMU_BE_H
#define RTS_LIB_EMU_BE_H

#include "emu.h"

struct emu_be {
	struct rts_backend *raw;
	struct rts_index links; /* target path -> struct link_ref */
	bool links_stale; /* recount before use (emu_invalidate) */
};

#define RAW(e)	((e)->raw->ops)
#define RAWD(e) ((e)->raw->data)

/* emu.c */
const char *emu_base_name(const char *p);
int emu_dir_name(const char *p, char *buf, size_t size);
int emu_plugin_of_hba(const char *name);
/* The raw backend's listing of @p into @l (struct rts_names, freed with names_free()). */
int emu_list_dir(struct emu_be *e, const char *p, struct rts_names *l);
int emu_read_sibling(struct emu_be *e, const char *dir, const char *name, char *buf, size_t size);
int emu_write_sibling(struct emu_be *e, const char *dir, const char *name, const char *v);
unsigned int emu_link_count(struct emu_be *e, const char *target);
bool emu_dev_enabled(struct emu_be *e, const char *devdir);
bool emu_ctl_get(const char *text, const char *key, char *val, size_t size);

/* emu_show.c */
int emu_lun_alua_show(struct emu_be *e, const char *lundir, const char *dev, const char *gp);
void emu_update_lu_gp_members(struct emu_be *e, const char *gpdir);
void emu_update_tg_pt_gp_members(struct emu_be *e, const char *gpdir);
void emu_update_info(struct emu_be *e, const char *dev, int plugin, const char *ctl);
void emu_enable_geom(struct emu_be *e, const char *dev, int plugin, const char *ctl);

/* fileio: max_bytes_per_io, hw_max_sectors = FD_MAX_BYTES / block size */
#define FD_MAX_BYTES 8388608u

#endif
