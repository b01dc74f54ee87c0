/* cli_submit.c -- `kawat submit`: turns release files (front matter and a
 * Markdown body) into releases on a kawat server and submits them for review. */
#include "cli/cli.h"
#include "core/core.h"
#include "core/core_frontmatter.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBMIT_DEFAULT_SERVER "http://127.0.0.1:8080"
#define SUBMIT_MAX_FILE ((size_t)16 << 20)    /* a release file, Markdown only */
#define SUBMIT_MAX_RESPONSE ((size_t)4 << 20) /* a server's JSON answer */
#define SUBMIT_TIMEOUT_S 60L

static const char submit_usage[] =
    "Usage: kawat submit [options] FILE.md [FILE.md...]\n"
    "\n"
    "Creates a release on the kawat server from each FILE (front matter and a\n"
    "Markdown body; '-' reads standard input) and submits it for editorial\n"
    "review. Prints one line per file: ID STATE URL.\n"
    "\n"
    "Options (also as --option=value):\n"
    "  --server URL  server base URL (default: $KAWAT_SERVER, else\n"
    "                " SUBMIT_DEFAULT_SERVER ")\n"
    "  --token T     API token of the issuer (default: $KAWAT_TOKEN); prefer the\n"
    "                variable, since arguments are visible to other users\n"
    "  --draft       only create the release as a draft; do not submit it\n"
    "  --dry-run     print the JSON each FILE would send and send nothing\n"
    "  -h, --help    show this help\n"
    "\n"
    "Front matter, between '---' lines at the top of FILE (a strict YAML subset:\n"
    "'key: value', quoted values, [flow, lists] and '- item' lists):\n"
    "  headline, subheadline, language, translation_group, dateline_place,\n"
    "  embargo_until, publish_at   one value each (times in RFC 3339)\n"
    "  sectors, regions            a list, or one value\n"
    "  contacts                    a list of \"Name <email> phone\" (email and\n"
    "                              phone optional)\n"
    "  issuer                      ignored: the token decides the issuer\n"
    "Any other key is an error.\n"
    "\n"
    "Submitting the same file to the same server again never creates a second\n"
    "release: each request carries an Idempotency-Key made from the file's\n"
    "bytes and the server URL.\n"
    "\n"
    "Exit status: 0 if every FILE was accepted, 1 if any failed, 2 on a usage\n"
    "error.\n";

typedef struct {
    const char *name;
    int takes_value;
} submit_option_t;

enum { OPT_SERVER, OPT_TOKEN, OPT_DRAFT, OPT_DRY_RUN, OPT_HELP };

static const submit_option_t submit_options[] = {
    [OPT_SERVER] = {"server", 1},   [OPT_TOKEN] = {"token", 1}, [OPT_DRAFT] = {"draft", 0},
    [OPT_DRY_RUN] = {"dry-run", 0}, [OPT_HELP] = {"help", 0},
};

typedef struct {
    char *server;      /* base URL without a trailing '/' (owned) */
    const char *token; /* NULL with --dry-run only */
    int draft;
    int dry_run;
} submit_config_t;

typedef struct {
    long status;
    kw_buf_t body;
    int too_large;
} submit_response_t;

/* Parses the option at argv[*i] ("--name", "--name=value" or "--name value")
 * against table. Returns the option's index with *value set (NULL for
 * flags), *i advanced past a separate value; -1 after printing a usage
 * error. */
static int submit_option(const submit_option_t *table, size_t n, int argc, char **argv, int *i,
                         const char **value)
{
    const char *arg = argv[*i];
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);

    *value = NULL;
    if (strcmp(arg, "-h") == 0) return OPT_HELP;
    if (strncmp(arg, "--", 2) != 0) goto unknown;
    for (size_t k = 0; k < n; k++) {
        if (strlen(table[k].name) != name_len || strncmp(table[k].name, name, name_len) != 0)
            continue;
        if (!table[k].takes_value) {
            if (eq == NULL) return (int)k;
            fprintf(stderr, "kawat submit: option --%s takes no value\n", table[k].name);
            return -1;
        }
        if (eq != NULL) {
            *value = eq + 1;
        } else if (*i + 1 < argc) {
            *value = argv[++*i];
        } else {
            fprintf(stderr, "kawat submit: option --%s needs a value\n", table[k].name);
            return -1;
        }
        return (int)k;
    }
unknown:
    fprintf(stderr, "kawat submit: unknown option '%s' (see kawat submit --help)\n", arg);
    return -1;
}

/* Writes s (n bytes) to f with control characters (C0, DEL, C1) replaced by
 * spaces, so text from a server cannot drive the terminal. */
static void submit_put_clean(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F) {
            fputc(' ', f);
        } else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9F) {
            fputc(' ', f);
            i++;
        } else {
            fputc(c, f);
        }
    }
}

/* Reads all of path ('-' for standard input) into out. Returns KW_OK, or
 * KW_INVALID after printing why. */
static int submit_read(const char *path, const char *label, kw_buf_t *out)
{
    int rc = KW_INVALID;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];

    if (f == NULL) {
        fprintf(stderr, "kawat submit: %s: %s\n", label, strerror(errno));
        return KW_INVALID;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        kw_buf_append(out, chunk, n);
        if (out->len > SUBMIT_MAX_FILE) {
            fprintf(stderr, "kawat submit: %s: larger than %zu MiB\n", label,
                    SUBMIT_MAX_FILE >> 20);
            goto done;
        }
        if (n < sizeof(chunk)) break;
    }
    if (ferror(f)) {
        fprintf(stderr, "kawat submit: %s: read error: %s\n", label, strerror(errno));
        goto done;
    }
    if (out->data == NULL) kw_buf_append(out, "", 0);
    rc = KW_OK;

done:
    if (f != stdin) fclose(f);
    return rc;
}

static kw_str_t submit_trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (kw_str_t){p, n};
}

static void submit_set_part(json_t *obj, const char *key, kw_str_t v)
{
    v = submit_trim(v.data, v.len);
    if (v.len > 0) json_object_set_new(obj, key, json_stringn(v.data, v.len));
}

/* Is the token a piece of a phone number: only digits and + ( ) - . / and
 * at least one character? */
static int submit_phone_token(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+()-./", p[i])) return 0;
    return n > 0;
}

/* Splits one contact, "Name <email> phone", into a new object with "name",
 * "email" and "phone" (each only when present). Without angle brackets, a
 * word containing '@' is the email; otherwise the trailing words made of
 * phone characters are the phone. Returns NULL if '<' has no '>'. */
static json_t *submit_contact(kw_str_t s)
{
    json_t *c = json_object();
    const char *lt = memchr(s.data, '<', s.len);

    if (lt != NULL) {
        const char *gt = memchr(lt, '>', s.len - (size_t)(lt - s.data));
        if (gt == NULL) {
            json_decref(c);
            return NULL;
        }
        submit_set_part(c, "name", (kw_str_t){s.data, (size_t)(lt - s.data)});
        submit_set_part(c, "email", (kw_str_t){lt + 1, (size_t)(gt - lt - 1)});
        submit_set_part(c, "phone", (kw_str_t){gt + 1, s.len - (size_t)(gt + 1 - s.data)});
        return c;
    }

    /* Walk the words; remember where a trailing run of phone words starts. */
    size_t phone_at = s.len;
    for (size_t i = 0; i < s.len;) {
        while (i < s.len && (s.data[i] == ' ' || s.data[i] == '\t'))
            i++;
        size_t w = i;
        while (i < s.len && s.data[i] != ' ' && s.data[i] != '\t')
            i++;
        if (i == w) break;
        if (memchr(s.data + w, '@', i - w) != NULL) {
            submit_set_part(c, "name", (kw_str_t){s.data, w});
            submit_set_part(c, "email", (kw_str_t){s.data + w, i - w});
            submit_set_part(c, "phone", (kw_str_t){s.data + i, s.len - i});
            return c;
        }
        if (!submit_phone_token(s.data + w, i - w))
            phone_at = s.len;
        else if (phone_at == s.len)
            phone_at = w;
    }
    submit_set_part(c, "name", (kw_str_t){s.data, phone_at});
    submit_set_part(c, "phone", (kw_str_t){s.data + phone_at, s.len - phone_at});
    return c;
}

static const char *const submit_string_keys[] = {
    "headline",       "subheadline",   "language",   "translation_group",
    "dateline_place", "embargo_until", "publish_at",
};

/* Builds the body of POST /v1/releases from the front matter and the
 * Markdown. Returns a new object, or NULL after printing the error (naming
 * label and the key). */
json_t *cli_release_json(const char *label, json_t *meta, const char *md, size_t md_len)
{
    json_t *req = json_object();
    const char *key;
    json_t *value;

    json_object_foreach(meta, key, value)
    {
        int is_string_key = 0;
        for (size_t k = 0; k < KW_ARRAY_SIZE(submit_string_keys); k++)
            if (strcmp(key, submit_string_keys[k]) == 0) is_string_key = 1;

        if (strcmp(key, "issuer") == 0) continue;
        if (is_string_key) {
            if (!json_is_string(value)) {
                fprintf(stderr, "kawat submit: %s: '%s' takes one value, not a list\n", label, key);
                goto fail;
            }
            json_object_set(req, key, value);
        } else if (strcmp(key, "sectors") == 0 || strcmp(key, "regions") == 0) {
            if (json_is_string(value))
                json_object_set_new(req, key, json_pack("[O]", value));
            else
                json_object_set(req, key, value);
        } else if (strcmp(key, "contacts") == 0) {
            json_t *list = json_array();
            json_t *items = json_is_string(value) ? json_pack("[O]", value) : json_incref(value);
            size_t i;
            json_t *item;
            json_object_set_new(req, key, list);
            json_array_foreach(items, i, item)
            {
                const char *z = json_string_value(item);
                json_t *c = submit_contact((kw_str_t){z, json_string_length(item)});
                if (c == NULL) {
                    fprintf(stderr, "kawat submit: %s: contacts[%zu]: '<' without '>'\n", label, i);
                    json_decref(items);
                    goto fail;
                }
                json_array_append_new(list, c);
            }
            json_decref(items);
        } else {
            fprintf(stderr, "kawat submit: %s: unknown front-matter key '%s'\n", label, key);
            goto fail;
        }
    }
    json_object_set_new(req, "body", json_stringn(md, md_len));
    return req;

fail:
    json_decref(req);
    return NULL;
}

/* Writes the lowercase hex SHA-256 of the file's bytes followed by the
 * server URL into hex (65 bytes). Returns KW_OK or KW_ERROR. */
static int submit_idempotency_key(const kw_buf_t *file, const char *server, char hex[65])
{
    int rc = KW_ERROR;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, file->data, file->len) != 1 ||
        EVP_DigestUpdate(ctx, server, strlen(server)) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32)
        goto done;
    for (unsigned int i = 0; i < md_len; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    rc = KW_OK;

done:
    EVP_MD_CTX_free(ctx);
    return rc;
}

static size_t submit_on_data(char *p, size_t size, size_t n, void *user)
{
    submit_response_t *r = user;
    if (r->body.len + n > SUBMIT_MAX_RESPONSE) {
        r->too_large = 1;
        return 0; /* aborts the transfer */
    }
    kw_buf_append(&r->body, p, n);
    return n;
}

/* POSTs body (NULL: an empty body) to url with the token and, when given,
 * the idempotency key. Fills resp (reset first). Returns KW_OK when a
 * response arrived, whatever its status, or KW_ERROR with the reason in
 * errbuf (CURL_ERROR_SIZE bytes). */
static int submit_post(CURL *h, const submit_config_t *cfg, const char *url, const char *idem_key,
                       const char *body, submit_response_t *resp, char *errbuf)
{
    int rc = KW_ERROR;
    struct curl_slist *headers = NULL;
    kw_buf_t line = {0};

    kw_buf_reset(&resp->body);
    resp->status = 0;
    resp->too_large = 0;
    errbuf[0] = '\0';

    kw_buf_printf(&line, "Authorization: Bearer %s", cfg->token);
    headers = curl_slist_append(headers, line.data);
    headers = curl_slist_append(headers, "Accept: application/json, application/problem+json");
    headers = curl_slist_append(headers, body ? "Content-Type: application/json" : "Content-Type:");
    headers = curl_slist_append(headers, "Expect:");
    if (idem_key != NULL) {
        kw_buf_reset(&line);
        kw_buf_printf(&line, "Idempotency-Key: %s", idem_key);
        headers = curl_slist_append(headers, line.data);
    }
    if (headers == NULL) {
        snprintf(errbuf, CURL_ERROR_SIZE, "out of memory");
        goto done;
    }

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, submit_on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        if (resp->too_large)
            snprintf(errbuf, CURL_ERROR_SIZE, "response larger than %zu MiB",
                     SUBMIT_MAX_RESPONSE >> 20);
        else if (errbuf[0] == '\0')
            snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    rc = KW_OK;

done:
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    kw_buf_free(&line);
    return rc;
}

/* Prints a refused request: "kawat submit: LABEL: title: detail" and one
 * "  field: detail" line per entry of an RFC 9457 problem's "errors"; falls
 * back to the HTTP status and the start of the body for anything else. */
static void submit_print_problem(const char *label, const submit_response_t *r)
{
    json_t *doc = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    const char *title = json_string_value(json_object_get(doc, "title"));
    const char *detail = json_string_value(json_object_get(doc, "detail"));

    fprintf(stderr, "kawat submit: %s: ", label);
    if (title == NULL && detail == NULL) {
        fprintf(stderr, "HTTP %ld", r->status);
        if (r->body.len > 0 && !json_is_object(doc)) {
            const char *nl = memchr(r->body.data, '\n', r->body.len);
            size_t n = nl ? (size_t)(nl - r->body.data) : r->body.len;
            fputs(": ", stderr);
            submit_put_clean(stderr, r->body.data, n < 200 ? n : 200);
        }
    } else {
        const char *t = title ? title : "error";
        submit_put_clean(stderr, t, strlen(t));
        if (detail != NULL) {
            fputs(": ", stderr);
            submit_put_clean(stderr, detail, strlen(detail));
        }
    }
    fputc('\n', stderr);

    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "errors"), i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *why = json_string_value(json_object_get(e, "detail"));
        fputs("  ", stderr);
        if (field != NULL) {
            submit_put_clean(stderr, field, strlen(field));
            fputs(": ", stderr);
        }
        if (why != NULL) submit_put_clean(stderr, why, strlen(why));
        fputc('\n', stderr);
    }
    json_decref(doc);
}

/* Creates the release in one file and, unless --draft or the server says
 * it is past the draft state already (an idempotent replay), submits it.
 * Prints "ID STATE URL" on success. Returns KW_OK; KW_INVALID for a bad
 * file or a refusal by the server (reported); KW_ERROR when the server
 * could not be reached (reported), which ends the run. */
static int submit_file(CURL *h, const submit_config_t *cfg, const char *path)
{
    int rc = KW_INVALID;
    const char *label = strcmp(path, "-") == 0 ? "stdin" : path;
    kw_buf_t file = {0}, url = {0};
    submit_response_t resp = {0};
    json_t *meta = NULL, *req = NULL, *created = NULL, *submitted = NULL;
    char *payload = NULL, *id_escaped = NULL;
    char err[CURL_ERROR_SIZE > 512 ? CURL_ERROR_SIZE : 512];
    char key[65];
    const char *md, *id, *state, *link;
    size_t md_len;

    if (submit_read(path, label, &file) != KW_OK) goto done;
    if (core_frontmatter_parse(file.data, file.len, &meta, &md, &md_len, err, sizeof(err)) !=
        KW_OK) {
        fprintf(stderr, "kawat submit: %s: %s\n", label, err);
        goto done;
    }
    req = cli_release_json(label, meta, md, md_len);
    if (req == NULL) goto done;
    payload = json_dumps(req, cfg->dry_run ? JSON_INDENT(2) : JSON_COMPACT);
    if (payload == NULL) {
        fprintf(stderr, "kawat submit: %s: cannot encode the request\n", label);
        goto done;
    }
    if (cfg->dry_run) {
        printf("%s\n", payload);
        rc = KW_OK;
        goto done;
    }
    if (submit_idempotency_key(&file, cfg->server, key) != KW_OK) {
        fprintf(stderr, "kawat submit: %s: cannot hash the file\n", label);
        goto done;
    }

    kw_buf_printf(&url, "%s/v1/releases", cfg->server);
    if (submit_post(h, cfg, url.data, key, payload, &resp, err) != KW_OK) {
        fprintf(stderr, "kawat submit: cannot reach %s: %s\n", cfg->server, err);
        rc = KW_ERROR;
        goto done;
    }
    if (resp.status != 200 && resp.status != 201) {
        submit_print_problem(label, &resp);
        goto done;
    }
    created = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    id = json_string_value(json_object_get(created, "id"));
    state = json_string_value(json_object_get(created, "state"));
    link = json_string_value(json_object_get(created, "url"));
    if (id == NULL || id[0] == '\0') {
        fprintf(stderr, "kawat submit: %s: the server's answer (HTTP %ld) has no release id\n",
                label, resp.status);
        goto done;
    }

    if (!cfg->draft && (state == NULL || strcmp(state, "draft") == 0)) {
        id_escaped = curl_easy_escape(h, id, 0);
        kw_buf_reset(&url);
        kw_buf_printf(&url, "%s/v1/releases/%s/submit", cfg->server, id_escaped);
        if (submit_post(h, cfg, url.data, NULL, NULL, &resp, err) != KW_OK) {
            fprintf(stderr,
                    "kawat submit: cannot reach %s: %s (release %s was created as a draft)\n",
                    cfg->server, err, id);
            rc = KW_ERROR;
            goto done;
        }
        if (resp.status < 200 || resp.status > 299) {
            submit_print_problem(label, &resp);
            fprintf(stderr, "  (release %s was created as a draft)\n", id);
            goto done;
        }
        submitted = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        const char *new_state = json_string_value(json_object_get(submitted, "state"));
        const char *new_link = json_string_value(json_object_get(submitted, "url"));
        state = new_state ? new_state : "submitted";
        if (link == NULL) link = new_link;
    }

    submit_put_clean(stdout, id, strlen(id));
    fputc(' ', stdout);
    submit_put_clean(stdout, state ? state : "-", strlen(state ? state : "-"));
    fputc(' ', stdout);
    submit_put_clean(stdout, link ? link : "-", strlen(link ? link : "-"));
    fputc('\n', stdout);
    fflush(stdout);
    rc = KW_OK;

done:
    curl_free(id_escaped);
    free(payload);
    json_decref(submitted);
    json_decref(created);
    json_decref(req);
    json_decref(meta);
    kw_buf_free(&resp.body);
    kw_buf_free(&url);
    kw_buf_free(&file);
    return rc;
}

int cli_submit_main(int argc, char **argv)
{
    int status = 2;
    submit_config_t cfg = {0};
    const char *server = getenv("KAWAT_SERVER");
    const char **files = kw_calloc((size_t)argc + 1, sizeof(*files));
    size_t nfiles = 0;
    int only_files = 0, stdin_seen = 0, curl_ready = 0, failed = 0;
    CURL *h = NULL;

    cfg.token = getenv("KAWAT_TOKEN");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (only_files || a[0] != '-' || a[1] == '\0') {
            if (strcmp(a, "-") == 0 && stdin_seen++) {
                fprintf(stderr, "kawat submit: '-' (standard input) can be given once\n");
                goto done;
            }
            files[nfiles++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = 1;
            continue;
        }
        switch (submit_option(submit_options, KW_ARRAY_SIZE(submit_options), argc, argv, &i, &v)) {
        case OPT_SERVER:
            server = v;
            break;
        case OPT_TOKEN:
            cfg.token = v;
            break;
        case OPT_DRAFT:
            cfg.draft = 1;
            break;
        case OPT_DRY_RUN:
            cfg.dry_run = 1;
            break;
        case OPT_HELP:
            fputs(submit_usage, stdout);
            status = 0;
            goto done;
        default:
            goto done;
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "kawat submit: no FILE given (see kawat submit --help)\n");
        goto done;
    }
    if (server == NULL || server[0] == '\0') server = SUBMIT_DEFAULT_SERVER;
    cfg.server = kw_strdup(server);
    for (size_t n = strlen(cfg.server); n > 0 && cfg.server[n - 1] == '/'; n--)
        cfg.server[n - 1] = '\0';
    if (!cfg.dry_run && (cfg.token == NULL || cfg.token[0] == '\0')) {
        fprintf(stderr, "kawat submit: no API token: give --token or set KAWAT_TOKEN\n");
        goto done;
    }
    if (!cfg.dry_run && strpbrk(cfg.token, "\r\n") != NULL) {
        fprintf(stderr, "kawat submit: the API token contains a line break\n");
        goto done;
    }

    status = 1;
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_ready || (h = curl_easy_init()) == NULL) {
        fprintf(stderr, "kawat submit: cannot initialise libcurl\n");
        goto done;
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kawat-submit/1");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, SUBMIT_TIMEOUT_S);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif

    for (size_t k = 0; k < nfiles; k++) {
        int rc = submit_file(h, &cfg, files[k]);
        if (rc != KW_OK) failed = 1;
        if (rc == KW_ERROR) break; /* the server is unreachable: the rest would fail alike */
    }
    status = failed ? 1 : 0;

done:
    if (h != NULL) curl_easy_cleanup(h);
    if (curl_ready) curl_global_cleanup();
    free(cfg.server);
    free(files);
    return status;
}
