/*
 * The xl.cfg parser: statements are `key = value` or `key += value`, ended
 * by a newline or ';' (the last one may end at end of file); a value is a
 * string, a number, or a bracketed list of values in which newlines (and so
 * comments) may appear anywhere and a trailing comma is allowed.  A later
 * setting of a key replaces an earlier one; `+=` concatenates to the earlier
 * string or list.  This is the grammar of xl's libxlutil (libxlu_cfg_y.y),
 * written as a recursive-descent parser with the same recovery: after a
 * syntax error the rest of the line is skipped and parsing goes on, so every
 * bad line is reported, but the parse as a whole fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_internal.h"

struct cfg_parser {
	struct cfg_lexer lx;
	struct cfg_token tok; /* current token */
	int err;	      /* -ENOMEM stops everything */
	int depth;
};

struct xlcfg *xlcfg_new(const char *source, FILE *report)
{
	struct xlcfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->source = strdup(source ? source : "<config>");
	cfg->report = report ? report : stderr;
	if (!cfg->source) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

static void value_free(struct xlcfg_value *v)
{
	if (!v)
		return;
	if (v->type == XLCFG_LIST) {
		for (int i = 0; i < v->n_items; i++)
			value_free(v->items[i]);
		free(v->items);
	}
	free(v->string);
	free(v);
}

void xlcfg_free(struct xlcfg *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < cfg->n_settings; i++) {
		free(cfg->settings[i].name);
		value_free(cfg->settings[i].value);
	}
	free(cfg->settings);
	free(cfg->source);
	free(cfg);
}

static void parser_next(struct cfg_parser *ps)
{
	free(ps->tok.value);
	cfg_lex_next(&ps->lx, &ps->tok);
	if (ps->tok.type == TOK_NOMEM)
		ps->err = -ENOMEM;
}

/* Take ownership of the current token's text. */
static char *parser_take(struct cfg_parser *ps)
{
	char *s = ps->tok.value;

	ps->tok.value = NULL;
	return s;
}

static void syntax_error(struct cfg_parser *ps, const char *expecting)
{
	char msg[160];
	struct cfg_token *t = &ps->tok;

	if (t->type == TOK_ERROR || t->type == TOK_NOMEM)
		return; /* the lexer has reported it */
	if (ps->lx.err_line == t->line) {
		ps->lx.cfg->n_errors++;
		return;
	}
	snprintf(msg, sizeof(msg), "syntax error, unexpected %s, expecting %s",
		 cfg_tok_name(t->type), expecting);
	cfg_report_near(ps->lx.cfg, t->line, t->col, t->text, t->len, msg);
	ps->lx.err_line = t->line;
}

static void skip_newlines(struct cfg_parser *ps)
{
	while (ps->tok.type == TOK_NEWLINE)
		parser_next(ps);
}

static int list_append(struct xlcfg_value *list, struct xlcfg_value *v)
{
	if (list->n_items == list->cap_items) {
		int cap = list->cap_items ? list->cap_items * 2 : 4;
		struct xlcfg_value **items = realloc(list->items, sizeof(*items) * (size_t)cap);

		if (!items)
			return -ENOMEM;
		list->items = items;
		list->cap_items = cap;
	}
	list->items[list->n_items++] = v;
	return 0;
}

static struct xlcfg_value *parse_value(struct cfg_parser *ps);

static struct xlcfg_value *parse_list(struct cfg_parser *ps, struct xlcfg_value *list)
{
	parser_next(ps); /* '[' */
	skip_newlines(ps);
	if (ps->tok.type == TOK_RBRACK)
		goto done;
	for (;;) {
		struct xlcfg_value *v = parse_value(ps);

		if (!v)
			goto fail;
		if (list_append(list, v) < 0) {
			value_free(v);
			ps->err = -ENOMEM;
			goto fail;
		}
		skip_newlines(ps);
		if (ps->tok.type == TOK_RBRACK)
			break;
		if (ps->tok.type != TOK_COMMA) {
			syntax_error(ps, "',' or ']'");
			goto fail;
		}
		parser_next(ps);
		skip_newlines(ps);
		if (ps->tok.type == TOK_RBRACK)
			break; /* trailing comma */
	}
done:
	parser_next(ps); /* ']' */
	return list;
fail:
	value_free(list);
	return NULL;
}

/* value: STRING | NUMBER | '[' list ']'.  Leaves the token after the value current. */
static struct xlcfg_value *parse_value(struct cfg_parser *ps)
{
	struct xlcfg_value *v;

	if (ps->err)
		return NULL;
	if (ps->tok.type != TOK_STRING && ps->tok.type != TOK_NUMBER &&
	    ps->tok.type != TOK_LBRACK) {
		syntax_error(ps, "STRING or NUMBER or '['");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		ps->err = -ENOMEM;
		return NULL;
	}
	v->line = ps->tok.line;
	v->col = ps->tok.col;
	if (ps->tok.type != TOK_LBRACK) {
		v->type = XLCFG_STRING;
		v->quoted = ps->tok.type == TOK_STRING;
		v->string = parser_take(ps);
		parser_next(ps);
		return v;
	}
	v->type = XLCFG_LIST;
	if (++ps->depth > XLCFG_MAX_DEPTH) {
		cfg_report_near(ps->lx.cfg, ps->tok.line, ps->tok.col, ps->tok.text, ps->tok.len,
				"lists nested too deeply");
		ps->lx.err_line = ps->tok.line;
		ps->depth--;
		free(v);
		return NULL;
	}
	v = parse_list(ps, v);
	ps->depth--;
	return v;
}

static struct xlcfg_value *value_dup(const struct xlcfg_value *v)
{
	struct xlcfg_value *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->type = v->type;
	d->line = v->line;
	d->col = v->col;
	d->quoted = v->quoted;
	if (v->string && !(d->string = strdup(v->string)))
		goto fail;
	for (int i = 0; i < v->n_items; i++) {
		struct xlcfg_value *c = value_dup(v->items[i]);

		if (!c || list_append(d, c) < 0) {
			value_free(c);
			goto fail;
		}
	}
	return d;
fail:
	value_free(d);
	return NULL;
}

/*
 * `key += value`: prepend the previous setting's value (string concatenation
 * or list concatenation), as xl does.  Returns 0, -EINVAL (reported) or -ENOMEM.
 */
static int concat_previous(struct cfg_parser *ps, const char *name, struct xlcfg_value *v, int line,
			   int col)
{
	struct xlcfg *cfg = ps->lx.cfg;
	const struct xlcfg_value *prev = NULL;

	for (int i = cfg->n_settings; i-- > 0;) {
		if (!strcmp(cfg->settings[i].name, name)) {
			prev = cfg->settings[i].value;
			break;
		}
	}
	if (!prev)
		return 0;
	if (prev->type != v->type) {
		xlcfg_error(cfg, line, col,
			    "config parsing error: can't add [list] to \"string\" or vice versa "
			    "for `%s'",
			    name);
		return -EINVAL;
	}
	if (v->type == XLCFG_STRING) {
		char *s;

		if (asprintf(&s, "%s%s", prev->string, v->string) < 0)
			return -ENOMEM;
		free(v->string);
		v->string = s;
		return 0;
	}
	struct xlcfg_value *joined = value_dup(prev);

	if (!joined)
		return -ENOMEM;
	for (int i = 0; i < v->n_items; i++) {
		if (list_append(joined, v->items[i]) < 0) {
			/* items moved so far belong to joined; forget them in v */
			memmove(v->items, v->items + i,
				sizeof(*v->items) * (size_t)(v->n_items - i));
			v->n_items -= i;
			value_free(joined);
			return -ENOMEM;
		}
	}
	/* Swap the joined items into v (v keeps its position). */
	free(v->items);
	v->items = joined->items;
	v->n_items = joined->n_items;
	v->cap_items = joined->cap_items;
	joined->items = NULL;
	joined->n_items = 0;
	value_free(joined);
	return 0;
}

static int store_setting(struct cfg_parser *ps, char *name, enum xlcfg_op op, struct xlcfg_value *v,
			 int line, int col)
{
	struct xlcfg *cfg = ps->lx.cfg;
	struct xlcfg_setting *s;

	if (cfg->n_settings == cfg->cap_settings) {
		int cap = cfg->cap_settings ? cfg->cap_settings * 2 : 16;
		struct xlcfg_setting *n = realloc(cfg->settings, sizeof(*n) * (size_t)cap);

		if (!n)
			goto nomem;
		cfg->settings = n;
		cfg->cap_settings = cap;
	}
	s = &cfg->settings[cfg->n_settings++];
	s->name = name;
	s->value = v;
	s->op = op;
	s->line = line;
	s->col = col;
	s->used = false;
	return 0;
nomem:
	free(name);
	value_free(v);
	ps->err = -ENOMEM;
	return -ENOMEM;
}

/* assignment: IDENT ('=' | '+=') value, then NEWLINE, ';' or end of file. */
static int parse_assignment(struct cfg_parser *ps)
{
	int line = ps->tok.line, col = ps->tok.col, r;
	char *name = parser_take(ps);
	enum xlcfg_op op;
	struct xlcfg_value *v;

	parser_next(ps);
	if (ps->tok.type != TOK_EQ && ps->tok.type != TOK_ADD) {
		syntax_error(ps, "'=' or \"+=\"");
		free(name);
		return -EINVAL;
	}
	op = ps->tok.type == TOK_ADD ? XLCFG_APPEND : XLCFG_ASSIGN;
	parser_next(ps);
	v = parse_value(ps);
	if (!v) {
		free(name);
		return ps->err ? ps->err : -EINVAL;
	}
	if (ps->tok.type != TOK_NEWLINE && ps->tok.type != TOK_SEMI && ps->tok.type != TOK_EOF) {
		syntax_error(ps, "NEWLINE or ';'");
		free(name);
		value_free(v);
		return -EINVAL;
	}
	if (op == XLCFG_APPEND) {
		r = concat_previous(ps, name, v, line, col);
		if (r < 0) {
			if (r == -ENOMEM)
				ps->err = r;
			else
				ps->lx.err_line = line;
			free(name);
			value_free(v);
			return r;
		}
	}
	return store_setting(ps, name, op, v, line, col);
}

int xlcfg_parse_data(struct xlcfg *cfg, const char *data, size_t len)
{
	struct cfg_parser ps = {.err = 0};
	int errors_before = cfg->n_errors;

	if (len > XLCFG_MAX_INPUT) {
		xlcfg_error(cfg, 0, 0, "configuration is too large (%zu bytes, limit %u)", len,
			    XLCFG_MAX_INPUT);
		return -EFBIG;
	}
	cfg_lex_init(&ps.lx, cfg, data, len);
	cfg_lex_next(&ps.lx, &ps.tok);
	if (ps.tok.type == TOK_NOMEM)
		ps.err = -ENOMEM;
	while (!ps.err && ps.tok.type != TOK_EOF) {
		switch (ps.tok.type) {
		case TOK_NEWLINE:
		case TOK_SEMI:
			parser_next(&ps);
			continue;
		case TOK_IDENT:
			if (parse_assignment(&ps) == 0) {
				if (ps.tok.type != TOK_EOF)
					parser_next(&ps); /* the terminator */
				continue;
			}
			break;
		default:
			syntax_error(&ps, "IDENT or NEWLINE or ';'");
			break;
		}
		/* Recovery: skip to the end of the line, as xl's `error NEWLINE`. */
		while (!ps.err && ps.tok.type != TOK_NEWLINE && ps.tok.type != TOK_EOF)
			parser_next(&ps);
	}
	free(ps.tok.value);
	if (ps.err) {
		xlcfg_error(cfg, 0, 0, "out of memory while parsing");
		return ps.err;
	}
	if (cfg->n_errors != errors_before) {
		if (cfg->likely_python)
			fprintf(cfg->report,
				"warning: Config file looks like it contains Python code.\n"
				"warning:  Arbitrary Python is no longer supported.\n");
		return -EINVAL;
	}
	return 0;
}

int xlcfg_parse_file(struct xlcfg *cfg, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		fprintf(cfg->report, "%s: unable to open configuration file: %s\n", path,
			strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		r = -EINVAL;
		fprintf(cfg->report, "%s: not a regular file\n", path);
		goto out;
	}
	/* Read in chunks: pipes and /dev/stdin have no useful size. */
	for (;;) {
		char *n;
		ssize_t got;

		if (len > XLCFG_MAX_INPUT) {
			r = -EFBIG;
			fprintf(cfg->report, "%s: configuration file too large\n", path);
			goto out;
		}
		n = realloc(buf, len + 65536);
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		buf = n;
		got = read(fd, buf + len, 65536);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			fprintf(cfg->report, "%s: read error: %s\n", path, strerror(errno));
			goto out;
		}
		if (!got)
			break;
		len += (size_t)got;
	}
	r = xlcfg_parse_data(cfg, buf, len);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}
