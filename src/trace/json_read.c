/* SPDX-License-Identifier: MIT */
/*
 * Reading JSON (the trace metadata): jansson parses, strictly (RFC 8259:
 * UTF-8 checked, no NUL in strings, nothing after the document, duplicate
 * object keys refused), and this file adds the three things hvlog needs on
 * top of it.
 *
 * 1. Unsigned 64-bit integers. jansson holds integers as json_int_t
 *    (int64_t) and refuses a larger one as "too big integer"; RFC 8259 §6
 *    leaves the range to the implementation. hvlog-trace.json has u64
 *    members written as plain decimals (host.seed, the counters), so before
 *    jansson sees the text every plain integer token outside a string
 *    (-?(0|[1-9][0-9]*), alone between characters that cannot continue a
 *    number) falls in one of three rows:
 *
 *        0 .. INT64_MAX                  left as written
 *        INT64_MAX + 1 .. UINT64_MAX     rewritten as -(2^64 - v): jansson
 *                                        holds the same 64 bits, negative
 *        negative (even -0), or above    rewritten as the real 0.5: a number,
 *        UINT64_MAX                      but never an unsigned integer
 *
 *    So in the tree a JSON integer is exactly an unsigned 64-bit value, and
 *    hvlog__export_json_u64() reads it back with a cast. Text with no token in the
 *    last two rows (all that hvlog writes, unless a seed is above 2^63) goes
 *    to jansson as it is, without a copy.
 *
 *    Why the rewrite cannot change what is valid JSON: the scan below splits
 *    strings exactly as jansson does (a '"' opens, a backslash takes the next
 *    byte, a '"' closes) up to jansson's first error, and a rewritten token
 *    is a valid number in place of a valid number, ending at the same byte.
 *    Anything the scan gets wrong lies after a point jansson refuses anyway.
 *
 * 2. Errors point into the caller's text: "line 3, column 7: ':' expected
 *    near '1'", the line and byte column of the token jansson stopped at,
 *    mapped back through the rewrite, so they name what the file says.
 *
 * 3. Nesting deeper than EXPORT_JSON_MAX_DEPTH is refused (jansson's own
 *    limit, JSON_PARSER_MAX_DEPTH, is 2048), as the hand-written reader this
 *    replaces did: no member of the metadata nests more than three deep.
 *
 * 4. Memory follows what the text can honestly hold, not what it claims
 *    (issue 13, A2): jansson builds the whole tree before anyone can look
 *    at a count, and 16 MB of "{}," is 5.5 million objects (1.5 GB). So
 *    before jansson runs, one scan counts the containers and the values
 *    outside strings and refuses more than EXPORT_JSON_MAX_CONTAINERS or
 *    EXPORT_JSON_MAX_VALUES: room for a metadata of 65,536 LPs, and a
 *    tree of tens of MB at worst.
 */
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"

/* ---- the u64 rewrite ---- */

/* A real that no u64 can be, in place of an integer token that no u64 is. */
#define NOT_A_U64 "0.5"

struct rewrite {
    size_t at;      /* the token's offset in the caller's text */
    size_t len;     /* its length there */
    char with[24];  /* what replaces it: "-9223372036854775808" at most */
    size_t with_len;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool in_number(char c)
{
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The row of the table above for @tok (@len bytes), filling @rw; false for
 * a token left as written (not a plain integer, or in 0..INT64_MAX). */
static bool plan_rewrite(const char *tok, size_t len, struct rewrite *rw)
{
    bool negative = tok[0] == '-';
    const char *digits = tok + negative;
    size_t count = len - negative;
    uint64_t v = 0;
    bool too_big = false;

    if (count == 0 || (count > 1 && digits[0] == '0'))
        return false; /* not a valid integer: jansson says so */
    for (size_t i = 0; i < count; i++) {
        unsigned d;
        if (!is_digit(digits[i]))
            return false; /* a fraction or an exponent: a real, as written */
        d = (unsigned)(digits[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            too_big = true;
        else
            v = v * 10 + d;
    }
    if (negative || too_big) {
        memcpy(rw->with, NOT_A_U64, sizeof NOT_A_U64);
        rw->with_len = sizeof NOT_A_U64 - 1;
        return true;
    }
    if (v <= (uint64_t)INT64_MAX)
        return false;
    /* 2^64 - v, in 1..2^63: the magnitude of the int64 with v's bits. */
    rw->with_len = (size_t)snprintf(rw->with, sizeof rw->with, "-%" PRIu64, UINT64_MAX - v + 1);
    return true;
}

/* The next token from *@pos on that the rewrite replaces; false at the end. */
static bool next_rewrite(const char *text, size_t len, size_t *pos, struct rewrite *rw)
{
    size_t i = *pos;

    while (i < len) {
        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                if (text[i] == '\\')
                    i++;
            }
            i++;
        } else if (text[i] == '-' || is_digit(text[i])) {
            size_t begin = i;

            while (i < len && in_number(text[i]))
                i++;
            if (plan_rewrite(text + begin, i - begin, rw)) {
                rw->at = begin;
                rw->len = i - begin;
                *pos = i;
                return true;
            }
        } else {
            i++;
        }
    }
    *pos = len;
    return false;
}

/* Writes the rewritten text to @out (NULL: only measures); returns its
 * length, and in *@rewrites how many tokens were replaced. */
static size_t rewrite_text(const char *text, size_t len, char *out, size_t *rewrites)
{
    struct rewrite rw;
    size_t pos = 0, copied = 0, out_len = 0;

    *rewrites = 0;
    while (next_rewrite(text, len, &pos, &rw)) {
        if (out) {
            memcpy(out + out_len, text + copied, rw.at - copied);
            memcpy(out + out_len + (rw.at - copied), rw.with, rw.with_len);
        }
        out_len += rw.at - copied + rw.with_len;
        copied = rw.at + rw.len;
        (*rewrites)++;
    }
    if (out)
        memcpy(out + out_len, text + copied, len - copied);
    return out_len + (len - copied);
}

/* The offset in the caller's text of offset @at of the rewritten text: a
 * replaced token's first byte maps to the original's first byte, any other
 * byte of it to the original's end. */
static size_t original_offset(const char *text, size_t len, size_t at)
{
    struct rewrite rw;
    size_t pos = 0, orig_end = 0, new_end = 0; /* the end of the last token replaced */

    while (next_rewrite(text, len, &pos, &rw)) {
        size_t new_at = new_end + (rw.at - orig_end);

        if (at < new_at)
            break;
        if (at < new_at + rw.with_len)
            return at == new_at ? rw.at : rw.at + rw.len;
        orig_end = rw.at + rw.len;
        new_end = new_at + rw.with_len;
    }
    return orig_end + (at - new_end);
}

/* ---- errors ---- */

/*
 * jansson's message is "<reason> near '<token>'" when it has the token's
 * bytes (at most 20), which end at error->position; find that suffix, and
 * with it the token's start, by checking it against the parsed text (a
 * token may itself hold " near '"). Returns the reason's length and the
 * token's length in *@token_len (0: no token).
 */
static size_t split_message(const json_error_t *je, const char *parsed, size_t end,
                            size_t *token_len)
{
    size_t msg_len = strnlen(je->text, sizeof je->text);

    *token_len = 0;
    for (const char *p = strstr(je->text, " near '"); p; p = strstr(p + 1, " near '")) {
        const char *tok = p + 7;
        size_t n = (size_t)(je->text + msg_len - tok);

        if (n >= 2 && tok[n - 1] == '\'' && n - 1 <= end &&
            memcmp(parsed + end - (n - 1), tok, n - 1) == 0) {
            *token_len = n - 1;
            return (size_t)(p - je->text);
        }
    }
    return msg_len;
}

static void describe_error(const char *text, size_t len, const char *parsed, size_t parsed_len,
                           const json_error_t *je, char *why, size_t why_size)
{
    size_t end = je->position < 0 ? 0 : (size_t)je->position;
    size_t token_len, reason_len, start, orig_start, orig_end;
    unsigned line = 1, column = 1;

    if (end > parsed_len)
        end = parsed_len;
    reason_len = split_message(je, parsed, end, &token_len);
    start = end - token_len;
    orig_start = parsed == text ? start : original_offset(text, len, start);
    orig_end = parsed == text ? end : original_offset(text, len, end);
    for (size_t i = 0; i < orig_start; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    /* The token as the caller wrote it (a rewritten one may be long),
     * escaped: the bytes are the metadata's, and the message reaches a
     * terminal (issue 13, A5; fuzz_decode found a raw control byte here). */
    if (token_len && orig_end - orig_start <= 20) {
        char token[20 * 4 + 1];

        (void)hvlog_escape_text(token, text + orig_start, orig_end - orig_start);
        snprintf(why, why_size, "line %u, column %u: %.*s near '%s'", line, column,
                 (int)reason_len, je->text, token);
    } else {
        snprintf(why, why_size, "line %u, column %u: %.*s", line, column, (int)reason_len,
                 je->text);
    }
}

/* ---- depth ---- */

static bool nested_within(json_t *value, unsigned depth)
{
    const char *key;
    json_t *child;

    if (depth > EXPORT_JSON_MAX_DEPTH)
        return false;
    if (json_is_array(value)) {
        size_t i;

        json_array_foreach (value, i, child) {
            if (!nested_within(child, depth + 1))
                return false;
        }
    } else if (json_is_object(value)) {
        json_object_foreach (value, key, child) {
            if (!nested_within(child, depth + 1))
                return false;
        }
    }
    return true;
}

/* ---- size ---- */

/* Containers ('{', '[') and values (containers, and one more per ',')
 * outside strings, split as next_rewrite splits them. */
static void count_values(const char *text, size_t len, size_t *containers, size_t *values)
{
    *containers = 0;
    *values = 1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                if (text[i] == '\\')
                    i++;
            }
        } else if (text[i] == '{' || text[i] == '[') {
            ++*containers;
        } else if (text[i] == ',') {
            ++*values;
        }
    }
    *values += *containers;
}

/* ---- the entry points ---- */

enum hvlog_export_status hvlog__export_json_read(const char *text, size_t len, json_t **out, char *why,
                                                 size_t why_size)
{
    const size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;
    size_t rewrites = 0, containers, values, parsed_len;
    char *copy = NULL;
    const char *parsed = text;
    json_error_t je;
    json_t *root;
    enum hvlog_export_status status = HVLOG_EXPORT_OK;

    *out = NULL;
    why[0] = '\0';
    count_values(text, len, &containers, &values);
    if (containers > EXPORT_JSON_MAX_CONTAINERS || values > EXPORT_JSON_MAX_VALUES) {
        snprintf(why, why_size, "%zu objects or arrays and %zu values: more than a metadata "
                 "holds (at most %u and %u)", containers, values, EXPORT_JSON_MAX_CONTAINERS,
                 EXPORT_JSON_MAX_VALUES);
        return HVLOG_EXPORT_INVALID;
    }
    parsed_len = rewrite_text(text, len, NULL, &rewrites);
    if (rewrites) {
        copy = malloc(parsed_len ? parsed_len : 1);
        if (!copy) {
            snprintf(why, why_size, "out of memory");
            return HVLOG_EXPORT_NOMEM;
        }
        rewrite_text(text, len, copy, &rewrites);
        parsed = copy;
    }
    root = json_loadb(parsed, parsed_len, flags, &je);
    if (!root && json_error_code(&je) == json_error_out_of_memory) {
        snprintf(why, why_size, "out of memory");
        status = HVLOG_EXPORT_NOMEM;
    } else if (!root) {
        describe_error(text, len, parsed, parsed_len, &je, why, why_size);
        status = HVLOG_EXPORT_INVALID;
    } else if (!nested_within(root, 0)) {
        snprintf(why, why_size, "nested deeper than %u levels", EXPORT_JSON_MAX_DEPTH);
        json_decref(root);
        status = HVLOG_EXPORT_INVALID;
    } else {
        *out = root;
    }
    free(copy);
    return status;
}

bool hvlog__export_json_u64(const json_t *value, uint64_t *out)
{
    if (!json_is_integer(value))
        return false;
    /* Negative only for a value above INT64_MAX (the rewrite's second row):
     * the conversion to uint64_t gives back its 64 bits (C11 6.3.1.3). */
    *out = (uint64_t)json_integer_value(value);
    return true;
}
