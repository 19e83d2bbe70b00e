#include <string.h>

#include "domain/domain.h"
#include "onboard/v1/health.pb-c.h"
#include "rpc/handlers.h"

static ob_err check(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Onboard__V1__HealthCheckRequest *in = (const void *)req;
	const ob_rpc_env *env = call->env;
	Onboard__V1__HealthCheckResponse *out =
	        ob_arena_message(&call->arena, &onboard__v1__health_check_response__descriptor);
	if (out == NULL)
		return OB_ENOMEM;
	bool known = in->service[0] == '\0';
	for (size_t i = 0; !known && i < ob_dispatch_n_services(env->dispatch); i++)
		known = strcmp(ob_dispatch_service(env->dispatch, i)->name, in->service) == 0;
	if (!known)
		out->status = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
	else if (call->draining)
		out->status = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	else if (env->domain != NULL && ob_domain_store_health(env->domain) != OB_OK)
		/* health.proto: NOT_SERVING when the store cannot be reached or
		 * writes fail (a full disk, a sync failing: domain.h). */
		out->status = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	else
		out->status = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	*resp = &out->base;
	return OB_OK;
}

ob_err ob_health_register(ob_dispatch *d)
{
	static const ob_method methods[] = {
	        {"Check", check, OB_METHOD_SERVE_WHILE_DRAINING, NULL},
	};
	return ob_dispatch_add_methods(d, &onboard__v1__health__descriptor, methods,
	                               sizeof(methods) / sizeof(methods[0]));
}
