/*
 * keel-netback: the network backend daemon.  Serves every "vif" under
 * /local/domain/<self>/backend/vif through the real transport (keeld's
 * grant maps and dom0-bound event channels); without keeld or the store it
 * refuses to start and says why.  keel-dom0-up starts it; real guests'
 * netfronts are served in tests/integration/net-*.sh.
 */
#include "../common/xenbus_back.h"
#include "netback.h"

int main(int argc, char **argv)
{
	return bk_backend_main(argc, argv, "keel-netback", &net_xenbus_driver);
}
