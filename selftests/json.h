/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small strict JSON parser for checking hmapctl's -j output: the whole
 * input must be one valid JSON value, or parsing fails.
 */
#ifndef _HMAP_SELFTEST_JSON_H
#define _HMAP_SELFTEST_JSON_H

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	double num;
	bool b;
	char *str;		/* J_STR */
	char *name;		/* member name, for the members of a J_OBJ */
	struct jv *kids;	/* J_ARR, J_OBJ */
	int n;
};

struct jparser {
	const char *p;
	bool bad;
};

static void j_ws(struct jparser *jp)
{
	while (isspace((unsigned char)*jp->p))
		jp->p++;
}

static char *j_string(struct jparser *jp)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);

	if (*jp->p != '"' || !s) {
		jp->bad = true;
		free(s);
		return NULL;
	}
	jp->p++;
	while (*jp->p && *jp->p != '"') {
		char c = *jp->p++;

		if ((unsigned char)c < 0x20)
			jp->bad = true;
		if (c == '\\') {
			if (!*jp->p)
				break;
			c = *jp->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				if (!isxdigit((unsigned char)jp->p[0]) || !isxdigit((unsigned char)jp->p[1]) ||
				    !isxdigit((unsigned char)jp->p[2]) || !isxdigit((unsigned char)jp->p[3]))
					jp->bad = true;
				else
					c = (char)strtol((char[]){ jp->p[2], jp->p[3], 0 }, NULL, 16);
				jp->p += 4;
				break;
			default:
				jp->bad = true;
			}
		}
		if (len + 2 > cap)
			s = realloc(s, cap *= 2);
		s[len++] = c;
	}
	if (*jp->p != '"')
		jp->bad = true;
	else
		jp->p++;
	s[len] = 0;
	return s;
}

static void j_value(struct jparser *jp, struct jv *v);

static void j_list(struct jparser *jp, struct jv *v, char close, bool obj)
{
	jp->p++;
	j_ws(jp);
	if (*jp->p == close) {
		jp->p++;
		return;
	}
	for (;;) {
		struct jv *k;
		char *name = NULL;

		if (obj) {
			name = j_string(jp);
			j_ws(jp);
			if (jp->bad || *jp->p != ':') {
				jp->bad = true;
				free(name);
				return;
			}
			jp->p++;
		}
		v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
		k = &v->kids[v->n++];
		memset(k, 0, sizeof(*k));
		k->name = name;
		j_value(jp, k);
		if (jp->bad)
			return;
		j_ws(jp);
		if (*jp->p == ',') {
			jp->p++;
			j_ws(jp);
			continue;
		}
		if (*jp->p == close) {
			jp->p++;
			return;
		}
		jp->bad = true;
		return;
	}
}

static void j_value(struct jparser *jp, struct jv *v)
{
	char *end;

	j_ws(jp);
	if (jp->bad)
		return;
	if (*jp->p == '{') {
		v->type = J_OBJ;
		j_list(jp, v, '}', true);
	} else if (*jp->p == '[') {
		v->type = J_ARR;
		j_list(jp, v, ']', false);
	} else if (*jp->p == '"') {
		v->type = J_STR;
		v->str = j_string(jp);
	} else if (!strncmp(jp->p, "true", 4) || !strncmp(jp->p, "false", 5)) {
		v->type = J_BOOL;
		v->b = *jp->p == 't';
		jp->p += v->b ? 4 : 5;
	} else if (!strncmp(jp->p, "null", 4)) {
		v->type = J_NULL;
		jp->p += 4;
	} else {
		v->type = J_NUM;
		v->num = strtod(jp->p, &end);
		if (end == jp->p)
			jp->bad = true;
		jp->p = end;
	}
}

/* Parses all of @s into @v; false unless it is exactly one JSON value. */
static bool json_parse(const char *s, struct jv *v)
{
	struct jparser jp = { s, false };

	memset(v, 0, sizeof(*v));
	j_value(&jp, v);
	j_ws(&jp);
	return !jp.bad && !*jp.p;
}

/* Member @name of object @o, or NULL. */
static const struct jv *json_get(const struct jv *o, const char *name)
{
	int i;

	if (!o || o->type != J_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++) {
		const struct jv *k = &o->kids[i];

		if (k->name && !strcmp(k->name, name))
			return k;
	}
	return NULL;
}

#endif
