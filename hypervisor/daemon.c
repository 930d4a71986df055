#include "keeld.h"
int keeld_cmd_daemon(int c, char **v)
{
	return 2;
}
