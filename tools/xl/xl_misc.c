/*
 * Xen's smaller domain commands: trigger and its deprecated alias
 * button-press, vm-list, and config-update.  Formats and exit statuses are
 * xl 4.17's: a trigger the hypervisor refuses is reported as libxl logs it
 * and, as xl ignores libxl_send_trigger's result, still exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xl.h"
#include "xl_backend.h"

/*
 * libxl_trigger's names, and what the hypervisor answers for a PV guest
 * where the backend has no send_trigger (the test double): Xen refuses
 * power and sleep for a PV domain (no ACPI: EINVAL), init and reset
 * everywhere (ENOSYS) and s3resume without a device model (EINVAL); an
 * NMI goes to the vCPU named (default 0) through send_nmi.  The keeld
 * backend asks keeld for every trigger (HVM domains: NMI, the power and
 * sleep buttons; s3resume through QEMU).
 */
static const struct {
	const char *name;
	int err;
} triggers[] = {
	{"power", EINVAL}, {"sleep", EINVAL}, {"nmi", 0},
	{"init", ENOSYS},  {"reset", ENOSYS}, {"s3resume", EINVAL},
};

static int send_trigger(const char *qualifier, const char *name, uint32_t vcpu)
{
	struct xl_backend *be;
	uint32_t domid;
	bool be_has_trigger;
	size_t i;
	int err;

	for (i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++)
		if (!strcmp(triggers[i].name, name))
			break;
	be = xl_devcmd_open(qualifier, &domid);
	if (!be)
		return 1;
	be_has_trigger = be->ops->send_trigger != NULL;
	if (be_has_trigger)
		err = -be->ops->send_trigger(be->handle, domid, name, vcpu);
	else if (!(err = triggers[i].err))
		err = be->ops->send_nmi ? -be->ops->send_nmi(be->handle, domid, vcpu) : EOPNOTSUPP;
	xl_backend_disconnect(be);
	/* s3resume fails in libxl's QMP callback, which logs libxl's rc:
	 * ERROR_INVAL (-6) for a domain without a device model, for QEMU's
	 * refusal ERROR_QMP_GENERIC_ERROR (-28), else ERROR_FAIL (-3) */
	if (err && !strcmp(name, "s3resume") && be_has_trigger)
		fprintf(stderr,
			"libxl: error: libxl_domain.c:2162:domain_s3_resume_done: Domain %u:Send "
			"trigger 's3resume' failed, rc=%d\n",
			domid,
			err == EINVAL ? -6
			: err == EIO  ? -28
				      : -3);
	else if (err)
		fprintf(stderr,
			"libxl: error: libxl_domain.c:2207:libxl_send_trigger: Domain %u:Send "
			"trigger '%s' failed: %s\n",
			domid, triggers[i].name, strerror(err));
	return 0;
}

int main_trigger(int argc, char **argv)
{
	const char *dom, *name;
	long vcpu = 0;
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "trigger", 2)
	{
	}
	dom = argv[optind++];
	name = argv[optind++];
	for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++)
		if (!strcmp(triggers[i].name, name)) {
			if (argv[optind]) {
				char *end;

				vcpu = strtol(argv[optind], &end, 10);
				if (vcpu == 0 && end == argv[optind])
					fprintf(stderr,
						"Invalid vcpuid, using default vcpuid=0.\n\n");
			}
			return send_trigger(dom, name, (uint32_t)vcpu);
		}
	fprintf(stderr, "Invalid trigger \"%s\"\n", name);
	return 1;
}

int main_button_press(int argc, char **argv)
{
	int opt;

	fprintf(stderr, "WARNING: \"button-press\" is deprecated. Please use \"trigger\"\n");
	XL_FOREACH_OPT(opt, "", NULL, "button-press", 2)
	{
	}
	if (strcmp(argv[optind + 1], "power") && strcmp(argv[optind + 1], "sleep")) {
		fprintf(stderr, "%s is an invalid button identifier\n", argv[optind + 1]);
		return 1;
	}
	return send_trigger(argv[optind], argv[optind + 1], 0);
}

/* libxl_list_vm: the guests (not dom0), UUID first. */
int main_vm_list(int argc, char **argv)
{
	struct xl_domain_info *doms = NULL;
	struct xl_backend *be;
	int opt, n = 0, r;

	XL_FOREACH_OPT(opt, "", NULL, "vm-list", 0)
	{
	}
	be = xl_backend_connect();
	if (!be)
		return 1;
	r = be->ops->list ? be->ops->list(be->handle, &doms, &n) : -ENOSYS;
	if (r < 0) {
		fprintf(stderr, "libxl_list_vm failed.\n");
		xl_backend_disconnect(be);
		return 1;
	}
	printf("UUID                                  ID    name\n");
	for (int i = 0; i < n; i++) {
		char uuid[37];

		if (doms[i].domid == 0)
			continue;
		xlcfg_uuid_unparse(doms[i].uuid, uuid);
		printf("%s  %d    %-30s\n", uuid, (int)doms[i].domid, doms[i].name);
	}
	free(doms);
	xl_backend_disconnect(be);
	return 0;
}

/*
 * config-update DOMAIN [CONFIGFILE] [-f FILE] [-d] [key=value...]: replace
 * the configuration a domain is rebuilt from (its reboot, xl list -l).
 */
int main_config_update(int argc, char **argv)
{
	static const struct option opts[] = {{"defconfig", 1, 0, 'f'}, XL_COMMON_LONG_OPTS};
	const char *filename = NULL, *dom;
	struct xlcfg_domain cfg;
	struct xl_backend *be;
	char *extra = NULL;
	bool debug = false;
	uint32_t domid;
	int opt, rc = 0, r;

	if (argc < 2) {
		fprintf(stderr, "xl config-update requires a domain argument\n");
		xl_help("config-update");
		return 1;
	}
	fprintf(stderr, "WARNING: xl now has better capability to manage domain configuration, "
			"avoid using this command when possible\n");
	dom = argv[1];
	argc--;
	argv++;
	if (argv[1] && argv[1][0] != '-' && !strchr(argv[1], '=')) {
		filename = argv[1];
		argc--;
		argv++;
	}
	XL_FOREACH_OPT(opt, "dqf:", opts, "config-update", 0)
	{
	case 'd':
		debug = true;
		break;
	case 'f':
		filename = optarg;
		break;
	}
	rc = xl_config_args(argc, argv, &filename, &extra, "create");
	if (rc)
		return rc;
	if (!filename) {
		fprintf(stderr, "Config file not specified\n");
		free(extra);
		return 1;
	}
	be = xl_backend_connect();
	if (!be) {
		free(extra);
		return 1;
	}
	if (xl_find_domain(be, dom, &domid) < 0) {
		rc = 1;
		goto out;
	}
	rc = xl_load_config(filename, extra, &cfg, true);
	if (rc)
		goto out;
	if (!cfg.uuid_given) { /* the domain keeps its UUID */
		struct xl_domain_info *doms = NULL;
		int n = 0;

		if (be->ops->list && be->ops->list(be->handle, &doms, &n) == 0)
			for (int i = 0; i < n; i++)
				if (doms[i].domid == domid)
					memcpy(cfg.uuid, doms[i].uuid, sizeof(cfg.uuid));
		free(doms);
	}
	if (debug || xl_dryrun_only) /* as create -n prints it */
		xlcfg_domain_to_json(&cfg, stdout);
	if (!xl_dryrun_only) {
		fprintf(stderr, "setting dom%u configuration\n", domid);
		r = be->ops->set_config ? be->ops->set_config(be->handle, domid, &cfg) : -ENOSYS;
		if (r < 0) {
			fprintf(stderr, "failed to update configuration\n");
			rc = 1;
		}
	}
	xlcfg_domain_clear(&cfg);
out:
	free(extra);
	xl_backend_disconnect(be);
	return rc;
}

/*
 * The FLASK commands, as xl on a Xen built without XSM: libxl's calls fail
 * with ENOSYS, xl says so and exits with their -1 (255).
 */
int main_getenforce(int argc, char **argv)
{
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "getenforce", 0)
	{
	}
	printf("Flask XSM Disabled\n");
	return 255;
}

int main_setenforce(int argc, char **argv)
{
	const char *p;
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "setenforce", 0)
	{
	}
	p = argv[optind];
	if (!p || (strcmp(p, "0") && strcmp(p, "1") && strcasecmp(p, "permissive") &&
		   strcasecmp(p, "enforcing"))) {
		xl_help("setenforce");
		return 2;
	}
	fprintf(stderr, "Flask XSM disabled\n");
	return 255;
}

int main_loadpolicy(int argc, char **argv)
{
	char *policy;
	size_t len;
	int opt;

	XL_FOREACH_OPT(opt, "", NULL, "loadpolicy", 0)
	{
	}
	if (optind >= argc) {
		xl_help("loadpolicy");
		return 2;
	}
	policy = xl_read_file(argv[optind], &len);
	if (!policy) {
		fprintf(stderr, "Error occurred opening policy file '%s': %s\n", argv[optind],
			strerror(errno));
		return 255;
	}
	free(policy);
	fprintf(stderr, "Flask XSM disabled\n");
	return 255;
}
