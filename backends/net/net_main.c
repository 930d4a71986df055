/*
 * keel-netback: the network backend daemon.  Serves every "vif" under
 * /local/domain/<self>/backend/vif through the real transport; until keeld
 * offers grant mapping and event channels to dom0 processes it refuses to
 * start and says why.
 */
#include "../common/xenbus_back.h"
#include "netback.h"

int main(int argc, char **argv)
{
	return bk_backend_main(argc, argv, "keel-netback", &net_xenbus_driver);
}
