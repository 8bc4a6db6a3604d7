/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* errinj rule parser and matcher (see rules.h). Input is untrusted: bounded, no recursion. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static const char *const fault_names[] = {
	[EI_EIO] = "eio",       [EI_ENOSPC] = "enospc", [EI_EROFS] = "erofs",
	[EI_EBUSY] = "ebusy",   [EI_ENOMEM] = "enomem", [EI_SHORT] = "short",
	[EI_LATENCY] = "latency", [EI_HANG] = "hang",
};

static const struct {
	const char *name;
	uint32_t bit;
} op_names[] = {
	{ "read", EI_OP_READ },   { "write", EI_OP_WRITE }, { "flush", EI_OP_FLUSH },
	{ "unmap", EI_OP_UNMAP }, { "any", EI_OP_ANY },
};

const char *ei_fault_name(enum ei_fault f)
{
	return (unsigned int)f < sizeof(fault_names) / sizeof(fault_names[0]) ? fault_names[f] : "?";
}

static __attribute__((format(printf, 2, 3))) int fail(char **reason, const char *fmt, ...)
{
	va_list ap;

	if (reason && !*reason) {
		va_start(ap, fmt);
		if (vasprintf(reason, fmt, ap) < 0)
			*reason = NULL;
		va_end(ap);
	}
	return -EINVAL;
}

static bool tok_eq(const char *t, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(t, word, n) == 0;
}

/* Decimal digits only, no sign, no overflow past @max. */
static bool parse_u64(const char *t, size_t n, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!n || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		if (v > (max - (uint64_t)(t[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(t[i] - '0');
	}
	*ret = v;
	return true;
}

/* "1", "0", "0.25", ".5", "25%" to parts per million. */
static bool parse_prob(const char *t, size_t n, uint32_t *ppm)
{
	uint64_t whole = 0, frac = 0, scale = 1000000;
	size_t i = 0;

	if (n && t[n - 1] == '%') {
		uint64_t pct;
		if (!parse_u64(t, n - 1, 100, &pct))
			return false;
		*ppm = (uint32_t)(pct * 10000);
		return true;
	}
	while (i < n && t[i] >= '0' && t[i] <= '9' && i < 2)
		whole = whole * 10 + (uint64_t)(t[i++] - '0');
	if (i < n) {
		if (t[i++] != '.' || i == n)
			return false;
		for (; i < n; i++) {
			if (t[i] < '0' || t[i] > '9')
				return false;
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(t[i] - '0') * scale;
			}
		}
	} else if (!n) {
		return false;
	}
	if (whole > 1 || (whole == 1 && frac))
		return false;
	*ppm = (uint32_t)(whole * 1000000 + frac);
	return true;
}

static int parse_ops(const char *t, size_t n, uint32_t *ops, unsigned int idx, char **reason)
{
	*ops = 0;
	if (!n)
		return fail(reason, "errinj rule %u: op= is empty (read, write, flush, unmap, any)", idx);
	while (n) {
		size_t k = 0;
		bool found = false;

		while (k < n && t[k] != '+')
			k++;
		for (size_t j = 0; j < sizeof(op_names) / sizeof(op_names[0]); j++)
			if (tok_eq(t, k, op_names[j].name)) {
				*ops |= op_names[j].bit;
				found = true;
			}
		if (!found)
			return fail(reason, "errinj rule %u: unknown op '%.*s' (read, write, flush, unmap, "
					    "any; join with '+')", idx, (int)k, t);
		if (k == n)
			break;
		t += k + 1;
		n -= k + 1;
		if (!n)
			return fail(reason, "errinj rule %u: empty op after '+'", idx);
	}
	return 0;
}

static int parse_field(struct ei_rule *r, const char *t, size_t n, unsigned int idx, char **reason)
{
	const char *eq = memchr(t, '=', n);
	size_t kl, vl;
	const char *v;
	uint64_t x, y;

	if (!eq)
		return fail(reason, "errinj rule %u: '%.*s' is not key=value", idx, (int)n, t);
	kl = (size_t)(eq - t);
	v = eq + 1;
	vl = n - kl - 1;
	if (tok_eq(t, kl, "op"))
		return parse_ops(v, vl, &r->ops, idx, reason);
	if (tok_eq(t, kl, "lba")) {
		const char *dash = memchr(v, '-', vl);
		size_t al = dash ? (size_t)(dash - v) : vl;

		if (!parse_u64(v, al, UINT64_MAX, &x) ||
		    (dash && !parse_u64(dash + 1, vl - al - 1, UINT64_MAX, &y)))
			return fail(reason, "errinj rule %u: lba '%.*s' is not N or N-M", idx, (int)vl, v);
		if (!dash)
			y = x;
		if (y < x)
			return fail(reason, "errinj rule %u: lba range %llu-%llu is reversed", idx,
				    (unsigned long long)x, (unsigned long long)y);
		r->has_lba = true;
		r->lba_first = x;
		r->lba_last = y;
		return 0;
	}
	if (tok_eq(t, kl, "prob")) {
		if (!parse_prob(v, vl, &r->prob_ppm))
			return fail(reason, "errinj rule %u: prob '%.*s' is not between 0 and 1 (or 0%%-100%%)",
				    idx, (int)vl, v);
		return 0;
	}
	struct {
		const char *key;
		uint32_t *dst;
		uint64_t min, max;
	} nums[] = {
		{ "every", &r->every, 1, UINT32_MAX },
		{ "count", &r->count, 1, UINT32_MAX },
		{ "ms", &r->ms, 0, 3600000 },
		{ "blocks", &r->blocks, 1, UINT32_MAX },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (!tok_eq(t, kl, nums[i].key))
			continue;
		if (!parse_u64(v, vl, nums[i].max, &x) || x < nums[i].min)
			return fail(reason, "errinj rule %u: %s '%.*s' is not a number from %llu to %llu",
				    idx, nums[i].key, (int)vl, v, (unsigned long long)nums[i].min,
				    (unsigned long long)nums[i].max);
		*nums[i].dst = (uint32_t)x;
		return 0;
	}
	return fail(reason, "errinj rule %u: unknown key '%.*s' (op, lba, every, prob, count, ms, "
			    "blocks)", idx, (int)kl, t);
}

static int parse_rule(struct ei_rule *r, const char *t, size_t n, unsigned int idx, char **reason)
{
	size_t k = 0;
	bool found = false;

	*r = (struct ei_rule){ .ops = EI_OP_ANY, .prob_ppm = 1000000 };
	while (k < n && t[k] != ',')
		k++;
	for (size_t f = 0; f < sizeof(fault_names) / sizeof(fault_names[0]); f++)
		if (tok_eq(t, k, fault_names[f])) {
			r->fault = (enum ei_fault)f;
			found = true;
		}
	if (!found)
		return fail(reason, "errinj rule %u: unknown fault '%.*s' (eio, enospc, erofs, ebusy, "
				    "enomem, short, latency, hang)", idx, (int)k, t);
	while (k < n) {
		size_t s = k + 1, e = s;
		int ret;

		while (e < n && t[e] != ',')
			e++;
		ret = parse_field(r, t + s, e - s, idx, reason);
		if (ret < 0)
			return ret;
		k = e;
	}
	if (r->fault == EI_LATENCY && !r->ms)
		return fail(reason, "errinj rule %u: latency needs ms=N", idx);
	if (r->ms && r->fault != EI_LATENCY)
		return fail(reason, "errinj rule %u: ms= only applies to latency", idx);
	if (r->blocks && r->fault != EI_SHORT)
		return fail(reason, "errinj rule %u: blocks= only applies to short", idx);
	return 0;
}

int ei_parse_rules(const char *s, size_t len, struct ei_rules *out, char **reason)
{
	size_t i = 0;

	out->n = 0;
	if (tok_eq(s, len, "none"))
		return 0;
	if (!len)
		return fail(reason, "errinj: no rules (write 'none' for none)");
	while (i <= len) {
		size_t e = i;
		int ret;

		while (e < len && s[e] != ';')
			e++;
		if (e == i)
			return fail(reason, "errinj rule %u is empty", out->n + 1);
		if (out->n == EI_MAX_RULES)
			return fail(reason, "errinj: more than %d rules", EI_MAX_RULES);
		ret = parse_rule(&out->r[out->n], s + i, e - i, out->n + 1, reason);
		if (ret < 0)
			return ret;
		out->n++;
		i = e + 1;
	}
	return 0;
}

int ei_split_cfg(const char *cfg, size_t *rules_len, const char **sub, size_t *sub_len,
		 const char **inner, char **reason)
{
	const char *s1 = strchr(cfg, '/'), *s2;

	if (!s1)
		return fail(reason, "errinj: expected '<rules>/<inner subtype>/<inner cfgstring>', got '%s'",
			    cfg);
	s2 = strchr(s1 + 1, '/');
	*rules_len = (size_t)(s1 - cfg);
	*sub = s1 + 1;
	*sub_len = s2 ? (size_t)(s2 - *sub) : strlen(*sub);
	*inner = s2 ? s2 + 1 : *sub + *sub_len;
	if (!*sub_len || *sub_len > EI_MAX_SUBTYPE)
		return fail(reason, "errinj: the inner handler's subtype is empty or longer than %d",
			    EI_MAX_SUBTYPE);
	for (size_t i = 0; i < *sub_len; i++) {
		char c = (*sub)[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return fail(reason, "errinj: inner subtype '%.*s' has a character other than "
					    "a-z, 0-9, _", (int)*sub_len, *sub);
	}
	if (tok_eq(*sub, *sub_len, "errinj"))
		return fail(reason, "errinj: cannot wrap errinj itself");
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

struct ei_rule *ei_match(struct ei_rules *rs, uint32_t op, uint64_t lba, uint64_t nblocks,
			 uint64_t *rng)
{
	for (unsigned int i = 0; i < rs->n; i++) {
		struct ei_rule *r = &rs->r[i];

		if (!(r->ops & op))
			continue;
		if (r->has_lba && (!nblocks || lba > r->lba_last ||
				   (r->lba_first > lba && r->lba_first - lba >= nblocks)))
			continue;
		if (r->count && r->fired >= r->count)
			continue;
		r->seen++;
		if (r->every && r->seen % r->every != 0)
			continue;
		if (r->prob_ppm < 1000000 && xorshift(rng) % 1000000 >= r->prob_ppm)
			continue;
		r->fired++;
		return r;
	}
	return NULL;
}
