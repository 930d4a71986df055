/*
 * Domain lifecycle commands: create (with -n dry run, -c, -p, -f, -q and
 * key=value overrides), destroy, shutdown, reboot, pause, unpause, rename,
 * save and restore.  Arguments and configurations are parsed and checked
 * here; the work itself is a call through the toolstack backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"

/* Append s and a newline to a growing buffer (xl's string_realloc_append). */
int main_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"defconfig", 1, 0, 'f'},
		{"dryrun", 0, 0, 'n'},
		{"ignore-global-affinity-masks", 0, 0, 'i'},
		{"quiet", 0, 0, 'q'},
		{"vncviewer", 0, 0, 'V'},
		{"vncviewer-autopass", 0, 0, 'A'},
		XL_COMMON_LONG_OPTS,
	};
	const char *config_file = NULL;
	char *extra = NULL;
	bool console = false, paused = false, quiet = false, debug = false, monitor = true,
	     foreground = false, vncviewer = false, vncautopass = false;
	struct xlcfg_domain dom;
	struct xl_backend *be;
	uint32_t domid;
	int opt, rc;

	/* xl takes a first argument that is neither an option nor key=value as the file. */
	if (argv[1] && argv[1][0] != '-' && !strchr(argv[1], '=')) {
		config_file = argv[1];
		argc--;
		argv++;
	}
	XL_FOREACH_OPT(opt, "AFVcdef:inpq", opts, "create", 0)
	{
	case 'c':
		console = true;
		break;
	case 'd':
		debug = true;
		break;
	case 'f':
		config_file = optarg;
		break;
	case 'n':
		xl_dryrun_only = true;
		break;
	case 'p':
		paused = true;
		break;
	case 'q':
		quiet = true;
		break;
	case 'e':
		monitor = false;
		break;
	case 'F':
		foreground = true;
		break;
	case 'V':
		vncviewer = true;
		break;
	case 'A':
		vncviewer = vncautopass = true;
		break;
	default: /* i: accepted, nothing to do in Keel */
		break;
	}
	rc = xl_config_args(argc, argv, &config_file, &extra, "create");
	if (rc)
		return rc;
	if (!config_file) {
		fprintf(stderr, "Config file not specified\n");
		free(extra);
		return 6; /* xl: -ERROR_INVAL */
	}
	rc = xl_load_config(config_file, extra, &dom, quiet);
	free(extra);
	if (rc)
		return rc;
	if (xl_dryrun_only || debug) {
		xlcfg_domain_to_json(&dom, xl_dryrun_only ? stdout : stderr);
		fflush(stdout);
	}
	if (xl_dryrun_only) {
		xlcfg_domain_clear(&dom);
		return 0;
	}
	/* libxl applies its defaults at creation, after the dry-run print */
	if (xlcfg_domain_set_defaults(&dom, stderr) < 0) {
		xlcfg_domain_clear(&dom);
		return 1;
	}
	be = xl_backend_connect();
	if (!be) {
		xlcfg_domain_clear(&dom);
		return 1;
	}
	/*
	 * As xl: with -c the console is attached while the domain is still
	 * paused, so none of its output is missed, and only then is it unpaused.
	 * The monitor starts once the console is done (detached, or the domain
	 * stopped), so it cannot clean the domain away under the console.
	 */
	rc = be->ops->create ? be->ops->create(be->handle, &dom, paused || console, &domid)
			     : -ENOSYS;
	if (rc < 0) {
		rc = xl_backend_fail("creating the domain", rc);
		goto out;
	}
	/* xl's autoconnect_vncviewer: the viewer in the background (the
	 * domain's VNC address is in the store once create returns) */
	if (vncviewer)
		xl_vncviewer_autoconnect(be, domid, vncautopass);
	if (console) {
		int fd = -1;

		rc = be->ops->console_open ? be->ops->console_open(be->handle, domid, "pv", 0, &fd)
					   : -ENOSYS;
		if (rc == 0 && !paused)
			rc = be->ops->unpause ? be->ops->unpause(be->handle, domid) : -ENOSYS;
		if (rc == 0)
			rc = xl_console_relay(fd, 0x1d);
		else if (fd >= 0)
			close(fd);
		if (rc < 0) {
			rc = xl_backend_fail("attaching the console", rc);
			goto out;
		}
	}
	if (monitor) {
		rc = xl_monitor_start(be, &dom, domid, foreground);
		if (rc < 0)
			rc = xl_backend_fail("starting the domain monitor", rc);
		else
			rc = foreground ? rc : 0;
	}
out:
	xl_backend_disconnect(be);
	xlcfg_domain_clear(&dom);
	return rc;
}

/* The common shape of "one domain in, one backend call" commands. */
static int one_domain_op(const char *what, const char *qualifier,
			 int (*op)(struct xl_backend *be, uint32_t domid, void *arg), void *arg)
{
	struct xl_backend *be = xl_backend_connect();
	uint32_t domid;
	int rc;

	if (!be)
		return 1;
	rc = xl_find_domain(be, qualifier, &domid);
	if (rc == 0) {
		rc = op(be, domid, arg);
		rc = rc == -ECANCELED ? 1 : rc < 0 ? xl_backend_fail(what, rc) : 0;
	} else {
		rc = 1;
	}
	xl_backend_disconnect(be);
	return rc;
}

static int op_destroy(struct xl_backend *be, uint32_t domid, void *arg)
{
	if (domid == 0 && !*(bool *)arg) {
		fprintf(stderr, "Not destroying domain 0; use -f to force.\n"
				"This can only be done when using a disaggregated "
				"hardware domain and toolstack.\n\n");
		return -ECANCELED; /* reported already */
	}
	return be->ops->destroy ? be->ops->destroy(be->handle, domid) : -ENOSYS;
}

int main_destroy(int argc, char **argv)
{
	bool force = false;
	int opt;

	XL_FOREACH_OPT(opt, "f", NULL, "destroy", 1)
	{
	case 'f':
		force = true;
		break;
	}
	return one_domain_op("destroying the domain", argv[optind], op_destroy, &force);
}

static int op_pause(struct xl_backend *be, uint32_t domid, void *arg)
{
	return be->ops->pause ? be->ops->pause(be->handle, domid) : -ENOSYS;
}

static int op_unpause(struct xl_backend *be, uint32_t domid, void *arg)
{
	return be->ops->unpause ? be->ops->unpause(be->handle, domid) : -ENOSYS;
}

int main_pause(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "pause", 1)
	{
	}
	return one_domain_op("pausing the domain", argv[optind], op_pause, NULL);
}

/* libxl_send_sysrq: the key goes to the guest's control/sysrq. */
static int op_sysrq(struct xl_backend *be, uint32_t domid, void *arg)
{
	return be->ops->sysrq ? be->ops->sysrq(be->handle, domid, *(const char *)arg) : -ENOSYS;
}

int main_sysrq(int argc, char **argv)
{
	const char *key;
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "sysrq", 2)
	{
	}
	key = argv[optind + 1];
	if (!key[0] || key[1]) {
		fprintf(stderr, "Invalid sysrq.\n\n");
		xl_help("sysrq");
		return 1;
	}
	return one_domain_op("sending a sysrq", argv[optind], op_sysrq, (void *)key);
}

int main_unpause(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "unpause", 1)
	{
	}
	return one_domain_op("unpausing the domain", argv[optind], op_unpause, NULL);
}

static int op_rename(struct xl_backend *be, uint32_t domid, void *arg)
{
	return be->ops->rename ? be->ops->rename(be->handle, domid, arg) : -ENOSYS;
}

int main_rename(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "rename", 2)
	{
	}
	if (!*argv[optind + 1] || strchr(argv[optind + 1], '/')) {
		fprintf(stderr, "invalid domain name `%s'\n", argv[optind + 1]);
		return 1;
	}
	return one_domain_op("renaming the domain", argv[optind], op_rename, argv[optind + 1]);
}

/*
 * -w: poll the backend until every domain asked has shut down or gone,
 * reporting each as xl does.  (xl waits on libxl events; a backend list is
 * what the seam offers.)
 */
static int wait_for_shutdowns(struct xl_backend *be, const uint32_t *ids, int nr)
{
	bool *done = calloc((size_t)nr + 1, sizeof(bool));
	int left = nr;

	if (!done)
		return xl_backend_fail("waiting", -ENOMEM);
	fprintf(stderr, "Waiting for %d domains\n", nr);
	while (left > 0) {
		struct xl_domain_info *d = NULL;
		int n = 0, r = be->ops->list(be->handle, &d, &n);

		if (r < 0) {
			free(done);
			return xl_backend_fail("listing domains", r);
		}
		for (int i = 0; i < nr; i++) {
			int j;

			if (done[i])
				continue;
			for (j = 0; j < n && d[j].domid != ids[i]; j++)
				;
			if (j == n) {
				fprintf(stderr, "Domain %u has been destroyed\n", ids[i]);
			} else if (d[j].shutdown) {
				fprintf(stderr, "Domain %u has been shut down, reason code %d\n",
					ids[i], d[j].shutdown_reason);
			} else {
				continue;
			}
			done[i] = true;
			left--;
		}
		free(d);
		if (left)
			usleep(100 * 1000);
	}
	free(done);
	return 0;
}

/*
 * One request through the guest's PV control interface, with xl's messages
 * when it has none (libxl's ERROR_NOPARAVIRT) and its "shutdown failed
 * (rc=N)" with libxl's error numbers.  -F falls back to an ACPI button
 * event, which only HVM guests have: the seam has no trigger operation, so
 * that fails as libxl_send_trigger does for a PV domain (ERROR_FAIL).
 */
static int pvcontrol_request(struct xl_backend *be, uint32_t domid, enum xl_shutdown_kind kind,
			     bool fallback)
{
	bool reboot = kind == XL_SHUTDOWN_REBOOT;
	int r = be->ops->shutdown(be->handle, domid, kind), rc = 0;

	if (r == -EOPNOTSUPP) {
		if (fallback) {
			fprintf(stderr,
				"PV control interface not available: sending ACPI %s "
				"button event.\n",
				reboot ? "reset" : "power");
			rc = -3; /* ERROR_FAIL */
		} else {
			fprintf(stderr,
				"PV control interface not available: external graceful "
				"%s not possible.\n",
				reboot ? "reboot" : "shutdown");
			fprintf(stderr, "Use \"-F\" to fallback to ACPI %s event.\n",
				reboot ? "reset" : "power");
			rc = -10; /* ERROR_NOPARAVIRT */
		}
	} else if (r == -ETIMEDOUT) {
		rc = -9; /* ERROR_TIMEDOUT */
	} else if (r == -ENOENT || r == -ESRCH) {
		rc = -21; /* ERROR_DOMAIN_NOTFOUND */
	} else if (r < 0) {
		fprintf(stderr, "xl: %s: %s\n", reboot ? "reboot" : "shutdown", strerror(-r));
		rc = -3;
	}
	if (rc)
		fprintf(stderr, "%s failed (rc=%d)\n", reboot ? "reboot" : "shutdown", rc);
	return rc ? 1 : 0;
}

/* shutdown and reboot share xl's options: -a, -w, -F. */
static int shutdown_or_reboot(int argc, char **argv, enum xl_shutdown_kind kind)
{
	static const struct option opts[] = {
		{"all", 0, 0, 'a'},
		{"wait", 0, 0, 'w'},
		XL_COMMON_LONG_OPTS,
	};
	const char *name = kind == XL_SHUTDOWN_REBOOT ? "reboot" : "shutdown";
	bool all = false, wait = false, fallback = false;
	struct xl_domain_info *doms = NULL;
	uint32_t *ids = NULL;
	struct xl_backend *be;
	int opt, rc = 0, n = 0, nr = 0;

	XL_FOREACH_OPT(opt, "awF", opts, name, 0)
	{
	case 'a':
		all = true;
		break;
	case 'w':
		wait = true;
		break;
	case 'F':
		fallback = true;
		break;
	}
	if (!all && optind >= argc) {
		fprintf(stderr, "You must specify -a or a domain id.\n\n");
		xl_help(name);
		return 2;
	}
	if (all && optind < argc) {
		fprintf(stderr, "You must specify -a or a domain id, not both.\n\n");
		xl_help(name);
		return 2;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (!be->ops->shutdown || !be->ops->list) {
		rc = xl_backend_fail(name, -ENOSYS);
		goto out;
	}
	if (all) {
		int r = be->ops->list(be->handle, &doms, &n);

		if (r < 0) {
			rc = xl_backend_fail("listing domains", r);
			goto out;
		}
	}
	ids = calloc((size_t)n + 1, sizeof(*ids));
	if (!ids) {
		rc = xl_backend_fail(name, -ENOMEM);
		goto out;
	}
	if (all) {
		for (int i = 0; i < n; i++)
			if (doms[i].domid != 0)
				ids[nr++] = doms[i].domid;
	} else if (xl_find_domain(be, argv[optind], &ids[0]) < 0) {
		rc = 1;
		goto out;
	} else {
		nr = 1;
	}
	for (int i = 0; i < nr; i++) {
		fprintf(stderr, "%s domain %u\n",
			kind == XL_SHUTDOWN_REBOOT ? "Rebooting" : "Shutting down", ids[i]);
		rc = pvcontrol_request(be, ids[i], kind, fallback);
		if (rc)
			goto out;
	}
	if (wait && nr)
		rc = wait_for_shutdowns(be, ids, nr);
out:
	free(doms);
	free(ids);
	xl_backend_disconnect(be);
	return rc;
}

int main_shutdown(int argc, char **argv)
{
	return shutdown_or_reboot(argc, argv, XL_SHUTDOWN_POWEROFF);
}

int main_reboot(int argc, char **argv)
{
	return shutdown_or_reboot(argc, argv, XL_SHUTDOWN_REBOOT);
}

int main_save(int argc, char **argv)
{
	bool leave_running = false, leave_paused = false;
	struct xl_backend *be;
	uint32_t domid;
	int opt, rc;

	XL_FOREACH_OPT(opt, "cpD", NULL, "save", 2)
	{
	case 'c':
		leave_running = true;
		break;
	case 'p':
		leave_paused = true;
		break;
	}
	if (argc - optind > 3) {
		xl_help("save");
		return 2;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	if (xl_find_domain(be, argv[optind], &domid) < 0) {
		rc = 1;
	} else {
		rc = be->ops->save ? be->ops->save(be->handle, domid, argv[optind + 1],
						   leave_running, leave_paused)
				   : -ENOSYS;
		rc = rc < 0 ? xl_backend_fail("saving the domain", rc) : 0;
	}
	xl_backend_disconnect(be);
	return rc;
}

int main_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{"vncviewer", 0, 0, 'V'},
		{"vncviewer-autopass", 0, 0, 'A'},
		XL_COMMON_LONG_OPTS,
	};
	const char *config = NULL, *checkpoint;
	struct xlcfg_domain dom, *override = NULL;
	bool paused = false, console = false, monitor = true, foreground = false;
	struct xl_backend *be;
	uint32_t domid;
	int opt, rc;

	XL_FOREACH_OPT(opt, "FcpdeVA", opts, "restore", 1)
	{
	case 'p':
		paused = true;
		break;
	case 'c':
		console = true;
		break;
	case 'e':
		monitor = false;
		break;
	case 'F':
		foreground = true;
		break;
	default:
		break;
	}
	if (argc - optind == 1) {
		checkpoint = argv[optind];
	} else if (argc - optind == 2) {
		config = argv[optind];
		checkpoint = argv[optind + 1];
	} else {
		xl_help("restore");
		return 2;
	}
	if (config) {
		rc = xl_load_config(config, NULL, &dom, false);
		if (rc)
			return rc;
		override = &dom;
	}
	be = xl_backend_connect();
	if (!be) {
		rc = 1;
	} else {
		/* as create: with -c the console is attached before the domain runs */
		rc = be->ops->restore ? be->ops->restore(be->handle, checkpoint, override,
							 paused || console, &domid)
				      : -ENOSYS;
		rc = rc < 0 ? xl_backend_fail("restoring the domain", rc) : 0;
		if (rc == 0 && console) {
			int fd = -1, r;

			r = be->ops->console_open
				    ? be->ops->console_open(be->handle, domid, "pv", 0, &fd)
				    : -ENOSYS;
			if (r == 0 && !paused)
				r = be->ops->unpause ? be->ops->unpause(be->handle, domid)
						     : -ENOSYS;
			if (r == 0)
				r = xl_console_relay(fd, 0x1d);
			else if (fd >= 0)
				close(fd);
			if (r < 0)
				rc = xl_backend_fail("attaching the console", r);
		}
		/* the restored domain's on_* actions, from its saved configuration */
		if (rc == 0 && monitor && be->ops->get_config) {
			struct xlcfg_domain cfg;

			if (be->ops->get_config(be->handle, domid, &cfg) == 0) {
				int r = xl_monitor_start(be, &cfg, domid, foreground);

				if (r < 0)
					rc = xl_backend_fail("starting the domain monitor", r);
				else
					rc = foreground ? r : 0;
				xlcfg_domain_clear(&cfg);
			}
		}
		xl_backend_disconnect(be);
	}
	if (override)
		xlcfg_domain_clear(override);
	return rc;
}
