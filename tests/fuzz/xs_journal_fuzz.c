/*
 * libFuzzer target for keel-xenstored's journal replay: the journal file is
 * input from disk that a crash (or a person) may have damaged.  Half the
 * inputs are written as they are; the other half are cut into batches that
 * the harness frames with a correct length and CRC-32, so the fuzzer gets
 * past the checksum to the record decoder.  Replay must never crash and must
 * leave a consistent tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../../xenstore-like/xs_store.h"

static char xs_jf_dir[64];
static char xs_jf_file[96];

static int xs_jf_check(void *o, const char *path, const struct xs_node *n)
{
	const struct xs_node *c;
	uint32_t cnt = 0;

	for (c = n->first; c; c = c->next, cnt++)
		if (c->parent != n)
			abort();
	if (cnt != n->nchildren || !n->nperms || n->nperms > XS_MAX_PERMS)
		abort();
	(*(size_t *)o)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xs_server s;
	size_t nodes = 0, off = 1;
	FILE *f;

	if (!xs_jf_dir[0]) {
		strcpy(xs_jf_dir, "/tmp/keel-xs-jfuzz-XXXXXX");
		if (!mkdtemp(xs_jf_dir))
			abort();
		snprintf(xs_jf_file, sizeof(xs_jf_file), "%s/journal", xs_jf_dir);
	}
	if (!size)
		return 0;
	f = fopen(xs_jf_file, "wb");
	if (!f)
		abort();
	fwrite("KXSJRNL1", 1, 8, f);
	if (data[0] & 1) {
		fwrite(data + 1, 1, size - 1, f);
	} else {
		while (off + 2 <= size) {
			uint32_t hdr[2];
			size_t len = data[off] | (size_t)data[off + 1] << 8;

			off += 2;
			if (len > size - off)
				len = size - off;
			hdr[0] = (uint32_t)len;
			hdr[1] = (uint32_t)crc32(0, data + off, (uInt)len);
			fwrite(hdr, 1, sizeof(hdr), f);
			fwrite(data + off, 1, len, f);
			off += len;
		}
	}
	fclose(f);
	xs_log_quiet = true;
	if (xs_server_init(&s, NULL))
		return 0;
	xs_server_open_journal(&s, xs_jf_dir, false);
	xs_tree_walk(&s.tree, xs_jf_check, &nodes);
	if (nodes != s.tree.count)
		abort();
	xs_server_destroy(&s);
	unlink(xs_jf_file);
	return 0;
}
