/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file log.h
 * @brief The one log-priority vocabulary of librts and librts-tcmu.
 *
 * Both libraries hand log messages to a callback with a priority from enum rts_log_prio,
 * whose values are the syslog ones (RTS_LOG_ERR == LOG_ERR, ...), so a callback may pass
 * them to syslog(3) or sd_journal_print(3) unchanged. The callbacks differ in what else
 * they receive: librts's rts_log_fn (ctx.h) gets the source location and a format,
 * librts-tcmu's rts_dev_log_fn (device.h) a formatted message and the device name.
 */
#ifndef RTS_LOG_H
#define RTS_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/** Log priorities: the syslog(3) values. */
enum rts_log_prio {
	RTS_LOG_EMERG = 0,   /**< LOG_EMERG */
	RTS_LOG_ALERT = 1,   /**< LOG_ALERT */
	RTS_LOG_CRIT = 2,    /**< LOG_CRIT */
	RTS_LOG_ERR = 3,     /**< LOG_ERR */
	RTS_LOG_WARNING = 4, /**< LOG_WARNING */
	RTS_LOG_NOTICE = 5,  /**< LOG_NOTICE */
	RTS_LOG_INFO = 6,    /**< LOG_INFO */
	RTS_LOG_DEBUG = 7,   /**< LOG_DEBUG */
};

#ifdef __cplusplus
}
#endif

#endif
