/* cli.h -- subcommands people run against a running server. Each takes
 * argv after the subcommand name (argv[0] is the subcommand) and returns
 * the process exit status. */
#ifndef KAWAT_CLI_H
#define KAWAT_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

int cli_submit_main(int argc, char **argv);
int cli_tail_main(int argc, char **argv);
/* `kawat user add` and `kawat token create`: they open the data folder
 * directly (safe beside a running server: SQLite locks). */
int cli_user_main(int argc, char **argv);
int cli_token_main(int argc, char **argv);
/* Prints the options of `kawat user add` and `kawat token create`. */
void cli_admin_usage(FILE *f);

/* The body of POST /v1/releases from a release file's front matter and
 * Markdown (used by `kawat submit` and the demo loader). Returns a new
 * object, or NULL after printing an error naming label and the key. */
json_t *cli_release_json(const char *label, json_t *meta, const char *md, size_t md_len);

#endif
