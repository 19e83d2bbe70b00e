#include "onboard/v1/onboarding.pb-c.h"
#include "rpc/handlers.h"

ob_err ob_onboarding_register(ob_dispatch *d)
{
	/* Methods without a handler answer UNIMPLEMENTED until the domain lands. */
	return ob_dispatch_add_service(d, &onboard__v1__onboarding__descriptor);
}
