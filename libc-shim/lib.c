/* Freestanding memory/string helpers, user-string bounds, and ukf_log. */
#include "shim.h"

/* rep movsb/stosb are fast on anything with ERMSB and keep gcc from turning
 * a copy loop back into a call to memcpy itself. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlap with dst above src: copy backwards. */
	if (n == 0)
		return dst;
	const void *se = (const char *)src + n - 1;
	void *de = (char *)dst + n - 1;
	__asm__ volatile("std\n\trep movsb\n\tcld"
			 : "+D"(de), "+S"(se), "+c"(n) : : "memory", "cc");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

size_t strlen(const char *s)
{
	return strnlen(s, ~(size_t)0);
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int64_t ukf_user_strlen(uint64_t p, uint64_t max)
{
	/* A page at a time: the string may end before a page the program
	 * cannot read. */
	uint64_t n = 0;
	while (n < max) {
		uint64_t at = p + n;
		uint64_t chunk = UKF_PAGE_SIZE - (at & UKF_PAGE_MASK);
		if (chunk > max - n)
			chunk = max - n;
		if (at < p || ukf_user_access(at, chunk, 0) != chunk)
			return -EFAULT;
		uint64_t k = strnlen(UKF_UPTR(const char, at), chunk);
		if (k < chunk)
			return (int64_t)(n + k);
		n += chunk;
	}
	return -ENAMETOOLONG;
}

uint64_t ukf_user_vec(uint64_t uiov, uint64_t cnt)
{
	if (cnt > UKF_UIO_MAXIOV)
		return uiov; /* the host says EINVAL */
	if (!ukf_user_ok(uiov, cnt * sizeof(struct ukf_iovec)))
		return UKF_USER_BAD;
	const struct ukf_iovec *v = UKF_UPTR(const struct ukf_iovec, uiov);
	for (uint64_t i = 0; i < cnt; i++)
		if (v[i].len > INT64_MAX)
			return uiov; /* EINVAL, before any buffer */
	for (uint64_t i = 0; i < cnt; i++)
		if (ukf_user_span(v[i].base, v[i].len) < 0)
			return UKF_USER_BAD;
	return uiov;
}

/* ---- ukf_log ---------------------------------------------------------------- */
struct logbuf {
	char b[256];
	size_t n;
};

static void log_flush(struct logbuf *l)
{
	if (l->n)
		ukf_console(l->b, l->n);
	l->n = 0;
}

static void log_putc(struct logbuf *l, char c)
{
	if (l->n == sizeof(l->b))
		log_flush(l);
	l->b[l->n++] = c;
}

static void log_num(struct logbuf *l, uint64_t v, unsigned base, int neg)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		log_putc(l, '-');
	while (i)
		log_putc(l, tmp[--i]);
}

void ukf_vlog(const char *fmt, va_list ap)
{
	struct logbuf l;

	l.n = 0;
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			log_putc(&l, *fmt);
			continue;
		}
		int lng = 0;
		fmt++;
		while (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			while (*s)
				log_putc(&l, *s++);
			break;
		}
		case 'c':
			log_putc(&l, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			log_num(&l, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0);
			break;
		}
		case 'u':
			log_num(&l, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0);
			break;
		case 'x':
			log_num(&l, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0);
			break;
		case 'p':
			log_putc(&l, '0');
			log_putc(&l, 'x');
			log_num(&l, (uintptr_t)va_arg(ap, void *), 16, 0);
			break;
		case '%':
			log_putc(&l, '%');
			break;
		case '\0':
			fmt--; /* lone '%' at the end */
			break;
		default:
			log_putc(&l, '%');
			log_putc(&l, *fmt);
			break;
		}
	}
	log_flush(&l);
}

void ukf_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ukf_vlog(fmt, ap);
	va_end(ap);
}
