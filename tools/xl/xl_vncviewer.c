/*
 * xl vncviewer, and xl create -V / -A (Xen's xl_console.c vncviewer and
 * libxl_vncviewer_exec): the viewer ($VNCVIEWER, else "vncviewer" on PATH)
 * is exec'd with HOST:DISPLAY, the host from the domain's
 * console/vnc-listen ("localhost" if absent) and the display its
 * console/vnc-port less 5900.  With autopass and a console/vnc-pass, the
 * password is on the viewer's stdin (an unlinked temporary file) and
 * "-autopass" is passed.  A domain without VNC (no vnc-port) gets libxl's
 * "Cannot get vnc-port" and xl exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xl.h"
#include "xl_backend.h"

/* The viewer's HOST:DISPLAY (and the password for autopass) from the store;
 * 1 (printed) if the domain has no VNC. */
static int xl_vnc_lookup(struct xl_backend *be, uint32_t domid, char *addr, size_t size,
			 char **pass)
{
	char *port = NULL, *listen = NULL;
	int r;

	*pass = NULL;
	r = be->ops->vnc_info ? be->ops->vnc_info(be->handle, domid, &port, &listen, pass)
			      : -ENOSYS;
	if (r == 0 && port)
		snprintf(addr, size, "%s:%d", listen ? listen : "localhost", atoi(port) - 5900);
	free(port);
	free(listen);
	if (r == -ENOSYS)
		return xl_backend_fail("vncviewer", r);
	if (r < 0) {
		fprintf(stderr,
			"libxl: error: libxl_console.c:libxl_vncviewer_exec: Domain %u:Cannot get "
			"vnc-port\n",
			domid);
		free(*pass);
		*pass = NULL;
		return 1;
	}
	return 0;
}

/* Exec the viewer; returns 1 (printed) only on failure.  Frees @pass. */
static int xl_vncviewer_exec(uint32_t domid, char *addr, char *pass)
{
	const char *bin = getenv("VNCVIEWER");
	char *args[4] = {(char *)(bin && *bin ? bin : "vncviewer"), addr, NULL, NULL};

	/* none of xl's connections (store, keeld) to the viewer, which outlives xl */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	if (pass) {
		char tmpl[] = "/tmp/vncautopass.XXXXXX";
		int fd = mkstemp(tmpl);
		size_t len = strlen(pass);

		if (fd < 0 || unlink(tmpl) < 0 || write(fd, pass, len) != (ssize_t)len ||
		    lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, 0) < 0) {
			perror("xl: the VNC password for the viewer");
			free(pass);
			return 1;
		}
		close(fd);
		free(pass);
		args[2] = "-autopass";
	}
	fflush(NULL);
	execvp(args[0], args);
	fprintf(stderr,
		"libxl: error: libxl_console.c:libxl_vncviewer_exec: Domain %u:execvp %s: %s\n",
		domid, args[0], strerror(errno));
	return 1;
}

void xl_vncviewer_autoconnect(struct xl_backend *be, uint32_t domid, bool autopass)
{
	char addr[320], *pass;
	pid_t pid;

	if (xl_vnc_lookup(be, domid, addr, sizeof(addr), &pass))
		return;
	if (!autopass) {
		free(pass);
		pass = NULL;
	}
	pid = fork();
	if (pid < 0)
		perror("xl: fork for the VNC viewer");
	if (pid == 0) {
		/* the viewer outlives xl; its parent goes at once, so no zombie */
		if (fork() == 0)
			_exit(xl_vncviewer_exec(domid, addr, pass));
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(pass);
}

int main_vncviewer(int argc, char **argv)
{
	static const struct option opts[] = {
		{"autopass", 0, 0, 'a'},
		{"vncviewer-autopass", 0, 0, 'a'},
		XL_COMMON_LONG_OPTS,
	};
	struct xl_backend *be;
	char addr[320], *pass = NULL;
	bool autopass = false;
	uint32_t domid;
	int opt, rc;

	XL_FOREACH_OPT(opt, "a", opts, "vncviewer", 1)
	{
	case 'a':
		autopass = true;
		break;
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	rc = xl_find_domain(be, argv[optind], &domid)
		     ? 1
		     : xl_vnc_lookup(be, domid, addr, sizeof(addr), &pass);
	xl_backend_disconnect(be);
	if (rc)
		return rc;
	if (!autopass) {
		free(pass);
		pass = NULL;
	}
	return xl_vncviewer_exec(domid, addr, pass);
}
