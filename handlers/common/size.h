/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Size strings for handler cfgstrings: "4096", "64M", "1.5G" is refused (integers only). */
#ifndef RTS_HANDLERS_SIZE_H
#define RTS_HANDLERS_SIZE_H

/* rts_parse_size() is part of the SDK (<rts/cfgstring.h>) so out-of-tree handlers parse
 * sizes exactly like ours. */
#include <rts/cfgstring.h>

#endif
