#include "base/err.h"

#include <errno.h>

#include <stddef.h>

static const char *const descriptions[OB_ERR_COUNT_] = {
        [OB_OK] = "success",
        [OB_EINVAL] = "invalid argument",
        [OB_ENOTFOUND] = "not found",
        [OB_EEXIST] = "already exists",
        [OB_EPRECOND] = "failed precondition",
        [OB_ESTALE] = "stale version",
        [OB_ETOOBIG] = "too big",
        [OB_ELIMIT] = "limit reached",
        [OB_ENOMEM] = "out of memory",
        [OB_ETIMEDOUT] = "deadline exceeded",
        [OB_EUNAVAIL] = "unavailable",
        [OB_ENOTSUP] = "not implemented",
        [OB_EAUTH] = "unauthenticated",
        [OB_EPERM] = "permission denied",
        [OB_ECORRUPT] = "data corrupt",
        [OB_EIO] = "input/output error",
        [OB_EINTERNAL] = "internal error",
        [OB_ENOSPC] = "no space left on the disk",
};

const char *ob_strerror(ob_err err)
{
	if ((unsigned)err >= OB_ERR_COUNT_ || descriptions[err] == NULL)
		return "unknown error";
	return descriptions[err];
}

ob_err ob_err_from_errno(int e)
{
	switch (e < 0 ? -e : e) {
	case 0:
		return OB_OK;
	case ENOENT:
	case ENOTDIR:
		return OB_ENOTFOUND;
	case EACCES:
	case EPERM:
	case EROFS:
	case ELOOP:
		return OB_EPERM;
	case EEXIST:
		return OB_EEXIST;
	case ENOMEM:
		return OB_ENOMEM;
	case EINVAL:
	case ENAMETOOLONG:
		return OB_EINVAL;
	case EFBIG:
		return OB_ETOOBIG;
	case ENOSPC:
	case EDQUOT:
		return OB_ENOSPC;
	default:
		return OB_EIO;
	}
}
