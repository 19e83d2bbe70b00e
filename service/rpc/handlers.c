#include "rpc/handlers.h"

/* The methods that may run on the thread that read them (OB_METHOD_QUICK):
 * reads of one row or of a cohort's counters, and the health check. Lists,
 * logins and every write go to the workers. */
static const char *const quick_methods[] = {
        "/onboard.v1.Health/Check",
        "/onboard.v1.Onboarding/GetApplication",
        "/onboard.v1.Onboarding/GetCohort",
};

/* The reads (OB_METHOD_NO_SIDE_EFFECTS), which the HTTP face also serves by
 * GET: the methods the .proto files mark `idempotency_level =
 * NO_SIDE_EFFECTS`, which tests/integration/http_get.py holds to this list. */
static const char *const read_methods[] = {
        "/onboard.v1.Health/Check",
        "/onboard.v1.Reflection/ListServices",
        "/onboard.v1.Reflection/GetFileDescriptorSet",
        "/onboard.v1.Onboarding/GetApplication",
        "/onboard.v1.Onboarding/ListApplications",
        "/onboard.v1.Onboarding/GetCohort",
        "/onboard.v1.Onboarding/ListCohorts",
        "/onboard.v1.Admin/ListAuditEvents",
};

/* The services, each registering its methods. */
static ob_err (*const services[])(ob_dispatch *d) = {
        ob_health_register,
        ob_reflection_register,
        ob_onboarding_register,
        ob_admin_register,
};

ob_err ob_handlers_register(ob_dispatch *d)
{
	ob_err err = OB_OK;
	for (size_t i = 0; err == OB_OK && i < sizeof(services) / sizeof(services[0]); i++)
		err = services[i](d);
	for (size_t i = 0; err == OB_OK && i < sizeof(quick_methods) / sizeof(quick_methods[0]);
	     i++)
		err = ob_dispatch_mark(d, quick_methods[i], OB_METHOD_QUICK);
	for (size_t i = 0; err == OB_OK && i < sizeof(read_methods) / sizeof(read_methods[0]); i++)
		err = ob_dispatch_mark(d, read_methods[i], OB_METHOD_NO_SIDE_EFFECTS);
	return err;
}
