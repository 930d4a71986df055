/*
 * `xl console [-t pv|serial|vuart] [-n NUM] [-e ESCAPE] <Domain>`: attach
 * the terminal to a domain's console until the escape character (Ctrl-] by
 * default, as xenconsole) is typed.  The console ring lives in the console
 * backend; the attachment is a backend call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl.h"
#include "xl_backend.h"

/* "^]"-style or a single character, as xenconsole's -e takes it. */
static int parse_escape(const char *s)
{
	if (s[0] == '^' && s[1] && !s[2])
		return s[1] & 0x1f;
	if (s[0] && !s[1])
		return (unsigned char)s[0];
	return -1;
}

int main_console(int argc, char **argv)
{
	const char *type = "pv";
	int num = 0, escape = 0x1d, opt, rc = 0, r;
	struct xl_backend *be;
	uint32_t domid;
	char *end;

	XL_FOREACH_OPT(opt, "n:t:e:", NULL, "console", 1)
	{
	case 't':
		if (strcmp(optarg, "pv") && strcmp(optarg, "serial") && strcmp(optarg, "vuart")) {
			fprintf(stderr, "console type supported are: pv, serial, vuart\n");
			return 2;
		}
		type = optarg;
		break;
	case 'n':
		num = (int)strtol(optarg, &end, 10);
		if (*end || num < 0) {
			fprintf(stderr, "Invalid console number: %s\n", optarg);
			return 2;
		}
		break;
	case 'e':
		escape = parse_escape(optarg);
		if (escape < 0) {
			fprintf(stderr, "Invalid escape character: %s\n", optarg);
			return 2;
		}
		break;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (xl_find_domain(be, argv[optind], &domid) < 0) {
		rc = 1;
	} else {
		r = be->ops->console ? be->ops->console(be->handle, domid, type, num, escape)
				     : -ENOSYS;
		if (r < 0)
			rc = xl_backend_fail("attaching the console", r);
	}
	xl_backend_disconnect(be);
	return rc;
}
