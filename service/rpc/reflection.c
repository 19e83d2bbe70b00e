#include "onboard/v1/reflection.pb-c.h"
#include "rpc/handlers.h"

static ob_err list_services(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	const ob_rpc_env *env = call->env;
	ob_arena *a = &call->arena;
	Onboard__V1__ListServicesResponse *out =
	        ob_arena_message(a, &onboard__v1__list_services_response__descriptor);
	size_t n = ob_dispatch_n_services(env->dispatch);
	if (out == NULL || (out->services = ob_arena_alloc(a, n * sizeof(*out->services))) == NULL)
		return OB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCServiceDescriptor *sd = ob_dispatch_service(env->dispatch, i);
		Onboard__V1__ServiceInfo *si =
		        ob_arena_message(a, &onboard__v1__service_info__descriptor);
		if (si == NULL ||
		    (si->methods = ob_arena_alloc(a, sd->n_methods * sizeof(*si->methods))) == NULL)
			return OB_ENOMEM;
		si->name = (char *)sd->name;
		for (unsigned m = 0; m < sd->n_methods; m++) {
			const ProtobufCMethodDescriptor *md = &sd->methods[m];
			Onboard__V1__MethodInfo *mi =
			        ob_arena_message(a, &onboard__v1__method_info__descriptor);
			if (mi == NULL || (mi->full_name = ob_arena_printf(a, "/%s/%s", sd->name,
			                                                   md->name)) == NULL)
				return OB_ENOMEM;
			mi->name = (char *)md->name;
			mi->input_type = (char *)md->input->name;
			mi->output_type = (char *)md->output->name;
			si->methods[si->n_methods++] = mi;
		}
		out->services[out->n_services++] = si;
	}
	*resp = &out->base;
	return OB_OK;
}

static ob_err get_fds(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Onboard__V1__GetFileDescriptorSetResponse *out = ob_arena_message(
	        &call->arena, &onboard__v1__get_file_descriptor_set_response__descriptor);
	if (out == NULL)
		return OB_ENOMEM;
	out->file_descriptor_set.data = (uint8_t *)ob_descriptor_set;
	out->file_descriptor_set.len = ob_descriptor_set_len;
	*resp = &out->base;
	return OB_OK;
}

ob_err ob_reflection_register(ob_dispatch *d)
{
	static const ob_method methods[] = {
	        {"ListServices", list_services, 0, NULL},
	        {"GetFileDescriptorSet", get_fds, 0, NULL},
	};
	return ob_dispatch_add_methods(d, &onboard__v1__reflection__descriptor, methods,
	                               sizeof(methods) / sizeof(methods[0]));
}
