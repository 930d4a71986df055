/*
 * A test double for the toolstack backend, linked only into build/bin/
 * xl-fixture (never into xl).  It keeps "domains" in a text file named by
 * $XL_FIXTURE so the integration tests can drive xl's real command code
 * through the backend seam -- output formats, name/id lookup, argument
 * passing -- without a hypervisor.  One line per domain:
 *
 *   dom <domid> <name> <memkb> <maxmemkb> <vcpus> <maxvcpus> <flags> <cpu_ns> <uuid> <weight> <cap> <start_s>
 *
 * where flags is a word over "rbpscd" ('-' for none) and, when 's' is set,
 * the next character is the shutdown reason digit.  "info <key> <value...>"
 * lines answer `xl info`; "log <text>" lines answer `xl dmesg`.  A
 * domain's console is a child process on a socketpair that answers each
 * chunk it reads with "<name> got: <chunk>" and exits after "poweroff".
 * PV devices (block-/network-attach) live in $XL_FIXTURE.store
 * (xl_backend_fixture_device.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xl_backend_fixture.h"

struct fixture {
	char *path;
	struct xl_domain_info dom[64];
	int weight[64], cap[64];
	int n;
	char *info_keys[64], *info_values[64];
	int n_info;
	char *log;
};

static int fixture_load(struct fixture *fx)
{
	FILE *f = fopen(fx->path, "r");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct xl_domain_info *d = &fx->dom[fx->n];
		char name[256], flags[16], uuid[40];
		unsigned long long mem, maxmem, cpu, start;
		int vcpus, maxvcpus, w, c;
		unsigned int id;

		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "info ", 5) && fx->n_info < 64) {
			char *k = line + 5, *v = strchr(k, ' ');

			if (!v)
				continue;
			*v++ = 0;
			fx->info_keys[fx->n_info] = strdup(k);
			fx->info_values[fx->n_info++] = strdup(v);
		} else if (!strncmp(line, "log ", 4)) {
			size_t old = fx->log ? strlen(fx->log) : 0;
			char *n = realloc(fx->log, old + strlen(line) + 2);

			if (!n)
				break;
			fx->log = n;
			sprintf(n + old, "%s\n", line + 4);
		} else if (fx->n < 64 &&
			   sscanf(line, "dom %u %255s %llu %llu %d %d %15s %llu %39s %d %d %llu",
				  &id, name, &mem, &maxmem, &vcpus, &maxvcpus, flags, &cpu, uuid,
				  &w, &c, &start) == 12) {
			memset(d, 0, sizeof(*d));
			d->domid = id;
			snprintf(d->name, sizeof(d->name), "%s", name);
			d->current_memkb = mem;
			d->max_memkb = maxmem;
			d->vcpus_online = vcpus;
			d->max_vcpus = maxvcpus;
			d->running = strchr(flags, 'r');
			d->blocked = strchr(flags, 'b');
			d->paused = strchr(flags, 'p');
			d->crashed = strchr(flags, 'c');
			d->dying = strchr(flags, 'd');
			d->shutdown = strchr(flags, 's');
			d->shutdown_reason = d->shutdown ? strchr(flags, 's')[1] - '0' : -1;
			d->cpu_time_ns = cpu;
			xlcfg_uuid_parse(uuid, d->uuid);
			d->start_time_s = start;
			fx->weight[fx->n] = w;
			fx->cap[fx->n] = c;
			fx->n++;
		}
	}
	fclose(f);
	return 0;
}

static int fixture_save(struct fixture *fx)
{
	FILE *f = fopen(fx->path, "w");

	if (!f)
		return -errno;
	for (int i = 0; i < fx->n_info; i++)
		fprintf(f, "info %s %s\n", fx->info_keys[i], fx->info_values[i]);
	for (int i = 0; i < fx->n; i++) {
		const struct xl_domain_info *d = &fx->dom[i];
		char flags[16] = "", uuid[37];

		if (d->running)
			strcat(flags, "r");
		if (d->blocked)
			strcat(flags, "b");
		if (d->paused)
			strcat(flags, "p");
		if (d->shutdown)
			sprintf(flags + strlen(flags), "s%d", d->shutdown_reason);
		if (d->crashed)
			strcat(flags, "c");
		if (d->dying)
			strcat(flags, "d");
		xlcfg_uuid_unparse(d->uuid, uuid);
		fprintf(f, "dom %u %s %llu %llu %d %d %s %llu %s %d %d %llu\n", d->domid, d->name,
			(unsigned long long)d->current_memkb, (unsigned long long)d->max_memkb,
			d->vcpus_online, d->max_vcpus, *flags ? flags : "-",
			(unsigned long long)d->cpu_time_ns, uuid, fx->weight[i], fx->cap[i],
			(unsigned long long)d->start_time_s);
	}
	return fclose(f) ? -errno : 0;
}

static int fixture_find(struct fixture *fx, uint32_t domid)
{
	for (int i = 0; i < fx->n; i++)
		if (fx->dom[i].domid == domid)
			return i;
	return -1;
}

const char *fixture_path(void *h)
{
	return ((struct fixture *)h)->path;
}

bool fixture_domain_exists(void *h, uint32_t domid)
{
	return fixture_find(h, domid) >= 0;
}

int fixture_find_name(void *h, const char *name, uint32_t *domid)
{
	struct fixture *fx = h;

	for (int i = 0; i < fx->n; i++)
		if (!strcmp(fx->dom[i].name, name)) {
			*domid = fx->dom[i].domid;
			return 0;
		}
	if (!strcmp(name, "Domain-0")) {
		*domid = 0;
		return 0;
	}
	return -ENOENT;
}

static int fx_open(void **handle, const char **why)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *path = getenv("XL_FIXTURE");
	int r;

	if (!fx)
		return -ENOMEM;
	if (!path) {
		*why = "XL_FIXTURE is not set";
		free(fx);
		return -EINVAL;
	}
	fx->path = strdup(path);
	r = fixture_load(fx);
	if (r < 0) {
		*why = "cannot read $XL_FIXTURE";
		free(fx->path);
		free(fx);
		return r;
	}
	*handle = fx;
	return 0;
}

static void fx_close(void *h)
{
	struct fixture *fx = h;

	for (int i = 0; i < fx->n_info; i++) {
		free(fx->info_keys[i]);
		free(fx->info_values[i]);
	}
	free(fx->log);
	free(fx->path);
	free(fx);
}

static int fx_list(void *h, struct xl_domain_info **out, int *n)
{
	struct fixture *fx = h;

	*out = calloc((size_t)fx->n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, fx->dom, sizeof(**out) * (size_t)fx->n);
	*n = fx->n;
	return 0;
}

/* The configuration beside the file, for get_config. */
static int fx_set_config(void *h, uint32_t domid, const struct xlcfg_domain *dom)
{
	struct fixture *fx = h;
	char *path;
	FILE *f;

	if (fixture_find(fx, domid) < 0)
		return -ENOENT;
	if (asprintf(&path, "%s.%u.cfg", fx->path, domid) < 0)
		return -ENOMEM;
	f = fopen(path, "w");
	free(path);
	if (!f)
		return -errno;
	xlcfg_domain_to_cfg(dom, f);
	return fclose(f) ? -errno : 0;
}

static int fx_create(void *h, const struct xlcfg_domain *dom, bool paused, uint32_t *domid)
{
	struct fixture *fx = h;
	int r;
	struct xl_domain_info *d;
	uint32_t next = 1;

	if (fx->n == 64)
		return -ENOSPC;
	for (int i = 0; i < fx->n; i++) {
		if (!strcmp(fx->dom[i].name, dom->name))
			return -EEXIST;
		if (fx->dom[i].domid >= next)
			next = fx->dom[i].domid + 1;
	}
	d = &fx->dom[fx->n];
	memset(d, 0, sizeof(*d));
	d->domid = next;
	snprintf(d->name, sizeof(d->name), "%s", dom->name);
	memcpy(d->uuid, dom->uuid, 16);
	d->current_memkb = dom->target_memkb;
	d->max_memkb = dom->max_memkb;
	d->vcpus_online = dom->vcpus;
	d->max_vcpus = dom->max_vcpus;
	d->paused = paused;
	d->blocked = !paused;
	fx->weight[fx->n] = dom->cpu_weight >= 0 ? dom->cpu_weight : 256;
	fx->cap[fx->n] = dom->cap >= 0 ? dom->cap : 0;
	fx->n++;
	*domid = next;
	r = fx_set_config(fx, next, dom);
	if (r < 0)
		return r;
	return fixture_save(fx);
}

static int fx_get_config(void *h, uint32_t domid, struct xlcfg_domain *out)
{
	struct fixture *fx = h;
	struct xlcfg *cfg;
	char *path;
	int r;

	if (asprintf(&path, "%s.%u.cfg", fx->path, domid) < 0)
		return -ENOMEM;
	if (access(path, R_OK) < 0) {
		free(path);
		return -ENOENT; /* a domain the fixture file lists without a config */
	}
	cfg = xlcfg_new(path, stderr);
	r = cfg ? xlcfg_parse_file(cfg, path) : -ENOMEM;
	if (r == 0)
		r = xlcfg_domain_from_cfg(out, cfg);
	xlcfg_free(cfg);
	free(path);
	return r;
}

static int fx_destroy(void *h, uint32_t domid)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	memmove(&fx->dom[i], &fx->dom[i + 1], sizeof(fx->dom[0]) * (size_t)(fx->n - i - 1));
	memmove(&fx->weight[i], &fx->weight[i + 1], sizeof(int) * (size_t)(fx->n - i - 1));
	memmove(&fx->cap[i], &fx->cap[i + 1], sizeof(int) * (size_t)(fx->n - i - 1));
	fx->n--;
	fxd_forget_domain(fx, domid);
	return fixture_save(fx);
}

static int fx_set_paused(struct fixture *fx, uint32_t domid, bool paused)
{
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	fx->dom[i].paused = paused;
	return fixture_save(fx);
}

/* A guest that obeys at once: it shuts down with the reason asked. */
static int fx_shutdown(void *h, uint32_t domid, enum xl_shutdown_kind kind)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	fx->dom[i].shutdown = true;
	fx->dom[i].shutdown_reason = kind == XL_SHUTDOWN_REBOOT ? 1 : 0;
	fx->dom[i].running = fx->dom[i].blocked = false;
	return fixture_save(fx);
}

static int fx_pause(void *h, uint32_t domid)
{
	return fx_set_paused(h, domid, true);
}

static int fx_unpause(void *h, uint32_t domid)
{
	return fx_set_paused(h, domid, false);
}

static int fx_rename(void *h, uint32_t domid, const char *name)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	snprintf(fx->dom[i].name, sizeof(fx->dom[i].name), "%s", name);
	return fixture_save(fx);
}

static int fx_sched_get(void *h, uint32_t domid, int *weight, int *cap)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	*weight = fx->weight[i];
	*cap = fx->cap[i];
	return 0;
}

static int fx_sched_set(void *h, uint32_t domid, int weight, int cap)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	if (weight >= 0)
		fx->weight[i] = weight;
	if (cap >= 0)
		fx->cap[i] = cap;
	return fixture_save(fx);
}

static int fx_host_info(void *h, char ***keys, char ***values, int *n)
{
	struct fixture *fx = h;

	*keys = calloc((size_t)fx->n_info + 1, sizeof(char *));
	*values = calloc((size_t)fx->n_info + 1, sizeof(char *));
	if (!*keys || !*values)
		return -ENOMEM;
	for (int i = 0; i < fx->n_info; i++) {
		(*keys)[i] = strdup(fx->info_keys[i]);
		(*values)[i] = strdup(fx->info_values[i]);
	}
	*n = fx->n_info;
	return 0;
}

/*
 * vCPUs from the domain's line: max_vcpus of them, the first vcpus online,
 * vCPU i on host CPU i, vCPU 0 running when the domain is, the CPU time
 * shared out evenly.
 */
static int fx_vcpu_list(void *h, uint32_t domid, struct xl_vcpu_info **out, int *n)
{
	struct fixture *fx = h;
	const struct xl_domain_info *d;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	d = &fx->dom[i];
	*out = calloc((size_t)d->max_vcpus + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (int v = 0; v < d->max_vcpus; v++) {
		struct xl_vcpu_info *x = &(*out)[v];

		x->vcpu = (uint32_t)v;
		x->online = v < d->vcpus_online;
		x->cpu = x->online ? v : -1;
		x->running = x->online && v == 0 && d->running;
		x->blocked = x->online && !x->running;
		x->cpu_time_ns = d->cpu_time_ns / (uint64_t)d->max_vcpus;
	}
	*n = d->max_vcpus;
	return 0;
}

static int fx_dmesg(void *h, bool clear, char **text)
{
	struct fixture *fx = h;

	*text = fx->log ? strdup(fx->log) : NULL;
	return 0;
}

/* The fake guest console: echo input back with a prefix until "poweroff". */
static void fx_console_child(int fd, const char *name)
{
	char buf[512], out[600];
	ssize_t n;

	dprintf(fd, "[%s console ready]\r\n", name);
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		snprintf(out, sizeof(out), "%s got: %s", name, buf);
		if (write(fd, out, strlen(out)) < 0)
			break;
		if (strstr(buf, "poweroff"))
			break;
	}
	_exit(0);
}

static int fx_console_open(void *h, uint32_t domid, const char *type, int num, int *fd)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid), sv[2];
	pid_t pid;

	if (i < 0)
		return -ENOENT;
	if (strcmp(type, "pv") || num != 0)
		return -ENODEV;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sv[0]);
		fx_console_child(sv[1], fx->dom[i].name);
	}
	close(sv[1]);
	*fd = sv[0];
	return 0;
}

/* An NMI as keeld takes one: any vCPU the domain has (Xen's ESRCH otherwise). */
static int fx_send_nmi(void *h, uint32_t domid, uint32_t vcpu)
{
	struct fixture *fx = h;
	int i = fixture_find(fx, domid);

	if (i < 0)
		return -ENOENT;
	return vcpu < (uint32_t)fx->dom[i].max_vcpus ? 0 : -ESRCH;
}

static const struct xl_backend_ops xl_backend_fixture = {
	.name = "fixture",
	.open = fx_open,
	.close = fx_close,
	.create = fx_create,
	.list = fx_list,
	.get_config = fx_get_config,
	.set_config = fx_set_config,
	.destroy = fx_destroy,
	.shutdown = fx_shutdown,
	.pause = fx_pause,
	.unpause = fx_unpause,
	.rename = fx_rename,
	.sched_credit_get = fx_sched_get,
	.sched_credit_set = fx_sched_set,
	.host_info = fx_host_info,
	.dmesg = fx_dmesg,
	.vcpu_list = fx_vcpu_list,
	.send_nmi = fx_send_nmi,
	.console_open = fx_console_open,
	.device_add = fxd_device_add,
	.device_remove = fxd_device_remove,
	.device_list = fxd_device_list,
};

__attribute__((constructor)) static void xl_backend_fixture_register(void)
{
	xl_backend_register(&xl_backend_fixture);
}
