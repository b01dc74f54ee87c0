/* api_demo.c -- loads the demo release files (the demo folder's .md files) into a fresh store,
 * published, once; and makes the admin token `make run` prints. */
#include "api/api.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "core/core_frontmatter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, kw_buf_t *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return KW_ERROR;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) kw_buf_append(out, chunk, n);
    int rc = ferror(f) ? KW_ERROR : KW_OK;
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one op synchronously; prints and returns its rc. */
static int run(store_t *store, store_op_t *op, const char *what)
{
    int rc = store_exec(store, op);
    if (rc != KW_OK) {
        fprintf(stderr, "kawat: demo: %s: %s%s%s\n", what,
                op->errs.count ? op->errs.items[0].field : op->message,
                op->errs.count ? ": " : "", op->errs.count ? op->errs.items[0].detail : "");
    }
    return rc;
}

/* Creates a user of role with a new token; writes the token to out. */
static int make_token(store_t *store, const char *name, const char *role, const char *issuer_id,
                      char *out, size_t size)
{
    store_op_t *op = store_op_new(STORE_OP_USER_ADD, NULL, NULL);
    op->input = json_pack("{s:s, s:s, s:s?}", "name", name, "role", role, "issuer_id", issuer_id);
    int rc = run(store, op, "user");
    char user_id[32];
    if (rc == KW_OK)
        snprintf(user_id, sizeof(user_id), "%s",
                 json_string_value(json_object_get(op->output, "id")));
    store_op_free(op);
    if (rc != KW_OK) return rc;
    char hash[AUTH_HEX_SIZE];
    auth_token_generate(out, size);
    auth_token_hash(out, strlen(out), hash);
    op = store_op_new(STORE_OP_TOKEN_CREATE, NULL, NULL);
    op->input = json_pack("{s:s, s:s, s:s}", "user_id", user_id, "token_hash", hash, "name",
                          "demo");
    rc = run(store, op, "token");
    store_op_free(op);
    return rc;
}

static int load_one(store_t *store, const char *path, const core_principal_t *editor)
{
    kw_buf_t text = {0};
    json_t *meta = NULL, *in = NULL;
    const char *body;
    size_t body_len;
    char err[256];
    int rc = KW_ERROR;
    core_principal_t issuer = {.role = ROLE_ISSUER};

    if (read_file(path, &text) != KW_OK) {
        fprintf(stderr, "kawat: demo: cannot read %s\n", path);
        goto out;
    }
    if (core_frontmatter_parse(text.data, text.len, &meta, &body, &body_len, err, sizeof(err)) !=
        KW_OK) {
        fprintf(stderr, "kawat: demo: %s: %s\n", path, err);
        goto out;
    }
    in = cli_release_json(path, meta, body, body_len);
    if (in == NULL) goto out;

    const char *issuer_name = json_string_value(json_object_get(meta, "issuer"));
    store_op_t *op = store_op_new(STORE_OP_ISSUER_ENSURE, NULL, NULL);
    op->input = json_pack("{s:s}", "name", issuer_name ? issuer_name : "Kawat Demo Newsroom");
    if (run(store, op, path) == KW_OK)
        snprintf(issuer.issuer_id, sizeof(issuer.issuer_id), "%s",
                 json_string_value(json_object_get(op->output, "id")));
    store_op_free(op);
    if (!issuer.issuer_id[0]) goto out;
    snprintf(issuer.user_id, sizeof(issuer.user_id), "demo");

    op = store_op_new(STORE_OP_RELEASE_CREATE, NULL, NULL);
    op->who = issuer;
    op->input = json_incref(in);
    char id[32] = "";
    if (run(store, op, path) == KW_OK) snprintf(id, sizeof(id), "%s", op->release->id);
    store_op_free(op);
    if (!id[0]) goto out;

    static const core_action_t steps[] = {ACT_SUBMIT, ACT_APPROVE};
    for (size_t i = 0; i < KW_ARRAY_SIZE(steps); i++) {
        op = store_op_new(STORE_OP_RELEASE_ACT, NULL, NULL);
        op->who = i == 0 ? issuer : *editor;
        op->action = steps[i];
        snprintf(op->release_id, sizeof(op->release_id), "%s", id);
        int r = run(store, op, path);
        store_op_free(op);
        if (r != KW_OK) goto out;
    }
    rc = KW_OK;
out:
    json_decref(in);
    json_decref(meta);
    kw_buf_free(&text);
    return rc;
}

int api_demo_load(store_t *store, const char *demo_dir, const char *data_dir)
{
    char flag[16], token_path[1024], token[AUTH_TOKEN_SIZE];
    snprintf(token_path, sizeof(token_path), "%s/admin-token", data_dir);

    if (store_meta_get(store, "demo_loaded", flag, sizeof(flag)) == KW_OK) {
        FILE *f = fopen(token_path, "r");
        if (f && fgets(token, sizeof(token), f)) {
            token[strcspn(token, "\r\n")] = '\0';
            printf("kawat: demo content already loaded\nkawat: admin token: %s\n", token);
        }
        if (f) fclose(f);
        return KW_OK;
    }

    DIR *d = opendir(demo_dir);
    if (d == NULL) {
        fprintf(stderr, "kawat: demo: cannot open %s: %s\n", demo_dir, strerror(errno));
        return KW_ERROR;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".md") != 0) continue;
        if (n == cap) names = kw_realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*names));
        names[n++] = kw_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);

    core_principal_t editor = {.role = ROLE_EDITOR};
    snprintf(editor.user_id, sizeof(editor.user_id), "demo-editor");
    int rc = make_token(store, "Admin", "admin", NULL, token, sizeof(token));
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", demo_dir, names[i]);
        if (rc == KW_OK && load_one(store, path, &editor) == KW_OK) loaded++;
        free(names[i]);
    }
    free(names);
    if (rc != KW_OK) return rc;

    int fd = open(token_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dprintf(fd, "%s\n", token);
        close(fd);
    }
    store_meta_set(store, "demo_loaded", "1");
    printf("kawat: loaded %zu demo releases from %s\nkawat: admin token: %s (saved in %s)\n",
           loaded, demo_dir, token, token_path);
    return KW_OK;
}
