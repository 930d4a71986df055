/*
 * bootloader= for PV domains, as libxl's libxl_bootloader.c runs one:
 * Debian's unmodified pygrub (or any program speaking its protocol) reads
 * the guest's first disk, copies the kernel and ramdisk its grub.cfg names
 * into an output directory, and reports them in the "simple0" format --
 * "kernel PATH", "ramdisk PATH", "args STRING", each ended by a NUL, the
 * list by an empty entry -- in the --output file.  The arguments are
 * libxl's: --kernel/--ramdisk/--args from the configuration (hints for
 * pygrub), --output, --output-format=simple0, --output-directory, then
 * bootloader_args, then the disk.
 *
 * A bare name ("pygrub") is looked for in Xen's private bin directory
 * (/usr/lib/xen-4.17/bin, or $KEEL_XEN_BINDIR), then on $PATH, as libxl
 * looks in its private bindir.  Keel runs it without a terminal and adds
 * --quiet (pygrub's default entry, no menu): libxl shows pygrub's menu on
 * the console of `xl create -c`, which Keel does not offer yet.  The
 * copies live in RUNDIR/bootloader/NAME.XXXXXX and are removed once keeld
 * has loaded them.  Only a raw image or block device can be read: libxl
 * attaches other formats in dom0 first, which Keel does not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xl_backend_keel.h"

#define XLK_BOOT_BINDIR	  "/usr/lib/xen-4.17/bin" /* libxl__private_bindir_path() */
#define XLK_BOOT_MAX_ARGS 64
#define XLK_BOOT_MAX_OUT  8192

/* The program to run for bootloader=NAME (malloc'd), or NULL. */
static char *xlk_boot_path(const char *name)
{
	const char *dir = getenv("KEEL_XEN_BINDIR");
	char *p = NULL;

	if (strchr(name, '/'))
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir && *dir ? dir : XLK_BOOT_BINDIR, name) < 0)
		return NULL;
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return strdup(name); /* execvp searches $PATH */
}

/* Every file of the output directory (pygrub's leftovers too), then the directory. */
static void xlk_boot_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_type == DT_REG)
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

void xlk_boot_cleanup(struct xlk_boot *b)
{
	if (b->kernel)
		unlink(b->kernel);
	if (b->ramdisk)
		unlink(b->ramdisk);
	free(b->kernel);
	free(b->ramdisk);
	free(b->args);
	if (b->dir[0])
		xlk_boot_rmdir(b->dir);
	memset(b, 0, sizeof(*b));
}

/* A path the bootloader reported: it must be a file it made in our directory. */
static int xlk_boot_take_path(const struct xlk_boot *b, const char *v, char **out)
{
	size_t n = strlen(b->dir);
	struct stat st;

	if (strncmp(v, b->dir, n) || v[n] != '/' || strchr(v + n + 1, '/') ||
	    strstr(v + n + 1, "..") || lstat(v, &st) < 0 || !S_ISREG(st.st_mode))
		return -EINVAL;
	free(*out);
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

/* libxl's parse_bootloader_result for the simple0 format. */
static int xlk_boot_parse(struct xlk_boot *b, const char *buf, size_t len)
{
	size_t i = 0;
	int r = 0;

	while (i < len && buf[i] && !r) {
		const char *e = buf + i;
		size_t n = strnlen(e, len - i);

		if (i + n >= len)
			return -EINVAL; /* not NUL-terminated */
		if (!strncmp(e, "kernel ", 7))
			r = xlk_boot_take_path(b, e + 7, &b->kernel);
		else if (!strncmp(e, "ramdisk ", 8))
			r = xlk_boot_take_path(b, e + 8, &b->ramdisk);
		else if (!strncmp(e, "args ", 5)) {
			free(b->args);
			b->args = strdup(e + 5);
			r = b->args ? 0 : -ENOMEM;
		}
		/* other keys are ignored, as libxl ignores them */
		i += n + 1;
	}
	if (!r && !b->kernel)
		r = -ENOENT;
	return r;
}

static void xlk_boot_show_log(const struct xlk_boot *b)
{
	char path[PATH_MAX + 16], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", b->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "xl: bootloader: %s", line);
	fclose(f);
}

int xlk_boot_run(struct xlk *k, const struct xlcfg_domain *dom, struct xlk_boot *b)
{
	const struct xlcfg_disk *disk = dom->n_disks ? &dom->disks[0] : NULL;
	char *argv[XLK_BOOT_MAX_ARGS], out_arg[PATH_MAX + 32], dir_arg[PATH_MAX + 32];
	char kernel_arg[PATH_MAX + 16], ramdisk_arg[PATH_MAX + 16], *args_arg = NULL;
	char out_path[PATH_MAX + 16], buf[XLK_BOOT_MAX_OUT];
	char *prog = NULL;
	int argc = 0, status = 0, r = 0, fd;
	ssize_t len;
	pid_t pid;

	memset(b, 0, sizeof(*b));
	/* libxl_bootloader: the first disk is the one the bootloader reads */
	if (!disk || !disk->target || !*disk->target) {
		fprintf(stderr, "xl: bootloader=\"%s\" needs a disk to read, and there is none\n",
			dom->bootloader);
		return -EINVAL;
	}
	if (xl_dev_vbd_is_qdisk(disk)) {
		fprintf(stderr,
			"xl: bootloader=\"%s\": disk %s is %s; Keel's bootloader reads raw "
			"images and block devices only\n",
			dom->bootloader, disk->vdev ? disk->vdev : "?",
			xlcfg_disk_format_name(disk->format));
		return -EOPNOTSUPP;
	}
	if (2 * 6 + 2 + dom->n_bootloader_args >= XLK_BOOT_MAX_ARGS)
		return -E2BIG;
	if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s/bootloader", k->rundir) >= sizeof(b->dir))
		return -ENAMETOOLONG;
	mkdir(b->dir, 0700);
	if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s/bootloader/%s.XXXXXX", k->rundir,
			     dom->name) >= sizeof(b->dir) ||
	    !mkdtemp(b->dir)) {
		r = -errno;
		b->dir[0] = 0;
		fprintf(stderr, "xl: bootloader directory under %s: %s\n", k->rundir, strerror(-r));
		return r;
	}
	snprintf(out_path, sizeof(out_path), "%s/output", b->dir);
	fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	close(fd);
	prog = xlk_boot_path(dom->bootloader);
	if (!prog) {
		r = -ENOMEM;
		goto out;
	}
	argv[argc++] = prog;
	if (dom->kernel) {
		snprintf(kernel_arg, sizeof(kernel_arg), "--kernel=%s", dom->kernel);
		argv[argc++] = kernel_arg;
	}
	if (dom->ramdisk) {
		snprintf(ramdisk_arg, sizeof(ramdisk_arg), "--ramdisk=%s", dom->ramdisk);
		argv[argc++] = ramdisk_arg;
	}
	if (dom->cmdline && *dom->cmdline) {
		if (asprintf(&args_arg, "--args=%s", dom->cmdline) < 0) {
			r = -ENOMEM;
			goto out;
		}
		argv[argc++] = args_arg;
	}
	argv[argc++] = "--quiet";
	snprintf(out_arg, sizeof(out_arg), "--output=%s", out_path);
	argv[argc++] = out_arg;
	argv[argc++] = "--output-format=simple0";
	snprintf(dir_arg, sizeof(dir_arg), "--output-directory=%s", b->dir);
	argv[argc++] = dir_arg;
	for (int i = 0; i < dom->n_bootloader_args; i++)
		argv[argc++] = dom->bootloader_args[i];
	argv[argc++] = disk->target;
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		char log[PATH_MAX + 16];
		int null = open("/dev/null", O_RDONLY), lfd;

		snprintf(log, sizeof(log), "%s/log", b->dir);
		lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (null < 0 || lfd < 0)
			_exit(127);
		dup2(null, 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "xl: bootloader %s failed (%s %d) on %s\n", prog,
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), disk->target);
		xlk_boot_show_log(b);
		r = -EIO;
		goto out;
	}
	fd = open(out_path, O_RDONLY | O_CLOEXEC);
	len = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	r = len < 0 ? -EIO : xlk_boot_parse(b, buf, (size_t)len);
	if (r < 0) {
		fprintf(stderr, "xl: bootloader %s gave no usable kernel (%s)\n", prog,
			strerror(-r));
		xlk_boot_show_log(b);
	}
out:
	free(prog);
	free(args_arg);
	if (r < 0)
		xlk_boot_cleanup(b);
	return r;
}
