/*
 * `xl console [-t pv|serial|vuart] [-n NUM] [-e ESCAPE] <Domain>`: attach
 * the terminal to a domain's console until the escape character (Ctrl-] by
 * default, as xenconsole) is typed.  The backend hands xl a stream to the
 * console; this file relays it: stdin to the console, the console to
 * stdout, with the terminal in raw mode (restored on every exit path) so
 * keys reach the guest as typed.  Also used by `xl create -c`.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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

/* Write all of buf, riding out short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int xl_console_relay(int console_fd, int escape_char)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	bool stdin_open = true;
	char buf[4096];
	int rc = 0;

	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		/* keep output processing: small guests end lines with a bare \n */
		raw.c_oflag |= OPOST;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	/* a closed console must not kill xl with SIGPIPE before the terminal is restored */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[2] = {
			{.fd = console_fd, .events = POLLIN},
			{.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[0].revents) {
			n = read(console_fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) { /* the console went away */
				rc = n < 0 ? -errno : 0;
				break;
			}
			if ((rc = write_all(STDOUT_FILENO, buf, (size_t)n)) < 0)
				break;
		}
		if (p[1].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* no more input (a pipe): keep showing output until the console closes */
				stdin_open = false;
				continue;
			}
			esc = memchr(buf, escape_char, (size_t)n);
			if (esc) {
				/* send what came before the escape, then detach */
				write_all(console_fd, buf, (size_t)(esc - buf));
				break;
			}
			if ((rc = write_all(console_fd, buf, (size_t)n)) < 0)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(console_fd);
	return rc;
}

int main_console(int argc, char **argv)
{
	const char *type = "pv";
	int num = 0, escape = 0x1d, opt, rc = 0, r, fd = -1;
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
		r = be->ops->console_open ? be->ops->console_open(be->handle, domid, type, num, &fd)
					  : -ENOSYS;
		if (r == 0)
			r = xl_console_relay(fd, escape);
		if (r < 0)
			rc = xl_backend_fail("attaching the console", r);
	}
	xl_backend_disconnect(be);
	return rc;
}
