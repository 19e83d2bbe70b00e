/*
 * err.h: the one error convention of onboardd.
 *
 * Every fallible function returns an ob_err and passes its results through
 * out-parameters. Foreign codes are translated once, where they enter: SQLite
 * codes in store/, nng codes in rpc/server.c, errno values here. ob_err becomes a wire status
 * code in exactly one table (rpc/status.c).
 */
#ifndef OB_BASE_ERR_H
#define OB_BASE_ERR_H

#include "attr.h" /* OB_NODISCARD, OB_PRINTF: common/, shared with the client */

typedef enum ob_err {
	OB_OK = 0,
	OB_EINVAL,     /* the request is malformed or a field is invalid */
	OB_ENOTFOUND,  /* no such application, cohort, method... */
	OB_EEXIST,     /* already exists (one application per SIREN and cohort) */
	OB_EPRECOND,   /* the state does not allow it (illegal transition) */
	OB_ESTALE,     /* the caller's version is not the current one */
	OB_ETOOBIG,    /* over a size or count cap */
	OB_ELIMIT,     /* rate or connection limit reached */
	OB_ENOMEM,     /* out of memory */
	OB_ETIMEDOUT,  /* the deadline passed */
	OB_EUNAVAIL,   /* shutting down, or the store is busy: retry later */
	OB_ENOTSUP,    /* method or feature not implemented */
	OB_EAUTH,      /* missing or bad credentials */
	OB_EPERM,      /* authenticated, but the role does not allow it */
	OB_ECORRUPT,   /* stored data failed a check */
	OB_EIO,        /* the store or the OS failed */
	OB_EINTERNAL,  /* a bug: an invariant did not hold */
	OB_ENOSPC,     /* the disk is full: retry once space is freed */
	OB_ERR_COUNT_, /* not an error: the number of codes */
} ob_err;

/* A static English description of err; never NULL. */
const char *ob_strerror(ob_err err);

/* An errno value (positive or negative) as an ob_err: the one translation of
 * the operating system's codes. */
ob_err ob_err_from_errno(int e);

#endif
