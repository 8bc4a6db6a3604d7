/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test stand-in for main.c's log functions: records every message (after level filtering
 * is NOT applied, so tests see everything) and forwards to runner_log_emit(). */
#ifndef T_RUNNER_LOG_H
#define T_RUNNER_LOG_H

#include <stdbool.h>

/* Forget recorded messages. */
void t_log_clear(void);
/* Whether a recorded message at @p prio (or any prio if < 0) contains @p needle. */
bool t_log_has(int prio, const char *needle);
/* Number of recorded messages. */
unsigned int t_log_count(void);

#endif
