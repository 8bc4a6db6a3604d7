/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --version of rts-runner and rtsctl: package and ABI versions, io_uring and kernel features. */
#ifndef RTS_COMMON_VERSION_REPORT_H
#define RTS_COMMON_VERSION_REPORT_H

#include <stdio.h>

/*
 * Print "<prog> <version>", the handler ABI version, the liburing version built against,
 * the kernel release, what io_uring offers (setup result, IORING_FEAT_* flags, the opcodes
 * the data path uses) and whether configfs and target_core_user are present. Probes are
 * read-only and need no privileges; each line says "unavailable (reason)" when a probe fails.
 */
void rts_print_version(FILE *f, const char *prog, const char *version);

#endif
