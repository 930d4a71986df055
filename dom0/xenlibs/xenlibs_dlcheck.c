/*
 * keel-xenlibs-dlcheck LIBRARY NAME@VERSION...: load LIBRARY as the
 * dynamic loader would for a program built against Xen (dlopen, every
 * symbol bound now) and look each NAME up at exactly VERSION (dlvsym), as
 * the loader does for a versioned import.  Prints what does not resolve;
 * exit 0 when everything did.  Used by tests/integration/xenlibs-abi.sh.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	void *lib;
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: keel-xenlibs-dlcheck LIBRARY NAME@VERSION...\n");
		return 2;
	}
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "keel-xenlibs-dlcheck: %s\n", dlerror());
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		char name[256], *at;

		snprintf(name, sizeof(name), "%s", argv[i]);
		at = strchr(name, '@');
		if (!at) {
			fprintf(stderr, "keel-xenlibs-dlcheck: %s: no @VERSION\n", argv[i]);
			bad = 1;
			continue;
		}
		*at = 0;
		if (!dlvsym(lib, name, at + 1)) {
			printf("unresolved: %s@%s\n", name, at + 1);
			bad = 1;
		}
	}
	dlclose(lib);
	return bad;
}
