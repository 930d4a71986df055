/*
 * QEMU as the device model of a PV domain, for its qdisk disks, and of an
 * HVM domain: what libxl's libxl__spawn_local_dm does.
 * Debian's unmodified qemu-system-xen runs through keel-xen-run, which
 * puts Keel's builds of Xen's dom0 libraries (build/lib/xen) first on its
 * library path and points libxenstore at keel-xenstored; QEMU's xenpv
 * machine then finds the backend/qdisk nodes xl wrote and serves them;
 * its xenfv machine (an HVM domain's) makes an ioreq server in keeld and
 * serves the PC's emulated devices (hypervisor/hvm/hvm_ioreq.c).
 *
 * Spawned detached (its own session, its parent gone), with libxl's
 * arguments: -xen-domid, -xen-attach, the QMP socket libxl uses
 * (RUNDIR/qmp/qmp-libxl-DOMID), no display, no default devices.  Its pid
 * is kept where libxl keeps it (/local/domain/DOMID/image/device-model-pid)
 * and xl waits for QEMU's own "running" in /local/domain/0/device-model/
 * DOMID/state, as libxl does (60 s).  Its output goes to
 * RUNDIR/log/qemu-dm-NAME.log.  Stopping sends SIGHUP as libxl's
 * kill_device_model does, then SIGKILL if it lingers.  Before any signal
 * the pid is checked to still be QEMU for that domain (its command line
 * names -xen-domid DOMID), so a recycled pid is never hit.
 *
 * An HVM domain's emulated NICs (its vifs of type ioemu, the default for
 * HVM) are QEMU's too, as libxl_dm.c gives them: a -device of the vif's
 * model (rtl8139 unless model= says) with its MAC, on a -netdev tap that
 * QEMU opens itself as vif<domid>.<devid>-emu with no ifup/ifdown
 * scripts; once QEMU runs, the TAP is renamed NAME-emu for a vifname=,
 * joins the vif's bridge and comes up, which libxl leaves to the vif
 * hotplug script (vif-bridge with type_if=tap).
 * The NIC's option ROM (Debian's iPXE) is QEMU's default, as libxl leaves
 * it: QEMU populates frames past the guest's RAM for it (keeld backs them).
 * QEMU's exit takes the TAP away.  The vif's PV nodes are written beside
 * it as for any vif (xlk_devices_write), with type vif_ioemu.
 *
 * The display, as libxl's qemu-xen arguments: the card as -device VGA or
 * cirrus-vga with vgamem_mb= of the domain's video RAM (QEMU populates it
 * past the guest's RAM; keeld backs it), or -vga none; VNC as -vnc
 * ADDR:DISPLAY (",password=on" with vncpasswd=, ",to=99" with vncunused=),
 * else -vnc none and -nographic.  Once QEMU runs, QMP sets the password
 * and reports where the server listens (xlk_qmp_vnc_setup).
 *
 * The config's own device model keys come last, as libxl appends them
 * (xl_dm_args.c): USB, -no-acpi/-no-hpet, device_model_args=, the machine,
 * device_model_args_hvm=.  device_model_override= names the binary for an
 * HVM domain; a PV domain's qdisk QEMU stays $KEEL_QEMU_XEN's or Debian's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xl_backend_keel.h"
#include "xl_device.h"
#include "xl_dm_args.h"

#define XLK_DM_STOP_TIMEOUT_MS 5000
#define XLK_DM_POLL_MS	       20
#define XLK_DM_DEFAULT	       "/usr/libexec/xen-qemu-system-i386"
#define XLK_DM_HVM_EXTRA       8 /* disk arguments (a CD-ROM takes two), and serial ports */
#define XLK_DM_NICS	       8 /* emulated NICs (two arguments each) */
#define XLK_DM_ARGS	       (50 + 2 * XLK_DM_HVM_EXTRA + 4 * XLK_DM_NICS)

/* QEMU for Xen: an HVM domain's device_model_override=, else
 * $KEEL_QEMU_XEN, else Debian's qemu-system-xen. */
static const char *xlk_dm_path(const struct xlcfg_domain *hvm)
{
	const char *e = getenv("KEEL_QEMU_XEN");

	if (hvm && hvm->dm_override)
		return hvm->dm_override;
	return e && *e ? e : XLK_DM_DEFAULT;
}

/* keel-xen-run next to this xl (both in the build's bin/). */
static int xlk_dm_launcher(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	if ((size_t)snprintf(buf, size, "%s/keel-xen-run", self) >= size)
		return -ENAMETOOLONG;
	return access(buf, X_OK) == 0 ? 0 : -errno;
}

/* The recorded pid of a domain's QEMU, if that process still is one for the domain. */
static pid_t xlk_dm_pid(struct xlk *k, uint32_t domid)
{
	char *v = xlk_store_read(k, "/local/domain/%u/image/device-model-pid", domid);
	long pid = v ? strtol(v, NULL, 10) : 0;
	char path[64], cmd[4096], want[16];
	ssize_t n;
	int fd;

	free(v);
	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 0; /* gone, or a zombie */
	cmd[n] = 0;
	snprintf(want, sizeof(want), "%u", domid);
	/* argv, NUL-separated: "-xen-domid" followed by DOMID */
	for (char *a = cmd, *next; a < cmd + n; a = next) {
		next = a + strlen(a) + 1;
		if (!strcmp(a, "-xen-domid") && next < cmd + n && !strcmp(next, want))
			return (pid_t)pid;
	}
	return 0;
}

static long long xlk_dm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Has the process behind @pidfd ended (or is it a zombie)? */
static bool xlk_dm_exited(int pidfd)
{
	struct pollfd p = {pidfd, POLLIN, 0};

	return poll(&p, 1, 0) == 1;
}

/* The last lines of QEMU's log, for a failure message. */
static void xlk_dm_log_tail(const char *log)
{
	char buf[1024];
	FILE *f = fopen(log, "r");
	size_t n;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	if (ftell(f) > (long)sizeof(buf) - 1)
		fseek(f, -(long)(sizeof(buf) - 1), SEEK_END);
	else
		fseek(f, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	fprintf(stderr, "xl: the end of %s:\n%s%s", log, buf, n && buf[n - 1] != '\n' ? "\n" : "");
}

/* Fork, detach (a grandchild in its own session), exec; the grandchild's pid. */
static pid_t xlk_dm_spawn(char *const argv[], const char *log)
{
	int pfd[2];
	pid_t child, pid = -1;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		int e = errno;

		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (child == 0) {
		pid_t gc;
		int null, out;

		close(pfd[0]);
		setsid();
		gc = fork();
		if (gc != 0) {
			/* the middle process reports the grandchild and goes */
			(void)!write(pfd[1], &gc, sizeof(gc));
			_exit(0);
		}
		null = open("/dev/null", O_RDONLY);
		out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (null < 0 || out < 0)
			_exit(127);
		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		fprintf(stderr, "xl: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (read(pfd[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -EIO;
	close(pfd[0]);
	waitpid(child, NULL, 0);
	return pid;
}

static int xlk_dm_record_step(struct xlk *k, ks_tx_t tx, void *arg)
{
	const char *const *kv = arg;

	return ks_write(k->xs, tx, kv[0], kv[1], (unsigned)strlen(kv[1]));
}

/* An emulated NIC: a vif of type ioemu (libxl gives QEMU only those). */
static bool xlk_dm_is_nic(const struct xlcfg_vif *v)
{
	return v->nictype == 1;
}

/* The TAP QEMU opens for a domain's emulated NIC (libxl__device_nic_devname),
 * or (@named) the name the hotplug script gives it for a vifname=. */
static int xlk_dm_nic_ifname(uint32_t domid, const struct xlcfg_vif *v, bool named, char *buf,
			     size_t n)
{
	int r = named && v->vifname && *v->vifname
			? snprintf(buf, n, "%s-emu", v->vifname)
			: snprintf(buf, n, "vif%u.%d-emu", domid, v->devid);

	return r < 0 || (size_t)r >= n || r >= 16 /* IFNAMSIZ */ ? -ENAMETOOLONG : 0;
}

/* The hotplug work for each emulated NIC once QEMU runs: its TAP into its bridge, up. */
static int xlk_dm_nics_up(uint32_t domid, const struct xlcfg_domain *hvm)
{
	for (int i = 0; i < hvm->n_vifs; i++) {
		const struct xlcfg_vif *v = &hvm->vifs[i];
		const char *what;
		char tap[32], ifname[32];
		int r;

		if (!xlk_dm_is_nic(v))
			continue;
		r = xlk_dm_nic_ifname(domid, v, false, tap, sizeof(tap));
		if (r == 0)
			r = xlk_dm_nic_ifname(domid, v, true, ifname, sizeof(ifname));
		what = tap;
		if (r == 0 && strcmp(tap, ifname))
			r = xl_netif_rename(tap, ifname);
		if (r == 0)
			r = xl_netif_bridge_up(ifname, v->bridge, &what);
		if (r < 0) {
			fprintf(stderr,
				"xl: domain %u's emulated NIC %d (%s) to bridge %s: %s: %s\n",
				domid, v->devid, ifname, v->bridge ? v->bridge : "(none)",
				r == -ENAMETOOLONG ? ifname : what, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* libxl's display arguments for qemu-xen into @arg (NULL-terminated, at
 * most 7), owning what it allocates in @owned[2]. */
static int xlk_dm_display_args(const struct xlcfg_domain *hvm, char **arg, char **owned)
{
	int n = 0, vram_mb = (int)(xlk_video_memkb(hvm) / 1024);

	owned[0] = owned[1] = NULL;
	if (hvm->vga == XLCFG_VGA_STD || hvm->vga == XLCFG_VGA_CIRRUS) {
		if (asprintf(&owned[0], "%s,vgamem_mb=%d",
			     hvm->vga == XLCFG_VGA_STD ? "VGA" : "cirrus-vga", vram_mb) < 0)
			return owned[0] = NULL, -ENOMEM;
		arg[n++] = "-device";
		arg[n++] = owned[0];
	} else {
		arg[n++] = "-vga";
		arg[n++] = "none";
	}
	if (hvm->vnc == XLCFG_TRUE) {
		const char *listen = hvm->vnclisten ? hvm->vnclisten : "127.0.0.1";
		bool pass = hvm->vncpasswd && *hvm->vncpasswd;
		int r = strchr(listen, ':')
				? asprintf(&owned[1], "%s%s%s", listen, pass ? ",password=on" : "",
					   hvm->vncunused == XLCFG_TRUE ? ",to=99" : "")
				: asprintf(&owned[1], "%s:%d%s%s", listen, hvm->vncdisplay,
					   pass ? ",password=on" : "",
					   hvm->vncunused == XLCFG_TRUE ? ",to=99" : "");

		if (r < 0) {
			free(owned[0]);
			owned[0] = owned[1] = NULL;
			return -ENOMEM;
		}
		arg[n++] = "-vnc";
		arg[n++] = owned[1];
	} else {
		/* no display: nothing for QEMU to open on a headless host */
		arg[n++] = "-vnc";
		arg[n++] = "none";
		arg[n++] = "-nographic";
	}
	arg[n] = NULL;
	return 0;
}

/* Start QEMU for domain domid: the xenpv machine for a PV domain's
 * qdisk disks, or (hvm given) the xenfv machine as the HVM domain's
 * device model, with libxl's memory, vCPU and boot arguments (boot=),
 * its IDE disks and CD-ROMs, its emulated NICs and its display. */
static int xlk_dm_launch(struct xlk *k, uint32_t domid, const char *name,
			 const struct xlcfg_domain *hvm, const char *incoming)
{
	char launcher[PATH_MAX], qmp[PATH_MAX + 64], log[PATH_MAX + 64], chardev[PATH_MAX + 128];
	char domid_s[16], pidpath[64], pid_s[16], statepath[64], mem_s[24], smp_s[48], boot_s[16];
	const char *dm = xlk_dm_path(hvm);
	char incoming_s[24];
	long long deadline;
	bool running = false;
	/* Keel's own arguments, then the config's (xl_dm_hvm_args) */
	size_t argv_max = XLK_DM_ARGS + (hvm ? xl_dm_hvm_args_max(hvm) + 1 : 0);
	char **argv;
	pid_t pid;
	int r, pidfd, in_fd = -1;

	if (xlk_dm_pid(k, domid) > 0)
		return 0; /* already serving this domain (block-attach) */
	if (access(dm, X_OK) < 0 && hvm && hvm->dm_override) {
		r = -errno;
		fprintf(stderr, "xl: device model %s is not executable: %s\n", dm, strerror(-r));
		return r;
	}
	if (access(dm, X_OK) < 0) {
		r = -errno;
		fprintf(stderr,
			"xl: %s needs QEMU built for Xen (%s: %s); install "
			"Debian's qemu-system-xen or set KEEL_QEMU_XEN\n",
			hvm ? "an HVM domain's device model" : "the qdisk backend", dm,
			strerror(-r));
		return r;
	}
	r = xlk_dm_launcher(launcher, sizeof(launcher));
	if (r < 0) {
		fprintf(stderr, "xl: no keel-xen-run next to xl: %s\n", strerror(-r));
		return r;
	}
	snprintf(qmp, sizeof(qmp), "%s/qmp", k->rundir);
	mkdir(qmp, 0700);
	snprintf(qmp, sizeof(qmp), "%s/qmp/qmp-libxl-%u", k->rundir, domid);
	unlink(qmp);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,server=on,wait=off", qmp);
	snprintf(log, sizeof(log), "%s/log", k->rundir);
	mkdir(log, 0755);
	snprintf(log, sizeof(log), "%s/log/qemu-dm-%s.log", k->rundir, name);
	snprintf(domid_s, sizeof(domid_s), "%u", domid);
	snprintf(statepath, sizeof(statepath), "/local/domain/0/device-model/%u/state", domid);
	ks_rm(k->xs, KS_TX_NONE, statepath);
	/* keel-xen-run finds the store and keeld through these */
	setenv("KEEL_RUNDIR", k->rundir, 1);
	if (!getenv("XENSTORED_PATH")) {
		char sock[PATH_MAX + 32];

		snprintf(sock, sizeof(sock), "%s/xenstored/socket", k->rundir);
		setenv("XENSTORED_PATH", sock, 1);
	}
	argv = calloc(argv_max, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	if (incoming) { /* not close-on-exec: QEMU reads it */
		in_fd = open(incoming, O_RDONLY);
		if (in_fd < 0) {
			r = -errno;
			free(argv);
			return r;
		}
		snprintf(incoming_s, sizeof(incoming_s), "fd:%d", in_fd);
	}
	if (hvm) {
		uint64_t kb =
			hvm->max_memkb > hvm->target_memkb ? hvm->max_memkb : hvm->target_memkb;
		int vcpus = hvm->max_vcpus > hvm->vcpus ? hvm->max_vcpus : hvm->vcpus;

		/* libxl: -m of the RAM, the video RAM apart */
		snprintf(mem_s, sizeof(mem_s), "%llu",
			 (unsigned long long)((kb - xlk_video_memkb(hvm)) / 1024));
		snprintf(smp_s, sizeof(smp_s), "%d,maxcpus=%d", hvm->vcpus, vcpus);
		/* libxl: -boot order=BOOT, "cd" unless boot= says otherwise */
		snprintf(boot_s, sizeof(boot_s), "order=%.8s",
			 hvm->hvm_boot ? hvm->hvm_boot : "cd");
	}
	{
		char *const pv[] = {"-machine", "xenpv", NULL};
		char *const fv[] = {"-m", mem_s, "-smp", smp_s, "-boot", boot_s, NULL};
		char *const *tail = hvm ? fv : pv;
		char *const head[] = {launcher,	     (char *)dm,
				      "-xen-domid",  domid_s,
				      "-chardev",    chardev,
				      "-mon",	     "chardev=libxl-cmd,mode=control",
				      "-nodefaults", "-no-user-config",
				      "-xen-attach", "-name",
				      (char *)name};
		size_t n = sizeof(head) / sizeof(head[0]), ne = 0;
		char *display[8], *display_owned[2] = {0};
		char *extra[XLK_DM_HVM_EXTRA + 2 * XLK_DM_NICS] = {0};
		int nics = 0;
		bool oom = false;

		memcpy(argv, head, sizeof(head));
		for (; *tail; tail++)
			argv[n++] = *tail;
		if (!hvm)
			argv[n++] = "-nographic";
		else if (xlk_dm_display_args(hvm, display, display_owned) < 0)
			oom = true;
		else
			for (char **a = display; *a; a++)
				argv[n++] = *a;
		/* libxl's emulated disks and serial ports of an HVM domain; a
		 * CD-ROM as libxl gives it (drive and ide-cd device both
		 * ide-VBDNUM: the id QMP's eject and blockdev-change-medium
		 * name, xl cd-insert) */
		for (int i = 0; hvm && i < hvm->n_disks && ne + 1 < XLK_DM_HVM_EXTRA; i++) {
			const struct xlcfg_disk *dk = &hvm->disks[i];
			int idx = xlk_hvm_ide_index(dk),
			    vbd = xlcfg_vdev_number(dk->vdev, NULL, NULL);

			argv[n++] = "-drive";
			if (dk->is_cdrom) {
				bool empty = !dk->target || !*dk->target;

				r = asprintf(&extra[ne], "if=none,readonly=on,id=ide-%d%s%s%s", vbd,
					     empty ? "" : ",file=", empty ? "" : dk->target,
					     empty				? ""
					     : dk->format == XLCFG_FORMAT_QCOW2 ? ",format=qcow2"
										: ",format=raw");
				if (r < 0)
					extra[ne] = NULL, oom = true;
				argv[n++] = extra[ne++];
				argv[n++] = "-device";
				r = asprintf(&extra[ne],
					     "ide-cd,id=ide-%d,drive=ide-%d,bus=ide.%d,unit=%d",
					     vbd, vbd, idx / 2, idx % 2);
			} else {
				r = asprintf(&extra[ne],
					     "file=%s,if=ide,index=%d,media=disk,format=%s,"
					     "cache=writeback%s",
					     dk->target, idx,
					     dk->format == XLCFG_FORMAT_QCOW2 ? "qcow2" : "raw",
					     dk->readwrite ? "" : ",readonly=on");
			}
			if (r < 0)
				extra[ne] = NULL, oom = true;
			argv[n++] = extra[ne++];
		}
		/* libxl: each emulated NIC a -device of its model with its MAC
		 * on a -netdev tap named for it, no scripts; "-net none" if none */
		for (int i = 0; hvm && i < hvm->n_vifs && nics < XLK_DM_NICS; i++) {
			const struct xlcfg_vif *v = &hvm->vifs[i];
			char mac[18], ifname[32];

			if (!xlk_dm_is_nic(v))
				continue;
			nics++;
			xlcfg_mac_unparse(v->mac, mac);
			if (xlk_dm_nic_ifname(domid, v, false, ifname, sizeof(ifname)) < 0)
				ifname[0] = 0; /* refused by xlk_check_hvm */
			argv[n++] = "-device";
			if (asprintf(&extra[ne], "%s,id=nic%d,netdev=net%d,mac=%s",
				     v->model ? v->model : "rtl8139", v->devid, v->devid, mac) < 0)
				extra[ne] = NULL, oom = true;
			argv[n++] = extra[ne++];
			argv[n++] = "-netdev";
			if (asprintf(&extra[ne],
				     "type=tap,id=net%d,ifname=%s,script=no,downscript=no",
				     v->devid, ifname) < 0)
				extra[ne] = NULL, oom = true;
			argv[n++] = extra[ne++];
		}
		if (hvm && !nics) {
			argv[n++] = "-net";
			argv[n++] = "none";
		}
		for (int i = 0; hvm && i < hvm->n_serial && i < XLK_DM_HVM_EXTRA; i++) {
			argv[n++] = "-serial";
			argv[n++] = hvm->serial[i];
		}
		if (incoming) { /* libxl: a restore's state, on an fd QEMU inherits */
			argv[n++] = "-incoming";
			argv[n++] = incoming_s;
		}
		argv[n] = NULL;
		if (hvm) {
			r = xl_dm_hvm_args(hvm, argv + n, argv_max - n);
			if (r < 0)
				oom = true; /* neither happens: sized above, usbversion checked */
			else
				n += (size_t)r;
		}
		pid = oom ? -ENOMEM : xlk_dm_spawn(argv, log);
		for (size_t i = 0; i < ne; i++)
			free(extra[i]);
		free(display_owned[0]);
		free(display_owned[1]);
		free(argv);
	}
	if (in_fd >= 0)
		close(in_fd);
	if (pid < 0) {
		fprintf(stderr, "xl: starting %s: %s\n", dm, strerror((int)-pid));
		return (int)pid;
	}
	snprintf(pidpath, sizeof(pidpath), "/local/domain/%u/image/device-model-pid", domid);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	{
		const char *kv[] = {pidpath, pid_s};

		r = xlk_store_tx(k, xlk_dm_record_step, kv);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* libxl's device_model_confirm: QEMU writes "running" once it serves;
	 * libxl gives it LIBXL_DEVICE_MODEL_START_TIMEOUT, 60 s, as for pvcontrol */
	deadline = xlk_dm_now_ms() + xlk_timeout_ms("KEEL_XL_DM_TIMEOUT_MS");
	for (;;) {
		char *st = xlk_store_read(k, "%s", statepath);

		running = st && !strcmp(st, "running");
		free(st);
		if (running)
			break;
		if (pidfd >= 0 && xlk_dm_exited(pidfd)) {
			fprintf(stderr,
				"xl: the device model of domain %u (%s, pid %d) exited while starting\n",
				domid, dm, (int)pid);
			xlk_dm_log_tail(log);
			r = -EIO;
			break;
		}
		if (xlk_dm_now_ms() >= deadline) {
			fprintf(stderr, "xl: domain %u device model: startup timed out\n", domid);
			xlk_dm_log_tail(log);
			r = -ETIMEDOUT;
			break;
		}
		usleep(XLK_DM_POLL_MS * 1000);
	}
	if (r == 0 && hvm)
		r = xlk_dm_nics_up(domid, hvm);
	if (r == 0 && hvm)
		r = xlk_qmp_vnc_setup(k, domid, hvm);
	/* QEMU can still give up just after "running" (a -vnc option its
	 * build cannot serve, such as a password without a DES cipher): say
	 * so with its own words rather than only what broke with it */
	if (r < 0 && pidfd >= 0 && xlk_dm_exited(pidfd) && running) {
		fprintf(stderr, "xl: the device model of domain %u (%s, pid %d) exited\n", domid,
			dm, (int)pid);
		xlk_dm_log_tail(log);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (r < 0)
		xlk_dm_stop(k, domid);
	return r;
}

int xlk_dm_start(struct xlk *k, uint32_t domid, const char *name)
{
	return xlk_dm_launch(k, domid, name, NULL, NULL);
}

int xlk_dm_start_hvm(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom)
{
	return xlk_dm_launch(k, domid, dom->name, dom, NULL);
}

int xlk_dm_start_hvm_incoming(struct xlk *k, uint32_t domid, const struct xlcfg_domain *dom,
			      const char *state)
{
	return xlk_dm_launch(k, domid, dom->name, dom, state);
}

void xlk_dm_stop(struct xlk *k, uint32_t domid)
{
	char path[PATH_MAX + 64];
	pid_t pid = xlk_dm_pid(k, domid);

	if (pid > 0) {
		int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		long long deadline = xlk_dm_now_ms() + XLK_DM_STOP_TIMEOUT_MS;

		kill(pid, SIGHUP);
		while (pidfd >= 0 && !xlk_dm_exited(pidfd) && xlk_dm_now_ms() < deadline)
			usleep(XLK_DM_POLL_MS * 1000);
		if (pidfd < 0 || !xlk_dm_exited(pidfd)) {
			fprintf(stderr,
				"xl: the device model of domain %u (pid %d) lingers: killed\n",
				domid, (int)pid);
			kill(pid, SIGKILL);
		}
		if (pidfd >= 0)
			close(pidfd);
	}
	snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "/local/domain/0/device-model/%u", domid);
	ks_rm(k->xs, KS_TX_NONE, path);
	snprintf(path, sizeof(path), "%s/qmp/qmp-libxl-%u", k->rundir, domid);
	unlink(path);
}

int xlk_dm_check(struct xlk *k, uint32_t domid, int *pid_out)
{
	char *v = xlk_store_read(k, "/local/domain/%u/image/device-model-pid", domid);
	long pid = v ? strtol(v, NULL, 10) : 0;

	free(v);
	*pid_out = (int)pid;
	if (pid <= 1)
		return 0; /* none recorded */
	return xlk_dm_pid(k, domid) > 0 ? 1 : -1;
}
