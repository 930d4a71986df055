/*
 * The xl.cfg lexer.  Token classes follow xl's libxlutil scanner: keys are
 * [a-z][._0-9a-z]*, numbers [0-9][0-9a-fx]* (kept as text and converted when
 * read, so 0x10 and 010 mean what strtol base 0 says), strings in single or
 * double quotes on one line with backslash escapes, ',' '[' ']' '=' '+=' ';',
 * and newline -- a comment from '#' to the end of the line counts as one.
 * Spaces and tabs separate tokens.  Anything else is a lexical error that
 * swallows the rest of its word, as in xl; '+', '-', '.', '(', ')' and ':'
 * additionally mark the file as probably Python (xm-style), which xl warns
 * about.
 *
 * Deliberate differences from xl (documented in tools/xlcfg/README.md): a
 * comment on the last line needs no newline; "\xHH" and "\ooo" escapes
 * produce the byte they name (xl rejects the first and drops the second).
 */
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"

void cfg_lex_init(struct cfg_lexer *lx, struct xlcfg *cfg, const char *data, size_t len)
{
	lx->cfg = cfg;
	lx->p = data;
	lx->end = data + len;
	lx->line = 1;
	lx->col = 1;
	lx->err_line = 0;
}

const char *cfg_tok_name(enum cfg_tok t)
{
	static const char *const names[] = {
		[TOK_EOF] = "end of file", [TOK_IDENT] = "IDENT",     [TOK_NUMBER] = "NUMBER",
		[TOK_STRING] = "STRING",   [TOK_NEWLINE] = "NEWLINE", [TOK_COMMA] = "','",
		[TOK_LBRACK] = "'['",	   [TOK_RBRACK] = "']'",      [TOK_ADD] = "\"+=\"",
		[TOK_EQ] = "'='",	   [TOK_SEMI] = "';'",	      [TOK_ERROR] = "error",
		[TOK_NOMEM] = "error",
	};
	return names[t];
}

void cfg_report_near(struct xlcfg *cfg, int line, int col, const char *text, size_t len,
		     const char *msg)
{
	/* Show at most one line of the offending text, trimmed. */
	size_t n = 0;

	while (n < len && n < 60 && text[n] != '\n')
		n++;
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n)
		xlcfg_error(cfg, line, col, "config parsing error near `%.*s': %s", (int)n, text,
			    msg);
	else if (len && text[0] == '\n')
		xlcfg_error(cfg, line, col, "config parsing error near <newline>: %s", msg);
	else
		xlcfg_error(cfg, line, col, "config parsing error near end of file: %s", msg);
}

static int lex_peek(const struct cfg_lexer *lx, size_t off)
{
	return lx->p + off < lx->end ? (unsigned char)lx->p[off] : -1;
}

static void lex_advance(struct cfg_lexer *lx, size_t n)
{
	while (n--) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
		lx->p++;
	}
}

static int is_ident_start(int c)
{
	return c >= 'a' && c <= 'z';
}

static int is_ident_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static int is_number_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the body of a quoted string (between the quotes).  Returns the new
 * string, or NULL with *msg set (or *msg NULL on allocation failure).
 */
static char *lex_dequote(const char *s, size_t len, const char **msg)
{
	char *out = malloc(len + 1), *q = out;
	size_t i = 0;

	*msg = NULL;
	if (!out)
		return NULL;
	while (i < len) {
		char c = s[i++];
		static const char esc_in[] = "\"'\\abfnrtv";
		static const char esc_out[] = "\"'\\\a\b\f\n\r\t\v";
		const char *e;

		if (c != '\\') {
			*q++ = c;
			continue;
		}
		c = s[i++]; /* the lexer guarantees a character follows */
		if ((e = strchr(esc_in, c)) && c) {
			*q++ = esc_out[e - esc_in];
		} else if (c == 'x') {
			int h1 = i < len ? hexval((unsigned char)s[i]) : -1;
			int h2 = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;

			if (h1 < 0 || h2 < 0 || (h1 | h2) == 0) {
				*msg = "invalid digit after backslash hex numerical character "
				       "escape in quoted string";
				goto fail;
			}
			*q++ = (char)(h1 << 4 | h2);
			i += 2;
		} else if (c >= '0' && c <= '7') {
			unsigned v = (unsigned)(c - '0');
			int n = 1;

			while (n < 3 && i < len && s[i] >= '0' && s[i] <= '7') {
				v = v * 8 + (unsigned)(s[i++] - '0');
				n++;
			}
			if (v == 0 || v > 255) {
				*msg = "invalid octal numerical character escape in quoted string";
				goto fail;
			}
			*q++ = (char)v;
		} else {
			*msg = "invalid character after backslash in quoted string";
			goto fail;
		}
	}
	*q = 0;
	return out;
fail:
	free(out);
	return NULL;
}

/* A lexical error: report once per line, swallow the rest of the word. */
static void lex_error(struct cfg_lexer *lx, struct cfg_token *tok, const char *msg)
{
	size_t n = 0;

	while (lex_peek(lx, n) >= 0 && !strchr(" \t\n", lex_peek(lx, n)))
		n++;
	if (!n)
		n = 1;
	if (lx->p + n > lx->end)
		n = (size_t)(lx->end - lx->p);
	if (lx->err_line != tok->line)
		cfg_report_near(lx->cfg, tok->line, tok->col, tok->text, n, msg);
	else
		lx->cfg->n_errors++;
	lx->err_line = tok->line;
	lex_advance(lx, n);
	tok->type = TOK_ERROR;
	tok->len = n;
}

static void lex_string(struct cfg_lexer *lx, struct cfg_token *tok, int quote)
{
	size_t n = 1;
	const char *msg;
	int c;

	for (;;) {
		c = lex_peek(lx, n);
		if (c < 0 || c == '\n' || c == 0) {
			lex_error(lx, tok, "unterminated string");
			return;
		}
		if (c == quote)
			break;
		if (c == '\\') {
			int d = lex_peek(lx, n + 1);

			if (d < 0 || d == '\n' || d == 0) {
				lex_error(lx, tok, "unterminated string");
				return;
			}
			n++;
		}
		n++;
	}
	tok->len = n + 1;
	tok->value = lex_dequote(lx->p + 1, n - 1, &msg);
	if (!tok->value) {
		if (!msg) {
			tok->type = TOK_NOMEM;
			return;
		}
		cfg_report_near(lx->cfg, tok->line, tok->col, tok->text, tok->len, msg);
		lx->err_line = tok->line;
		lex_advance(lx, tok->len);
		tok->type = TOK_ERROR;
		return;
	}
	tok->type = TOK_STRING;
	lex_advance(lx, tok->len);
}

void cfg_lex_next(struct cfg_lexer *lx, struct cfg_token *tok)
{
	int c;
	size_t n;

	while ((c = lex_peek(lx, 0)) == ' ' || c == '\t')
		lex_advance(lx, 1);
	tok->line = lx->line;
	tok->col = lx->col;
	tok->text = lx->p;
	tok->len = 1;
	tok->value = NULL;
	if (c < 0) {
		tok->type = TOK_EOF;
		tok->len = 0;
		return;
	}
	if (is_ident_start(c) || (c >= '0' && c <= '9')) {
		int (*more)(int) = is_ident_start(c) ? is_ident_char : is_number_char;

		n = 1;
		while (lex_peek(lx, n) >= 0 && more(lex_peek(lx, n)))
			n++;
		tok->type = is_ident_start(c) ? TOK_IDENT : TOK_NUMBER;
		tok->len = n;
		tok->value = strndup(lx->p, n);
		if (!tok->value)
			tok->type = TOK_NOMEM;
		lex_advance(lx, n);
		return;
	}
	switch (c) {
	case '\n':
		tok->type = TOK_NEWLINE;
		lex_advance(lx, 1);
		return;
	case '#':
		n = 1;
		while (lex_peek(lx, n) >= 0 && lex_peek(lx, n) != '\n')
			n++;
		if (lex_peek(lx, n) == '\n')
			n++;
		tok->type = TOK_NEWLINE;
		tok->len = n;
		lex_advance(lx, n);
		return;
	case ',':
		tok->type = TOK_COMMA;
		break;
	case '[':
		tok->type = TOK_LBRACK;
		break;
	case ']':
		tok->type = TOK_RBRACK;
		break;
	case '=':
		tok->type = TOK_EQ;
		break;
	case ';':
		tok->type = TOK_SEMI;
		break;
	case '+':
		if (lex_peek(lx, 1) == '=') {
			tok->type = TOK_ADD;
			tok->len = 2;
			lex_advance(lx, 2);
			return;
		}
		lx->cfg->likely_python = true;
		lex_error(lx, tok, "lexical error");
		return;
	case '\'':
	case '"':
		lex_string(lx, tok, c);
		return;
	default:
		if (c && strchr("-.():", c))
			lx->cfg->likely_python = true;
		lex_error(lx, tok, "lexical error");
		return;
	}
	lex_advance(lx, 1);
}
