/*
 * xs-ring: a guest that talks xs_wire to keel-xenstored over its own store
 * ring (start_info's store_mfn and store_evtchn) through the runtime's
 * xenbus client (frontends/runtime/xenbus.c), as a kernel's xenbus does.
 * It writes, reads and lists nodes under its home /local/domain/<id> by
 * relative and absolute paths, sets a watch and sees it fire, and is
 * refused access to dom0's nodes.  Watch events that arrive while a reply
 * is awaited are kept aside by the client, as xenbus does.
 */
#include "../../../frontends/runtime/keel_guest.h"
#include "../../../frontends/runtime/xenbus.h"

#define XS_EVENT_NS 5000000000ULL

static int xs_dir_has(const char *list, unsigned len, const char *name)
{
	unsigned i = 0;

	while (i < len && list[i]) {
		if (rt_streq(list + i, name))
			return 1;
		i += rt_strlen(list + i) + 1;
	}
	return 0;
}

void test_main(void)
{
	static char buf[1024], home[64], abs[96], ev_path[128];
	unsigned domid = 0;
	int t, i, timeouts = 0;
	unsigned seen;

	rt_check(xb_init() == 0, "xenbus client on the store ring", 0);

	/* who am I: the relative path "domid" is /local/domain/<id>/domid */
	t = xb_call(XS_READ, "domid", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_READ, "read relative 'domid'", t);
	for (i = 0; t == XS_READ && buf[i] >= '0' && buf[i] <= '9'; i++)
		domid = domid * 10 + (unsigned)(buf[i] - '0');
	rt_check(domid > 0, "our domid from the store", domid);
	rt_printf("xs-ring: domid %u\n", domid);

	t = xb_call(XS_GET_DOMAIN_PATH, buf, NULL, 0, home, sizeof(home));
	rt_check(t == XS_GET_DOMAIN_PATH && home[0] == '/', "get-domain-path", t);
	rt_printf("xs-ring: home %s\n", home);

	t = xb_call(XS_WRITE, "data/xs-ring", "hello ring", 0, buf, sizeof(buf));
	rt_check(t == XS_WRITE && rt_streq(buf, "OK"), "write data/xs-ring (relative)", t);
	t = xb_call(XS_READ, "data/xs-ring", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_READ && rt_streq(buf, "hello ring"), "read it back", t);

	/* the same node by its absolute path */
	rt_strlcpy(abs, home, sizeof(abs));
	rt_strlcpy(abs + rt_strlen(abs), "/data/xs-ring", sizeof(abs) - rt_strlen(abs));
	t = xb_call(XS_READ, abs, NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_READ && rt_streq(buf, "hello ring"), "read it by absolute path", t);
	t = xb_call(XS_WRITE, "data/second", "2", 0, buf, sizeof(buf));
	rt_check(t == XS_WRITE, "write data/second", t);
	t = xb_call(XS_DIRECTORY, "data", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_DIRECTORY && xs_dir_has(buf, sizeof(buf), "xs-ring") &&
			 xs_dir_has(buf, sizeof(buf), "second"),
		 "directory data lists both", t);

	/* the client's typed calls: value lengths, errno, listings */
	t = xb_read("data/xs-ring", buf, sizeof(buf));
	rt_check(t == 10 && rt_streq(buf, "hello ring"), "xb_read: the value's length", t);
	t = xb_printf("data/num", "%u", 4242u);
	rt_check(t == 0, "xb_printf", t);
	{
		uint64_t v = 0;

		t = xb_read_u64("data/num", &v);
		rt_check(t == 0 && v == 4242, "xb_read_u64 reads it back", (long)v);
	}
	t = xb_read("data/xs-ring", buf, 4);
	rt_check(t == -XEN_E2BIG, "xb_read into a short buffer: -E2BIG", t);
	t = xb_directory("data", buf, sizeof(buf));
	rt_check(t == 3, "xb_directory counts 3 children", t);

	/* a watch fires once on registration, then on each change */
	seen = xb_watch_events();
	t = xb_watch("data/watched", "tok1");
	rt_check(t == 0, "watch data/watched", t);
	t = xb_wait_watch("tok1", ev_path, sizeof(ev_path), XS_EVENT_NS);
	timeouts += t == -XEN_ETIME;
	rt_check(t == 0 && xb_watch_events() > seen, "initial watch event", t);
	t = xb_call(XS_WRITE, "data/watched/leaf", "x", 0, buf, sizeof(buf));
	rt_check(t == XS_WRITE, "write under the watch", t);
	t = xb_wait_watch("tok1", ev_path, sizeof(ev_path), XS_EVENT_NS);
	timeouts += t == -XEN_ETIME;
	rt_check(t == 0 && rt_streq(ev_path, "data/watched/leaf"),
		 "watch event for data/watched/leaf (relative path)", t);
	rt_printf("xs-ring: event path %s token tok1\n", ev_path);
	t = xb_unwatch("data/watched", "tok1");
	rt_check(t == 0, "unwatch", t);
	xb_write("data/watched/other", "y");
	t = xb_wait_watch("tok1", NULL, 0, 300000000ULL);
	rt_check(t == -XEN_ETIME, "no event after unwatch", t);
	t = xb_call(XS_RM, "data/second", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_RM, "rm data/second", t);
	t = xb_call(XS_READ, "data/second", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && rt_streq(buf, "ENOENT"), "removed node is ENOENT", t);

	/* another domain's nodes: dom0's are not ours */
	t = xb_call(XS_READ, "/local/domain/0/name", NULL, 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && rt_streq(buf, "EACCES"), "read dom0's name refused (EACCES)", t);
	rt_printf("xs-ring: dom0 read answer %s\n", buf);
	t = xb_read("/local/domain/0/name", buf, sizeof(buf));
	rt_check(t == -XEN_EACCES, "xb_read of dom0's name: -EACCES", t);
	t = xb_read("data/second", buf, sizeof(buf));
	rt_check(t == -XEN_ENOENT, "xb_read of a removed node: -ENOENT", t);
	t = xb_call(XS_WRITE, "/local/domain/0/intruder", "x", 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && rt_streq(buf, "EACCES"), "write under dom0 refused (EACCES)", t);
	t = xb_call(XS_WRITE, "/tool/intruder", "x", 0, buf, sizeof(buf));
	rt_check(t == XS_ERROR && rt_streq(buf, "EACCES"), "write at a root node refused", t);
	rt_check(!timeouts, "no store request timed out", timeouts);
	rt_printf("xs-ring: %u watch events\n", xb_watch_events());
}
