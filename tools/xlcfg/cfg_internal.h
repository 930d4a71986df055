/*
 * Internals of the xl.cfg grammar shared by the lexer (cfg_lex.c) and the
 * parser (cfg_parse.c).  Not installed; users see xlcfg.h only.
 */
#ifndef KEEL_XLCFG_INTERNAL_H
#define KEEL_XLCFG_INTERNAL_H

#include <stddef.h>

#include "xlcfg.h"

enum cfg_tok {
	TOK_EOF,
	TOK_IDENT,
	TOK_NUMBER,
	TOK_STRING,
	TOK_NEWLINE, /* a newline, or a comment up to and including its newline */
	TOK_COMMA,
	TOK_LBRACK,
	TOK_RBRACK,
	TOK_ADD, /* += */
	TOK_EQ,
	TOK_SEMI,
	TOK_ERROR, /* lexical error, already reported */
	TOK_NOMEM,
};

struct cfg_token {
	enum cfg_tok type;
	int line, col;	  /* of the first character */
	const char *text; /* raw text in the input, for messages */
	size_t len;
	char *value; /* IDENT/NUMBER/STRING: owned text (dequoted) */
};

struct cfg_lexer {
	struct xlcfg *cfg;
	const char *p, *end;
	int line, col;
	int err_line; /* last line a lexical error was reported on */
};

void cfg_lex_init(struct cfg_lexer *lx, struct xlcfg *cfg, const char *data, size_t len);
/* The next token; tok->value is malloc'd for IDENT/NUMBER/STRING (caller frees). */
void cfg_lex_next(struct cfg_lexer *lx, struct cfg_token *tok);
const char *cfg_tok_name(enum cfg_tok t);

/* Report "src:line:col: config parsing error near `text': msg" once per line. */
void cfg_report_near(struct xlcfg *cfg, int line, int col, const char *text, size_t len,
		     const char *msg);

#endif
