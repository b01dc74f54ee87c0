/* main.c -- the kawat program: dispatches to its subcommands. */
#include "api/api.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#define KAWAT_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "kawat %s -- a real-time, multilingual press-release wire\n\n"
            "Usage: kawat COMMAND [options]\n\n"
            "Commands:\n"
            "  serve           Serve the wire: API, pages, scheduler (kawat serve --help)\n"
            "  submit FILE.md  Submit a release file to a running wire (kawat submit --help)\n"
            "  tail            Print the wire as it happens, with filters (kawat tail --help)\n"
            "  user add        Add a person: admin, editor, issuer or subscriber\n"
            "  token create    Make an API token and print it\n"
            "  routes          List the HTTP routes\n"
            "  version         Print the version\n\n"
            "Every option can also come from a KAWAT_* environment variable or a config\n"
            "file (--config FILE, shared by all commands); each command's --help lists its own.\n",
            KAWAT_VERSION);
    fprintf(f, "\nOptions of kawat serve:\n");
    api_serve_usage(f);
    fprintf(f, "\nOptions of kawat user add and kawat token create:\n");
    cli_admin_usage(f);
    fprintf(f, "\nkawat submit and kawat tail take --server URL (KAWAT_SERVER) and --token TOKEN\n"
               "(KAWAT_TOKEN); see kawat submit --help and kawat tail --help for the rest.\n");
}

static int routes_main(void)
{
    const api_route_info_t *r;
    size_t n = api_routes(&r);
    for (size_t i = 0; i < n; i++) printf("%-6s %-32s %s\n", r[i].method, r[i].pattern, r[i].summary);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0) return api_serve_main(argc - 1, argv + 1);
    if (strcmp(cmd, "submit") == 0) return cli_submit_main(argc - 1, argv + 1);
    if (strcmp(cmd, "tail") == 0) return cli_tail_main(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0) return cli_user_main(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0) return cli_token_main(argc - 1, argv + 1);
    if (strcmp(cmd, "routes") == 0) return routes_main();
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("kawat %s\n", KAWAT_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "kawat: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return 2;
}
