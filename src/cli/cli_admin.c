/* cli_admin.c -- `kawat user add` and `kawat token create`: people and
 * their API tokens, written straight into the data folder. */
#include "auth/auth.h"
#include "cli/cli.h"
#include "core/core_config.h"
#include "core/core_release.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_DATA, O_NAME, O_ROLE, O_ISSUER, O_EMAIL, O_USER, O_PASSWORD_STDIN };

static core_cfg_opt_t admin_opts[] = {
    [O_DATA] = {"data", "KAWAT_DATA", CFG_STRING, "var", "Data folder of the wire.", 0, 0, 0},
    [O_NAME] = {"name", "KAWAT_USER_NAME", CFG_STRING, NULL,
                "The person's (or system's) name; for issuers also the issuer's name.", 0, 0, 0},
    [O_ROLE] = {"role", "KAWAT_USER_ROLE", CFG_STRING, NULL,
                "admin, editor, issuer or subscriber.", 0, 0, 0},
    [O_ISSUER] = {"issuer", "KAWAT_USER_ISSUER", CFG_STRING, NULL,
                  "Issuer (organization) an issuer user belongs to; created if new "
                  "(default: the --name).",
                  0, 0, 0},
    [O_EMAIL] = {"email", "KAWAT_USER_EMAIL", CFG_STRING, NULL, "E-mail address.", 0, 0, 0},
    [O_USER] = {"user", "KAWAT_USER_ID", CFG_STRING, NULL,
                "token create: an existing user id instead of making a new user.", 0, 0, 0},
    [O_PASSWORD_STDIN] = {"password-stdin", "KAWAT_PASSWORD_STDIN", CFG_BOOL, "false",
                          "user add: read a password from standard input (stored as argon2id).",
                          0, 0, 0},
};
#define NOPTS KW_ARRAY_SIZE(admin_opts)

void cli_admin_usage(FILE *f)
{
    core_config_usage(f, admin_opts, NOPTS);
}

static int run_op(store_t *s, store_op_t *op, const char *cmd)
{
    int rc = store_exec(s, op);
    if (rc != KW_OK) {
        if (op->errs.count)
            fprintf(stderr, "kawat %s: --%s: %s\n", cmd, op->errs.items[0].field,
                    op->errs.items[0].detail);
        else
            fprintf(stderr, "kawat %s: %s\n", cmd, op->message);
    }
    return rc;
}

/* Adds a user (and its issuer if needed); writes the new id to user_id. */
static int add_user(store_t *s, const char *cmd, const char *password_hash, char *user_id,
                    size_t size)
{
    const char *name = admin_opts[O_NAME].str, *role = admin_opts[O_ROLE].str;
    core_role_t r;
    if (role == NULL || core_role_parse(role, &r) != KW_OK) {
        fprintf(stderr, "kawat %s: --role must be admin, editor, issuer or subscriber\n", cmd);
        return KW_INVALID;
    }
    if (name == NULL || !*name) {
        fprintf(stderr, "kawat %s: --name is required\n", cmd);
        return KW_INVALID;
    }
    char issuer_id[32] = "";
    if (r == ROLE_ISSUER) {
        store_op_t *op = store_op_new(STORE_OP_ISSUER_ENSURE, NULL, NULL);
        op->input = json_pack("{s:s}", "name",
                              admin_opts[O_ISSUER].str ? admin_opts[O_ISSUER].str : name);
        int rc = run_op(s, op, cmd);
        if (rc == KW_OK)
            snprintf(issuer_id, sizeof(issuer_id), "%s",
                     json_string_value(json_object_get(op->output, "id")));
        store_op_free(op);
        if (rc != KW_OK) return rc;
    }
    store_op_t *op = store_op_new(STORE_OP_USER_ADD, NULL, NULL);
    op->input = json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "name", name, "role", role, "issuer_id",
                          issuer_id[0] ? issuer_id : NULL, "email", admin_opts[O_EMAIL].str,
                          "password_hash", password_hash);
    int rc = run_op(s, op, cmd);
    if (rc == KW_OK)
        snprintf(user_id, size, "%s", json_string_value(json_object_get(op->output, "id")));
    store_op_free(op);
    return rc;
}

static int open_store(const char *cmd, store_t **s)
{
    char err[512];
    if (store_open(admin_opts[O_DATA].str, s, err, sizeof(err)) != KW_OK) {
        fprintf(stderr, "kawat %s: %s\n", cmd, err);
        return KW_ERROR;
    }
    return KW_OK;
}

static void print_usage(const char *usage)
{
    printf("%s\n\nOptions:\n", usage);
    core_config_usage(stdout, admin_opts, NOPTS);
}

static int load(const char *cmd, const char *usage, int argc, char **argv)
{
    char err[512];
    int rc = core_config_load(admin_opts, NOPTS, argc, argv, err, sizeof(err));
    if (rc == KW_DECLINED) {
        print_usage(usage);
        return 0;
    }
    if (rc != KW_OK) {
        fprintf(stderr, "kawat %s: %s\n", cmd, err);
        return 2;
    }
    return -1;
}

int cli_user_main(int argc, char **argv)
{
    static const char usage[] =
        "Usage: kawat user add --data DIR --name NAME --role ROLE [--issuer ORG] [--email E]\n"
        "                      [--password-stdin]\n"
        "Adds a person to the wire and prints their user id. Make them a token with\n"
        "`kawat token create --user ID`.";
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            print_usage(usage);
            return 0;
        }
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    int early = load("user add", usage, argc - 2, argv + 2);
    if (early >= 0) return early;

    char hash[AUTH_PASSWORD_HASH_SIZE] = "";
    if (admin_opts[O_PASSWORD_STDIN].num) {
        char pw[512];
        if (fgets(pw, sizeof(pw), stdin) == NULL || strlen(pw) < 2) {
            fprintf(stderr, "kawat user add: no password on standard input\n");
            core_config_free(admin_opts, NOPTS);
            return 2;
        }
        pw[strcspn(pw, "\r\n")] = '\0';
        if (strlen(pw) < 10) {
            fprintf(stderr, "kawat user add: the password must be at least 10 characters\n");
            core_config_free(admin_opts, NOPTS);
            return 2;
        }
        if (auth_password_hash(pw, hash, sizeof(hash)) != KW_OK) {
            fprintf(stderr, "kawat user add: cannot hash the password\n");
            core_config_free(admin_opts, NOPTS);
            return 1;
        }
    }
    store_t *s = NULL;
    int status = 1;
    char user_id[32];
    if (open_store("user add", &s) == KW_OK &&
        add_user(s, "user add", hash[0] ? hash : NULL, user_id, sizeof(user_id)) == KW_OK) {
        printf("%s\n", user_id);
        status = 0;
    }
    store_close(s);
    core_config_free(admin_opts, NOPTS);
    return status;
}

int cli_token_main(int argc, char **argv)
{
    static const char usage[] =
        "Usage: kawat token create --data DIR --role ROLE [--name NAME] [--issuer ORG]\n"
        "       kawat token create --data DIR --user USER_ID\n"
        "Prints a new API token on standard output. Only its hash is stored: keep it.\n"
        "Requests carry it as `Authorization: Bearer TOKEN`.";
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            print_usage(usage);
            return 0;
        }
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    int early = load("token create", usage, argc - 2, argv + 2);
    if (early >= 0) return early;

    store_t *s = NULL;
    int status = 1;
    char user_id[32];
    if (open_store("token create", &s) != KW_OK) goto out;
    if (admin_opts[O_USER].str) {
        snprintf(user_id, sizeof(user_id), "%s", admin_opts[O_USER].str);
    } else {
        if (admin_opts[O_NAME].str == NULL) {
            free(admin_opts[O_NAME].str);
            admin_opts[O_NAME].str = kw_strdup(admin_opts[O_ROLE].str ? admin_opts[O_ROLE].str
                                                                      : "user");
        }
        if (add_user(s, "token create", NULL, user_id, sizeof(user_id)) != KW_OK) goto out;
    }
    char token[AUTH_TOKEN_SIZE], hash[AUTH_HEX_SIZE];
    auth_token_generate(token, sizeof(token));
    auth_token_hash(token, strlen(token), hash);
    store_op_t *op = store_op_new(STORE_OP_TOKEN_CREATE, NULL, NULL);
    op->input = json_pack("{s:s, s:s, s:s?}", "user_id", user_id, "token_hash", hash, "name",
                          admin_opts[O_NAME].str);
    if (store_exec(s, op) == KW_OK) {
        printf("%s\n", token);
        status = 0;
    } else if (admin_opts[O_USER].str && strstr(op->message, "FOREIGN KEY") != NULL) {
        /* The store only says that a foreign key failed: name the option. */
        fprintf(stderr, "kawat token create: --user: no user with id '%s'\n",
                admin_opts[O_USER].str);
    } else {
        fprintf(stderr, "kawat token create: %s\n",
                op->errs.count ? op->errs.items[0].detail : op->message);
    }
    store_op_free(op);
out:
    store_close(s);
    core_config_free(admin_opts, NOPTS);
    return status;
}
