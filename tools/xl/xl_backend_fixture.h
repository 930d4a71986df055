/*
 * Shared between the files of xl-fixture's test-double backend: the
 * domains (xl_backend_fixture.c) and their PV devices in a flat text store
 * (xl_backend_fixture_device.c).
 */
#ifndef KEEL_XL_BACKEND_FIXTURE_H
#define KEEL_XL_BACKEND_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "xl_backend.h"

/* The fixture file ($XL_FIXTURE) of an open handle. */
const char *fixture_path(void *h);
bool fixture_domain_exists(void *h, uint32_t domid);
/* The domid of the fixture domain called @name; -ENOENT. */
int fixture_find_name(void *h, const char *name, uint32_t *domid);

int fxd_device_add(void *h, uint32_t domid, struct xl_dev_spec *dev);
int fxd_device_remove(void *h, uint32_t domid, enum xl_dev_kind kind, uint32_t devid, bool force);
int fxd_device_list(void *h, uint32_t domid, enum xl_dev_kind kind, struct xl_dev_info **out,
		    int *n);
/* Drop every device node of a destroyed domain. */
void fxd_forget_domain(void *h, uint32_t domid);

#endif
