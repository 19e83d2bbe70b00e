#include "rpc/status.h"

static const Onboard__V1__Code codes[OB_ERR_COUNT_] = {
        [OB_OK] = ONBOARD__V1__CODE__OK,
        [OB_EINVAL] = ONBOARD__V1__CODE__INVALID_ARGUMENT,
        [OB_ENOTFOUND] = ONBOARD__V1__CODE__NOT_FOUND,
        [OB_EEXIST] = ONBOARD__V1__CODE__ALREADY_EXISTS,
        [OB_EPRECOND] = ONBOARD__V1__CODE__FAILED_PRECONDITION,
        [OB_ESTALE] = ONBOARD__V1__CODE__ABORTED,
        [OB_ETOOBIG] = ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
        [OB_ELIMIT] = ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
        [OB_ENOMEM] = ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
        [OB_ETIMEDOUT] = ONBOARD__V1__CODE__DEADLINE_EXCEEDED,
        [OB_EUNAVAIL] = ONBOARD__V1__CODE__UNAVAILABLE,
        [OB_ENOTSUP] = ONBOARD__V1__CODE__UNIMPLEMENTED,
        [OB_EAUTH] = ONBOARD__V1__CODE__UNAUTHENTICATED,
        [OB_EPERM] = ONBOARD__V1__CODE__PERMISSION_DENIED,
        [OB_ECORRUPT] = ONBOARD__V1__CODE__DATA_LOSS,
        [OB_EIO] = ONBOARD__V1__CODE__INTERNAL,
        [OB_EINTERNAL] = ONBOARD__V1__CODE__INTERNAL,
        [OB_ENOSPC] = ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
};

/* When a caller may try again after a failure that passes by itself: the store that
 * cannot write now (its disk failing, read-only or slow) and the full disk, which an
 * operator or a purge frees. A refusal that no wait changes (a request too large) has
 * none. */
static const uint32_t retry_after_ms[OB_ERR_COUNT_] = {
        [OB_EUNAVAIL] = 1000,
        [OB_ENOSPC] = 5000,
};

Onboard__V1__Code ob_status_from_err(ob_err err)
{
	if ((unsigned)err >= OB_ERR_COUNT_)
		return ONBOARD__V1__CODE__UNKNOWN;
	return codes[err];
}

uint32_t ob_status_retry_after_ms(ob_err err)
{
	return (unsigned)err < OB_ERR_COUNT_ ? retry_after_ms[err] : 0;
}

const char *ob_status_name(Onboard__V1__Code code)
{
	const ProtobufCEnumValue *v =
	        protobuf_c_enum_descriptor_get_value(&onboard__v1__code__descriptor, (int)code);
	return v != NULL ? v->name : "UNKNOWN";
}
