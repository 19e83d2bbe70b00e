#include "rpc/handlers.h"

ob_err ob_handlers_register(ob_dispatch *d)
{
	ob_err err = ob_health_register(d);
	if (err == OB_OK)
		err = ob_reflection_register(d);
	if (err == OB_OK)
		err = ob_onboarding_register(d);
	if (err == OB_OK)
		err = ob_admin_register(d);
	return err;
}
