#include "keeld.h"
int keeld_cmd_run(int c, char **v)
{
	return 2;
}
