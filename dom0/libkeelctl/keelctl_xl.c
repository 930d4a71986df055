/*
 * libkeelctl: the operations xl needs beyond building and running a
 * domain -- rename, UUID, memory ceiling, per-vCPU facts, credit
 * scheduler parameters, version, log clearing (keeld: hypervisor/ctl/).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keelctl.h"
#include "keelctl_int.h"

int keelctl_domain_rename(struct keelctl *h, uint32_t domid, const char *name)
{
	struct keelctl_name_req n = {{0}};

	if (!name || !*name || strlen(name) >= sizeof(n.name))
		return -ENAMETOOLONG;
	memcpy(n.name, name, strlen(name));
	return keelctl_call(h, KEELCTL_OP_RENAME, domid, &n, sizeof(n), NULL, 0, NULL, NULL);
}

int keelctl_domain_set_handle(struct keelctl *h, uint32_t domid, const uint8_t handle[16])
{
	return keelctl_call(h, KEELCTL_OP_SET_HANDLE, domid, handle, 16, NULL, 0, NULL, NULL);
}

int keelctl_domain_set_maxmem(struct keelctl *h, uint32_t domid, uint64_t max_kb)
{
	return keelctl_call(h, KEELCTL_OP_SET_MAXMEM, domid, &max_kb, sizeof(max_kb), NULL, 0, NULL,
			    NULL);
}

int keelctl_vcpu_info(struct keelctl *h, uint32_t domid, struct keelctl_vcpuinfo *out, int max)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, KEELCTL_OP_VCPU_INFO, domid, NULL, 0, NULL, 0, &p, &len), n;

	if (r < 0)
		return r;
	if (len % sizeof(*out))
		return -EPROTO;
	n = (int)(len / sizeof(*out));
	memcpy(out, p, (size_t)(n < max ? n : max) * sizeof(*out));
	return n;
}

int keelctl_sched_get(struct keelctl *h, uint32_t domid, struct keelctl_sched *s)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, KEELCTL_OP_SCHED_GET, domid, NULL, 0, NULL, 0, &p, &len);

	if (r < 0)
		return r;
	if (len != sizeof(*s))
		return -EPROTO;
	memcpy(s, p, sizeof(*s));
	return 0;
}

int keelctl_sched_set(struct keelctl *h, uint32_t domid, const struct keelctl_sched *s)
{
	return keelctl_call(h, KEELCTL_OP_SCHED_SET, domid, s, sizeof(*s), NULL, 0, NULL, NULL);
}

int keelctl_version(struct keelctl *h, struct keelctl_version *v)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, KEELCTL_OP_VERSION, 0, NULL, 0, NULL, 0, &p, &len);

	if (r < 0)
		return r;
	if (len != sizeof(*v))
		return -EPROTO;
	memcpy(v, p, sizeof(*v));
	v->extra[sizeof(v->extra) - 1] = 0;
	v->caps[sizeof(v->caps) - 1] = 0;
	return 0;
}

int keelctl_dmesg_clear(struct keelctl *h)
{
	return keelctl_call(h, KEELCTL_OP_DMESG_CLEAR, 0, NULL, 0, NULL, 0, NULL, NULL);
}

int keelctl_debug_keys(struct keelctl *h, const char *keys)
{
	char k[KEELCTL_DEBUG_KEYS_MAX] = {0};

	if (strlen(keys) >= sizeof(k))
		return -E2BIG;
	memcpy(k, keys, strlen(keys));
	return keelctl_call(h, KEELCTL_OP_DEBUG_KEYS, 0, k, sizeof(k), NULL, 0, NULL, NULL);
}

int keelctl_save_state(struct keelctl *h, uint32_t domid, int fd)
{
	return keelctl_call(h, KEELCTL_OP_SAVE_STATE, domid, NULL, 0, &fd, 1, NULL, NULL);
}

int keelctl_domain_resume(struct keelctl *h, uint32_t domid, int cancel)
{
	uint32_t c = cancel != 0;

	return keelctl_call(h, KEELCTL_OP_RESUME, domid, &c, sizeof(c), NULL, 0, NULL, NULL);
}

int keelctl_restore_state(struct keelctl *h, uint32_t domid, int fd)
{
	return keelctl_call(h, KEELCTL_OP_RESTORE_STATE, domid, NULL, 0, &fd, 1, NULL, NULL);
}

static int keelctl_log_dirty_op(struct keelctl *h, uint32_t domid, uint32_t cmd, uint64_t first,
				uint64_t count, uint64_t *bitmap)
{
	struct keelctl_logdirty_req rq = {.cmd = cmd, .first = first, .count = count};
	const void *p = NULL;
	uint32_t len = 0;
	int r = keelctl_call(h, KEELCTL_OP_LOG_DIRTY, domid, &rq, sizeof(rq), NULL, 0, &p, &len);

	if (r < 0 || cmd != KEELCTL_LOGDIRTY_FETCH)
		return r;
	if (len != count / 8)
		return -EPROTO;
	memcpy(bitmap, p, len);
	return 0;
}

int keelctl_log_dirty_enable(struct keelctl *h, uint32_t domid)
{
	return keelctl_log_dirty_op(h, domid, KEELCTL_LOGDIRTY_ENABLE, 0, 0, NULL);
}

int keelctl_log_dirty_disable(struct keelctl *h, uint32_t domid)
{
	return keelctl_log_dirty_op(h, domid, KEELCTL_LOGDIRTY_DISABLE, 0, 0, NULL);
}

int keelctl_log_dirty_fetch(struct keelctl *h, uint32_t domid, uint64_t first, uint64_t count,
			    uint64_t *bitmap)
{
	if (first % 64 || count % 64 || count == 0 || count > KEELCTL_LOGDIRTY_MAX)
		return -EINVAL;
	return keelctl_log_dirty_op(h, domid, KEELCTL_LOGDIRTY_FETCH, first, count, bitmap);
}

int keelctl_log_dirty_fetch_all(struct keelctl *h, uint32_t domid, uint64_t nr_pages,
				uint64_t *bitmap)
{
	uint64_t total = (nr_pages + 63) / 64 * 64;

	/* from frame 0 first: that fetch harvests KVM's log for all of them */
	for (uint64_t first = 0; first < total;) {
		uint64_t n =
			total - first < KEELCTL_LOGDIRTY_MAX ? total - first : KEELCTL_LOGDIRTY_MAX;
		int r = keelctl_log_dirty_fetch(h, domid, first, n, bitmap + first / 64);

		if (r < 0)
			return r;
		first += n;
	}
	return 0;
}

int keelctl_vcpu_pin(struct keelctl *h, uint32_t domid, const struct keelctl_vcpu_pin *p)
{
	return keelctl_call(h, KEELCTL_OP_VCPU_PIN, domid, p, sizeof(*p), NULL, 0, NULL, NULL);
}

int keelctl_dm_data(struct keelctl *h, uint32_t domid, struct keelctl_dm_req *q, void *buf,
		    uint32_t len)
{
	const uint8_t *p;
	uint32_t got;
	int r = keelctl_call(h, KEELCTL_OP_DM, domid, q, sizeof(*q), NULL, 0, (const void **)&p,
			     &got);

	if (r < 0)
		return r;
	if (got != sizeof(*q) + len)
		return -EPROTO;
	memcpy(q, p, sizeof(*q));
	if (len)
		memcpy(buf, p + sizeof(*q), len);
	return 0;
}

int keelctl_dm(struct keelctl *h, uint32_t domid, struct keelctl_dm_req *q)
{
	const void *p;
	uint32_t len;
	int r = keelctl_call(h, KEELCTL_OP_DM, domid, q, sizeof(*q), NULL, 0, &p, &len);

	if (r < 0)
		return r;
	if (len != sizeof(*q))
		return -EPROTO;
	memcpy(q, p, sizeof(*q));
	return 0;
}
