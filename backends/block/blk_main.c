/*
 * keel-blkback: the block backend daemon.  Serves every "vbd" under
 * /local/domain/<self>/backend/vbd through the real transport (keeld's
 * grant mapping and event channels).  Until keeld offers those to dom0
 * processes it refuses to start and says why; the loopback test transport
 * is never used here (tests reach blkback through it instead).
 */
#include "../common/xenbus_back.h"
#include "blkback.h"

int main(int argc, char **argv)
{
	return bk_backend_main(argc, argv, "keel-blkback", &blk_xenbus_driver);
}
