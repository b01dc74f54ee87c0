/* deliver.h -- kawat's outbound HTTP: requests to the outside world (WebSub
 * verifications and pushes, outlet webhooks) on libcurl's multi interface,
 * driven by the libuv loop so that no peer can ever make the loop wait.
 *
 * Every request is guarded against server-side request forgery: the address
 * curl is about to connect to is checked when the socket is opened (after
 * DNS, for every address tried), so a name that resolves, or re-resolves,
 * to a loopback, link-local, private, shared, multicast or reserved address
 * is refused unless an allow list of CIDRs covers it. Only http and https,
 * no redirects, no proxies from the environment, a connect and a total
 * timeout, and a bound on the answer kept. */
#ifndef KAWAT_DELIVER_H
#define KAWAT_DELIVER_H

#include "core/core.h"

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* ---- addresses ---- */

/* One CIDR block. IPv4-mapped IPv6 blocks (::ffff:a.b.c.d/96+n) are kept
 * as the IPv4 block they are, so that one rule covers both spellings. */
typedef struct {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
    unsigned prefix;  /* 0..32 or 0..128 */
} deliver_cidr_t;

/* Parses "10.0.0.0/8", "::1/128" or a bare address (a /32 or /128) of len
 * bytes. Host bits set below the prefix are refused ("10.0.0.1/8" is a
 * typo more often than an intent). Returns KW_OK or KW_INVALID. */
int deliver_cidr_parse(const char *text, size_t len, deliver_cidr_t *out);

/* Parses a comma-separated list ("127.0.0.0/8, ::1/128"; spaces around
 * items are ignored; NULL or "" is the empty list). *out is malloc'd (free
 * it; NULL when empty). Returns KW_OK, or KW_INVALID with the offending
 * item named in err. */
int deliver_cidr_list_parse(const char *list, deliver_cidr_t **out, size_t *n, char *err,
                            size_t errsize);

/* Whether sa (AF_INET or AF_INET6) lies in the block. */
int deliver_cidr_contains(const deliver_cidr_t *c, const struct sockaddr *sa);

/* Whether sa is an address outbound requests must not reach by default:
 * IPv4 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24,
 * 192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4
 * (multicast), 240/4 (reserved, broadcast); IPv6 ::/96 (unspecified,
 * loopback, IPv4-compatible), 100::/64, 2001:db8::/32, fc00::/7 (ULA),
 * fe80::/10 (link-local), fec0::/10, ff00::/8 (multicast); and IPv6
 * forms that embed an IPv4 address (::ffff:0:0/96 mapped, 64:ff9b::/96
 * NAT64, 2002::/16 6to4) by the rules for that IPv4 address. Any other
 * family is special too. */
int deliver_addr_special(const struct sockaddr *sa);

/* The rule applied at connect time: allowed when an allow block covers sa,
 * else when sa is not special. Returns 1 if allowed. */
int deliver_addr_allowed(const struct sockaddr *sa, const deliver_cidr_t *allow, size_t nallow);

/* Whether url is one outbound requests may be made to: an absolute http or
 * https URL with a host, no user name or password, at most 8192 bytes, no
 * spaces or control characters. Says nothing about where the host points
 * (that is decided at connect time). Returns KW_OK or KW_INVALID with the
 * reason in err. */
int deliver_url_check(const char *url, char *err, size_t errsize);

/* ---- requests ---- */

typedef struct deliver_s deliver_t;

typedef struct {
    unsigned connect_timeout_ms; /* TCP and TLS handshake (default 5 s) */
    unsigned timeout_ms;         /* the whole request, queueing included (default 15 s) */
    size_t max_response_bytes;   /* answer body kept; the rest is read and dropped (64 KiB) */
    unsigned max_connections;    /* open at once in all; more wait their turn (default 64) */
    const char *allow;           /* CIDR list (deliver_cidr_list_parse), NULL: none */
    const char *user_agent;      /* default "kawat" */
} deliver_config_t;

void deliver_config_defaults(deliver_config_t *cfg);

/* Sets up the client on loop. Returns KW_OK; KW_INVALID when cfg->allow
 * does not parse (message on stderr); KW_ERROR when curl fails. */
int deliver_start(uv_loop_t *loop, const deliver_config_t *cfg, deliver_t **out);

/* Cancels every request in flight (their callbacks run now, with
 * DELIVER_CANCELLED), releases curl and closes the loop handles; the client
 * is freed once they are closed, after which on_closed (if any) is called
 * on the loop. d must not be used after this call. */
void deliver_stop(deliver_t *d, void (*on_closed)(void *arg), void *arg);

/* How a request ended. */
typedef enum {
    DELIVER_ANSWERED = 0, /* an HTTP answer came: see status (any status) */
    DELIVER_FAILED,       /* no answer: DNS, connect, TLS, timeout, reset */
    DELIVER_REFUSED,      /* not attempted or cut at connect: the URL or the
                             address is not allowed (SSRF rules) */
    DELIVER_CANCELLED     /* deliver_stop while in flight */
} deliver_outcome_t;

typedef struct {
    deliver_outcome_t outcome;
    int status;        /* HTTP status when DELIVER_ANSWERED, else 0 */
    kw_str_t body;     /* the answer's body (at most max_response_bytes), valid during the call */
    const char *error; /* what went wrong, for logs; "" when answered */
    int64_t elapsed_ms;
} deliver_result_t;

/* Called on the loop exactly once per request, also when it fails or is
 * cancelled; the caller frees arg's state there. */
typedef void (*deliver_done_fn)(const deliver_result_t *res, void *arg);

/* Starts a request: method ("GET", "POST", ...), url (deliver_url_check'd
 * here too), headers a NULL-terminated list of "Name: value" lines or NULL,
 * body (copied; NULL with len 0 for none). done is always called later,
 * never from within this call, also for a URL refused at once. */
void deliver_http_send(deliver_t *d, const char *method, const char *url,
                       const char *const *headers, const void *body, size_t len,
                       deliver_done_fn done, void *arg);

/* deliver_url_check, and when the URL's host is an IP address literal,
 * the address rule too, so that an obviously refused callback can be told
 * to the client at once (a host name is judged at connect time). Returns
 * KW_OK, KW_INVALID (malformed) or KW_FORBIDDEN (refused address), with
 * the reason in err. */
int deliver_url_allowed(const deliver_t *d, const char *url, char *err, size_t errsize);

/* Requests not yet finished (including those waiting for a connection). */
size_t deliver_in_flight(const deliver_t *d);

typedef struct {
    uint64_t requests, answered, failed, refused, cancelled;
} deliver_stats_t;
void deliver_get_stats(const deliver_t *d, deliver_stats_t *out);

#endif
