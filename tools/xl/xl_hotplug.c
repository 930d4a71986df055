/*
 * Hotplug scripts, run as libxl runs them on Linux (libxl_linux.c's
 * get_hotplug_env and libxl__get_hotplug_script_info): for a device whose
 * backend directory names a `script` (script= in a vif or disk spec, or
 * xl.conf's vif.default.script), once the backend has taken the device up
 * (InitWait) and again when it is removed, after the backend has closed and
 * before its nodes go.  Arguments: vif "online"/"offline" "type_if=vif",
 * vbd "add"/"remove".  Environment: script, XENBUS_TYPE, XENBUS_PATH
 * (backend/KIND/DOMID/DEVID, relative to dom0's home in the store),
 * XENBUS_BASE_PATH=backend, and for a vif netdev (its gatewaydev) and
 * vif=vifDOMID.DEVID; XENSTORED_PATH points Xen's xenstore-* tools the
 * scripts call at Keel's store when the caller has not set it.  The script
 * writes hotplug-status (and hotplug-error) itself; a script that fails,
 * or runs longer than libxl's 40 s, fails the device with its
 * hotplug-error.  Only backends in dom0 are handled here: a driver
 * domain's own toolstack runs its scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xl_backend_keel.h"

#define XLK_HOTPLUG_TIMEOUT_MS 40000 /* libxl's LIBXL_HOTPLUG_TIMEOUT */

/* In the child: libxl's environment for the script, then exec it. */
static void xlk_hotplug_exec(struct xlk *k, const char *script, const char *kind, unsigned domid,
			     unsigned devid, const char *action, const char *gatewaydev)
{
	char path[96], vif[32], store[PATH_MAX + 32];
	int fd = open("/dev/null", O_RDONLY);
	bool is_vif = !strcmp(kind, "vif");

	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(2, 1);
	snprintf(path, sizeof(path), "backend/%s/%u/%u", kind, domid, devid);
	snprintf(vif, sizeof(vif), "vif%u.%u", domid, devid);
	snprintf(store, sizeof(store), "%s/xenstored/socket", k->rundir);
	if (setenv("script", script, 1) || setenv("XENBUS_TYPE", kind, 1) ||
	    setenv("XENBUS_PATH", path, 1) || setenv("XENBUS_BASE_PATH", "backend", 1) ||
	    (is_vif &&
	     (setenv("netdev", gatewaydev ? gatewaydev : "", 1) || setenv("vif", vif, 1))) ||
	    setenv("XENSTORED_PATH", store, 0))
		_exit(127);
	execv(script,
	      (char *const[]){(char *)script, (char *)action, is_vif ? "type_if=vif" : NULL, NULL});
	fprintf(stderr, "xl: cannot run hotplug script %s: %s\n", script, strerror(errno));
	_exit(127);
}

static long long xlk_hotplug_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* The script's exit status (-1: it was killed, or did not end in time). */
static int xlk_hotplug_wait(pid_t pid, const char *what)
{
	long long end = xlk_hotplug_now_ms() + XLK_HOTPLUG_TIMEOUT_MS;
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (xlk_hotplug_now_ms() >= end) {
			fprintf(stderr,
				"libxl: error: libxl_aoutils.c:async_exec_timeout: killing "
				"execution of %s because of timeout\n",
				what);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
}

int xlk_hotplug_run(struct xlk *k, const char *be_path, bool add)
{
	unsigned be_domid, domid, devid;
	char kind[8], what[PATH_MAX + 16];
	char *script = NULL, *gatewaydev = NULL, *error;
	const char *action;
	pid_t pid;
	int status;

	if (sscanf(be_path, "/local/domain/%u/backend/%7[a-z]/%u/%u", &be_domid, kind, &domid,
		   &devid) != 4 ||
	    be_domid != 0 || (strcmp(kind, "vif") && strcmp(kind, "vbd")))
		return 0;
	script = xlk_store_read(k, "%s/script", be_path);
	if (!script || !*script) {
		free(script);
		return 0; /* no script: the backend sets the device up itself */
	}
	if (!strcmp(kind, "vif")) {
		action = add ? "online" : "offline";
		gatewaydev = xlk_store_read(k, "%s/gatewaydev", be_path);
	} else {
		action = add ? "add" : "remove";
	}
	snprintf(what, sizeof(what), "%s %s", script, action);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		xlk_hotplug_exec(k, script, kind, domid, devid, action, gatewaydev);
	free(gatewaydev);
	if (pid < 0) {
		status = -errno;
		fprintf(stderr, "xl: cannot start hotplug script %s: %s\n", script,
			strerror(-status));
		free(script);
		return status;
	}
	status = xlk_hotplug_wait(pid, what);
	free(script);
	if (status == 0)
		return 0;
	/* device_hotplug_child_death_cb: the script's own word, else its status */
	error = xlk_store_read(k, "%s/hotplug-error", be_path);
	if (error)
		fprintf(stderr,
			"libxl: error: libxl_device.c:device_hotplug_child_death_cb: "
			"script: %s\n",
			error);
	else
		fprintf(stderr,
			"libxl: error: libxl_exec.c:libxl_report_child_exitstatus: %s "
			"[%ld] exited with error status %d\n",
			what, (long)pid, status);
	free(error);
	return -EIO;
}
