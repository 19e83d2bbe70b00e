/*
 * copy_cmd.h: `onboardd copy`, the command line of the copy of a SQLite
 * programme into PostgreSQL (store/copy.h does the copy). main.c hands it
 * the arguments after "copy"; it runs in the main thread before anything
 * else starts, and prints what it copied on stdout.
 */
#ifndef OB_COPY_CMD_H
#define OB_COPY_CMD_H

/* Parses argv (argv[0] is "copy"), copies, prints the report. Returns the
 * exit status: 0 copied, 1 refused or failed (the log says why), 2 a usage
 * error. */
int ob_copy_command(int argc, char **argv);

#endif
