/* SPDX-License-Identifier: MIT */
/*
 * The strict JSON reader (jp_parse.h): recursive descent over the text,
 * depth-limited, one node per value. Nodes live in one growing array and
 * refer to each other by index; decoded strings live in one block sized up
 * front (a decoded string is never longer than its source), so nothing
 * points into memory that moves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/json_parse.h"

struct parser {
    struct jp_doc *doc;
    const char *p;
    const char *start;
    const char *end;
};

static bool error_at(struct parser *ps, const char *what)
{
    unsigned line = 1, column = 1;

    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    snprintf(ps->doc->error, sizeof ps->doc->error, "line %u, column %u: %s", line, column, what);
    return false;
}

static void skip_space(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static uint32_t new_node(struct parser *ps, enum jp_kind kind)
{
    struct jp_doc *d = ps->doc;

    if (d->count == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 64;
        struct jp_node *n;

        if (cap < d->cap || cap > (UINT32_MAX / 2))
            return JP_NONE;
        n = realloc(d->nodes, (size_t)cap * sizeof(*n));
        if (!n)
            return JP_NONE;
        d->nodes = n;
        d->cap = cap;
    }
    memset(&d->nodes[d->count], 0, sizeof d->nodes[0]);
    d->nodes[d->count].kind = kind;
    d->nodes[d->count].first = JP_NONE;
    d->nodes[d->count].next = JP_NONE;
    return d->count++;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct parser *ps, uint32_t *out)
{
    uint32_t v = 0;

    if (ps->end - ps->p < 4)
        return error_at(ps, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        int h = hex_value(ps->p[i]);
        if (h < 0)
            return error_at(ps, "bad \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static char *put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/*
 * A string at ps->p (after the opening quote): decoded into the strings
 * block. The decoded form is never longer than the source (\uXXXX, 6 bytes,
 * gives at most 3; a surrogate pair, 12 bytes, gives 4), so the block sized
 * at parse start always has room. NUL (\u0000) is refused: every name and
 * value of the metadata is a C string.
 */
static bool parse_string(struct parser *ps, const char **out, size_t *out_len)
{
    struct jp_doc *d = ps->doc;
    char *begin = d->strings + d->strings_used;
    char *o = begin;

    for (;;) {
        unsigned char c;

        if (ps->p >= ps->end)
            return error_at(ps, "unterminated string");
        c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20)
            return error_at(ps, "control character in a string");
        if (c == '\\') {
            uint32_t cp = 0;

            ps->p++;
            if (ps->p >= ps->end)
                return error_at(ps, "unterminated escape");
            switch (*ps->p++) {
            case '"': *o++ = '"'; continue;
            case '\\': *o++ = '\\'; continue;
            case '/': *o++ = '/'; continue;
            case 'b': *o++ = '\b'; continue;
            case 'f': *o++ = '\f'; continue;
            case 'n': *o++ = '\n'; continue;
            case 'r': *o++ = '\r'; continue;
            case 't': *o++ = '\t'; continue;
            case 'u': break;
            default: ps->p--; return error_at(ps, "bad escape");
            }
            if (!read_hex4(ps, &cp))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo = 0;
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
                    return error_at(ps, "lone high surrogate");
                ps->p += 2;
                if (!read_hex4(ps, &lo))
                    return false;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return error_at(ps, "bad low surrogate");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return error_at(ps, "lone low surrogate");
            }
            if (cp == 0)
                return error_at(ps, "NUL character in a string");
            o = put_utf8(o, cp);
            continue;
        }
        if (c < 0x80) {
            *o++ = (char)c;
            ps->p++;
        } else {
            size_t n = export_utf8_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
            if (n == 0)
                return error_at(ps, "invalid UTF-8 in a string");
            memcpy(o, ps->p, n);
            o += n;
            ps->p += n;
        }
    }
    *o++ = '\0';
    *out = begin;
    *out_len = (size_t)(o - begin - 1);
    d->strings_used += (size_t)(o - begin);
    return true;
}

static bool is_digit(const struct parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static bool parse_number(struct parser *ps, uint32_t node)
{
    const char *begin = ps->p;

    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (!is_digit(ps))
        return error_at(ps, "bad number");
    if (*ps->p == '0')
        ps->p++;
    else
        while (is_digit(ps))
            ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps))
            return error_at(ps, "bad number fraction");
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!is_digit(ps))
            return error_at(ps, "bad number exponent");
        while (is_digit(ps))
            ps->p++;
    }
    ps->doc->nodes[node].text = begin;
    ps->doc->nodes[node].len = (size_t)(ps->p - begin);
    return true;
}

static bool literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return error_at(ps, "unexpected character");
    ps->p += n;
    return true;
}

static bool parse_value(struct parser *ps, uint32_t depth, uint32_t *out);

/* The children of an array or object at ps->p (after its opening bracket). */
static bool parse_children(struct parser *ps, uint32_t node, uint32_t depth, bool object)
{
    uint32_t last = JP_NONE;
    char close = object ? '}' : ']';

    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return true;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        uint32_t child;

        skip_space(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return error_at(ps, "expected a member name");
            ps->p++;
            if (!parse_string(ps, &key, &key_len))
                return false;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return error_at(ps, "expected ':'");
            ps->p++;
        }
        if (!parse_value(ps, depth + 1, &child))
            return false;
        ps->doc->nodes[child].key = key;
        if (last == JP_NONE)
            ps->doc->nodes[node].first = child;
        else
            ps->doc->nodes[last].next = child;
        last = child;
        ps->doc->nodes[node].count++;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return true;
        }
        return error_at(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool parse_value(struct parser *ps, uint32_t depth, uint32_t *out)
{
    uint32_t node;
    char c;

    if (depth > JP_MAX_DEPTH)
        return error_at(ps, "nested too deep");
    skip_space(ps);
    if (ps->p >= ps->end)
        return error_at(ps, "unexpected end of text");
    c = *ps->p;
    switch (c) {
    case '{':
    case '[':
        node = new_node(ps, c == '{' ? JP_OBJECT : JP_ARRAY);
        if (node == JP_NONE)
            return error_at(ps, "out of memory");
        ps->p++;
        *out = node;
        return parse_children(ps, node, depth, c == '{');
    case '"':
        node = new_node(ps, JP_STRING);
        if (node == JP_NONE)
            return error_at(ps, "out of memory");
        ps->p++;
        *out = node;
        return parse_string(ps, &ps->doc->nodes[node].text, &ps->doc->nodes[node].len);
    case 't':
    case 'f':
    case 'n':
        node = new_node(ps, c == 't' ? JP_TRUE : c == 'f' ? JP_FALSE : JP_NULL);
        if (node == JP_NONE)
            return error_at(ps, "out of memory");
        *out = node;
        return literal(ps, c == 't' ? "true" : c == 'f' ? "false" : "null");
    default:
        node = new_node(ps, JP_NUMBER);
        if (node == JP_NONE)
            return error_at(ps, "out of memory");
        *out = node;
        return parse_number(ps, node);
    }
}

bool jp_parse(struct jp_doc *doc, const char *text, size_t len)
{
    struct parser ps = {doc, text, text, text + len};
    uint32_t root;

    memset(doc, 0, sizeof(*doc));
    doc->strings = malloc(len + 1);
    if (!doc->strings) {
        snprintf(doc->error, sizeof doc->error, "out of memory");
        return false;
    }
    if (!parse_value(&ps, 0, &root))
        return false;
    skip_space(&ps);
    if (ps.p != ps.end)
        return error_at(&ps, "text after the document");
    return true;
}

void jp_doc_free(struct jp_doc *doc)
{
    free(doc->nodes);
    free(doc->strings);
    doc->nodes = NULL;
    doc->strings = NULL;
    doc->count = doc->cap = 0;
}

const struct jp_node *jp_first(const struct jp_doc *doc, const struct jp_node *parent)
{
    if (!parent || (parent->kind != JP_ARRAY && parent->kind != JP_OBJECT) ||
        parent->first == JP_NONE)
        return NULL;
    return &doc->nodes[parent->first];
}

const struct jp_node *jp_next(const struct jp_doc *doc, const struct jp_node *node)
{
    return node && node->next != JP_NONE ? &doc->nodes[node->next] : NULL;
}

const struct jp_node *jp_member(const struct jp_doc *doc, const struct jp_node *obj,
                                    const char *key)
{
    if (!obj || obj->kind != JP_OBJECT)
        return NULL;
    for (const struct jp_node *n = jp_first(doc, obj); n; n = jp_next(doc, n)) {
        if (strcmp(n->key, key) == 0)
            return n;
    }
    return NULL;
}

bool jp_u64(const struct jp_node *node, uint64_t *out)
{
    uint64_t v = 0;

    if (!node || node->kind != JP_NUMBER || node->len == 0 || node->len > 20)
        return false;
    for (size_t i = 0; i < node->len; i++) {
        unsigned d;
        if (node->text[i] < '0' || node->text[i] > '9')
            return false; /* a sign, a fraction or an exponent */
        d = (unsigned)(node->text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}
