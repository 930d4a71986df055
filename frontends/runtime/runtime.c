/*
 * The runtime's C part: console printf (on the console ring, console.c), shutdown, tiny
 * libc pieces, and the in-guest test verdict ("Test result: SUCCESS" /
 * "FAILURE") the integration tests look for.
 */
#include "keel_guest.h"

struct start_info *rt_start_info;
static int rt_failures, rt_checks;

/* rep stos/movs: native speed in ring 3, and fast-string microcode on big runs. */
void *rt_memset(void *d, int c, size_t n)
{
	void *p = d;

	__asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
	return d;
}

void *rt_memcpy(void *d, const void *s, size_t n)
{
	void *p = d;

	__asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(n) : : "memory");
	return d;
}

int rt_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}

void *memset(void *d, int c, size_t n)
{
	return rt_memset(d, c, n);
}

void *memcpy(void *d, const void *s, size_t n)
{
	return rt_memcpy(d, s, n);
}

static char rt_buf[512];
static unsigned rt_len;

static void rt_flush(void)
{
	rt_console_write(rt_buf, rt_len);
	rt_len = 0;
}

static void rt_putc(char c)
{
	if (rt_len == sizeof(rt_buf))
		rt_flush();
	rt_buf[rt_len++] = c;
	if (c == '\n')
		rt_flush();
}

/* Where formatted output goes: the console buffer, or a caller's string. */
struct rt_sink {
	char *buf; /* NULL: the console */
	unsigned size, len;
};

static void rt_sink_put(struct rt_sink *s, char c)
{
	if (!s->buf) {
		rt_putc(c);
		return;
	}
	if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void rt_putnum(struct rt_sink *s, uint64_t v, unsigned base, int neg, int width)
{
	char tmp[24];
	int n = 0;

	if (neg)
		rt_sink_put(s, '-');
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		rt_sink_put(s, '0');
	while (n)
		rt_sink_put(s, tmp[--n]);
}

/* The formats the runtime needs: %d %u %x (with l/ll), %p, %s, %c, %%. */
static void rt_format(struct rt_sink *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int lng = 0;

		if (*fmt != '%') {
			rt_sink_put(o, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			int64_t x = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			rt_putnum(o, x < 0 ? -(uint64_t)x : (uint64_t)x, 10, x < 0, 0);
			break;
		}
		case 'u':
			rt_putnum(o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, 0);
			break;
		case 'x':
			rt_putnum(o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, 0);
			break;
		case 'p':
			rt_sink_put(o, '0');
			rt_sink_put(o, 'x');
			rt_putnum(o, (uint64_t)va_arg(ap, void *), 16, 0, 16);
			break;
		case 'c':
			rt_sink_put(o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			while (str && *str)
				rt_sink_put(o, *str++);
			break;
		}
		case '%':
			rt_sink_put(o, '%');
			break;
		case 0:
			return;
		default:
			rt_sink_put(o, '?');
		}
	}
}

void rt_vprintf(const char *fmt, va_list ap)
{
	struct rt_sink con = {0};

	rt_format(&con, fmt, ap);
}

int rt_vsnprintf(char *buf, unsigned size, const char *fmt, va_list ap)
{
	struct rt_sink o = {buf, size, 0};

	rt_format(&o, fmt, ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int rt_snprintf(char *buf, unsigned size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

unsigned rt_strlen(const char *s)
{
	unsigned n = 0;

	while (s[n])
		n++;
	return n;
}

int rt_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void rt_strlcpy(char *d, const char *s, unsigned size)
{
	unsigned i;

	if (!size)
		return;
	for (i = 0; i + 1 < size && s[i]; i++)
		d[i] = s[i];
	d[i] = 0;
}

void rt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
}

void rt_shutdown(unsigned reason)
{
	struct sched_shutdown s = {reason};

	rt_flush();
	for (;;)
		HYPERCALL(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &s, 0);
}

void rt_check(int ok, const char *what, long got)
{
	rt_checks++;
	if (!ok)
		rt_failures++;
	rt_printf("%s: %s (got %ld)\n", ok ? "ok  " : "FAIL", what, got);
}

void rt_test_done(void)
{
	rt_printf("%d checks, %d failed\n", rt_checks, rt_failures);
	rt_printf("Test result: %s\n", rt_failures ? "FAILURE" : "SUCCESS");
	rt_shutdown(SHUTDOWN_poweroff);
}

void rt_main(struct start_info *si)
{
	rt_start_info = si;
	test_main();
	rt_test_done();
}

/*
 * The value after "key=" on the start_info command line (the key starting
 * the line or following a space), or NULL.  Test guests take their
 * parameters this way from the toolstack or the test script.
 */
const char *rt_cmdline_arg(const char *key)
{
	const char *line = (const char *)rt_start_info->cmd_line;
	size_t max = sizeof(rt_start_info->cmd_line);

	for (size_t i = 0; i < max && line[i]; i++) {
		size_t k = 0;

		if (i > 0 && line[i - 1] != ' ')
			continue;
		while (key[k] && i + k < max && line[i + k] == key[k])
			k++;
		if (!key[k] && i + k < max && line[i + k] == '=')
			return line + i + k + 1;
	}
	return NULL;
}

/* The decimal number after "key=" (at most 9 digits), or -1. */
long rt_cmdline_num(const char *key)
{
	const char *q = rt_cmdline_arg(key);
	long v = 0;
	int n = 0;

	for (; q && *q >= '0' && *q <= '9' && n < 9; q++, n++)
		v = v * 10 + (*q - '0');
	return n ? v : -1;
}
