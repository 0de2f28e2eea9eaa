package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// Exit codes of run.
const (
	exitOK    = 0
	exitError = 1 // the command failed: bad input, database down, ...
	exitUsage = 2 // the command line or the environment is wrong
)

// cli is one invocation: where it writes and where it reads its environment.
// Tests call run with their own writers and environment.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand of dossier.
type command struct {
	name     string // "serve", "apikey create"
	synopsis string // the arguments after the name, for its usage
	short    string // one line for the list of commands
	long     string // what its usage says it does
	run      func(cl *cli, ctx context.Context, fs *flagSet, args []string) error
}

// commands lists the subcommands in the order usage shows them.
func commands() []command {
	return []command{{
		name: "serve", synopsis: "[flags]",
		short: "Serve the HTTP API (on an empty database: prints a first API key)",
		long: "Serve the HTTP API until SIGINT or SIGTERM, then finish the requests in\n" +
			"flight and stop. The schema is migrated on start. On an empty database it\n" +
			"creates organisation \"main\" with an API key, and prints the key once.",
		run: (*cli).serve,
	}, {
		name: "migrate", synopsis: "[flags]",
		short: "Bring the database schema up to date",
		long:  "Bring the database schema up to date. Running it again changes nothing.",
		run:   (*cli).migrate,
	}, {
		name: "org create", synopsis: "--id ID --name NAME [flags]",
		short: "Create an organisation",
		long:  "Create an organisation and print it as JSON.",
		run:   (*cli).orgCreate,
	}, {
		name: "apikey create", synopsis: "--org ID --name NAME [--staff USER] [flags]",
		short: "Issue an API key, printing its secret once",
		long: "Issue an API key for an organisation and print its secret. Dossier keeps\n" +
			"only a hash: the secret cannot be shown again.",
		run: (*cli).apikeyCreate,
	}, {
		name: "apikey list", synopsis: "--org ID [flags]",
		short: "List an organisation's API keys",
		long:  "List an organisation's API keys, revoked ones included. Secrets are never shown.",
		run:   (*cli).apikeyList,
	}, {
		name: "apikey revoke", synopsis: "--org ID --id KEYID [flags]",
		short: "Revoke an API key",
		long: "Revoke an API key. Servers stop accepting it within their key cache time\n" +
			"(10 seconds).",
		run: (*cli).apikeyRevoke,
	}, {
		name: "retention", synopsis: "[--org ID] [--dry-run] [--json] [flags]",
		short: "Anonymise inactive customers by the organisations' retention policies",
		long: "Apply the retention policy of one organisation, or of every organisation:\n" +
			"anonymise the customers without activity for the policy's period, except\n" +
			"those with a granted consent for an excluded purpose. Organisations\n" +
			"without an enabled policy are skipped. Prints per organisation a summary\n" +
			"line and the customers (number, id, last activity); --dry-run lists them\n" +
			"without changing anything. \"dossier serve\" also does this on its own,\n" +
			"every --retention-every.",
		run: (*cli).retention,
	}, {
		name: "export", synopsis: "--org ID [--segment ID | --filter JSON] [--format csv|xlsx|jsonl] [--columns KEYS] [--out FILE] [flags]",
		short: "Export the customers, a segment or a filter to CSV, XLSX or JSON Lines",
		long: "Write the organisation's customers (all, a saved segment, or those a filter\n" +
			"selects) to a file or standard output, a page at a time. Headers are in the\n" +
			"organisation's language. The export is recorded (who, what, when, how many).",
		run: (*cli).export,
	}, {
		name: "import", synopsis: "FILE --org ID [--mode add|update|upsert] [--dry-run] [--mapping H=KEY,...] [flags]",
		short: "Import customers from a CSV or XLSX file",
		long: "Read customers from a CSV (comma, semicolon or tab; UTF-8, UTF-16,\n" +
			"Windows-1252 or ISO-8859-2) or XLSX file. Columns map to fields from their\n" +
			"headers in English, Dutch, German, French or Polish; the mapping is shown\n" +
			"first. Rows match customers by id or number column, e-mail or phone;\n" +
			"--dry-run reports what would happen and writes nothing; refused rows go to\n" +
			"--errors FILE. The import is a job: interrupted, it resumes where it stopped.",
		run: (*cli).importFile,
	}, {
		name: "version", synopsis: "",
		short: "Print the version of this binary",
		long: "Print the module version this binary was built from and, when the build\n" +
			"recorded it, the version control revision it was built at.",
		run: (*cli).printVersion,
	}}
}

// environment lists the DOSSIER_* variables for the top-level usage.
var environment = [][2]string{
	{"DOSSIER_DB", "database, sqlite:PATH or postgres://USER@HOST:5432/DB (default sqlite:dossier.db)"},
	{"DOSSIER_ADDR", "serve: address to listen on (default 127.0.0.1:8080)"},
	{"DOSSIER_LANGUAGE", "serve, org create: default language of organisations (default en)"},
	{"DOSSIER_COUNTRY", "serve, org create: default country of organisations, for national phone numbers"},
	{"DOSSIER_LOG_FORMAT", "serve: log format, text or json (default text)"},
	{"DOSSIER_MAX_BODY_BYTES", "serve: largest request body in bytes (default 1048576)"},
	{"DOSSIER_RETENTION_EVERY", "serve: how often to apply the retention policies, e.g. 24h; 0 turns it off (default 24h)"},
	{"DOSSIER_POINTS_EXPIRY_EVERY", "serve: how often to expire loyalty points past their date; 0 turns it off (default 24h)"},
	{"DOSSIER_DATA_DIR", "serve, retention: directory whose blobs directory keeps documents' contents (default dossier-data)"},
	{"DOSSIER_BLOB_URL", "serve, retention: bucket URL for documents' contents (file:///path, s3://, gs://, azblob://); default the blobs directory of DOSSIER_DATA_DIR"},
	{"DOSSIER_MAX_DOCUMENT_BYTES", "serve: largest document in bytes (default 20971520, 20 MiB)"},
	{"DOSSIER_SMTP_HOST", "serve: SMTP server to send mail through; unset: mails are written to the log, not sent"},
	{"DOSSIER_SMTP_PORT", "serve: SMTP port (default by --smtp-tls: 587, 465 for tls, 25 for none)"},
	{"DOSSIER_SMTP_USER", "serve: SMTP AUTH user"},
	{envSMTPPassword, "serve: SMTP AUTH password (environment only, never a flag)"},
	{"DOSSIER_SMTP_TLS", "serve: starttls (default), opportunistic, tls or none"},
	{"DOSSIER_MAIL_FROM", "serve: sender of the mails, \"Name <address>\" or address (required with SMTP)"},
	{"DOSSIER_MAIL_WORKER", "serve: false stops this server from delivering the outbox (default true)"},
	{"DOSSIER_CORS_ORIGINS", "serve: comma-separated origins whose web pages may call the API (default none: CORS off)"},
	{"DOSSIER_CONFIRMATION_URL", "serve: double opt-in confirmation link, {token} replaced, e.g. https://example.com/confirm?t={token}"},
}

// run is the whole program; main only adds signals and the exit. It returns
// the exit code: 0, 1 when the command failed, 2 for a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cl := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		cl.usage(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		return cl.help(ctx, args[1:])
	}
	cmd, rest, ok := lookup(args)
	if !ok {
		subs := subcommands(args[0])
		switch {
		case len(subs) > 0 && len(args) > 1 && isHelp(args[1]):
			// "dossier apikey --help", "dossier apikey help [create]"
			return cl.help(ctx, append([]string{args[0]}, args[2:]...))
		case len(subs) == 0:
			fmt.Fprintf(stderr, "dossier: unknown command %q\n\n", args[0])
		case len(args) == 1:
			fmt.Fprintf(stderr, "dossier %s: needs a subcommand: %s\n\n", args[0], strings.Join(subs, ", "))
		default:
			fmt.Fprintf(stderr, "dossier %s: unknown subcommand %q (use %s)\n\n", args[0], args[1], strings.Join(subs, ", "))
		}
		if len(subs) > 0 {
			cl.groupUsage(stderr, args[0])
		} else {
			cl.usage(stderr)
		}
		return exitUsage
	}
	fs := cl.newFlagSet(cmd)
	return cl.report(fs, cmd.run(cl, ctx, fs, rest))
}

// lookup finds the command that args start with and returns the arguments after its name.
func lookup(args []string) (command, []string, bool) {
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == cmd.name {
			return cmd, args[len(words):], true
		}
	}
	return command{}, nil, false
}

// isHelp reports whether arg asks for help in the place of a command or subcommand.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// help is "dossier help [COMMAND [SUBCOMMAND]]": the top-level help, a
// group's list of subcommands ("dossier help apikey") or one command's own
// help and flags, on stdout with exit code 0. An unknown name is a usage
// error.
func (cl *cli) help(ctx context.Context, words []string) int {
	if len(words) == 0 || (len(words) == 1 && isHelp(words[0])) {
		cl.usage(cl.stdout)
		return exitOK
	}
	if cmd, rest, ok := lookup(words); ok {
		if len(rest) == 0 {
			// The command defines its flags as it runs; -h stops it there.
			fs := cl.newFlagSet(cmd)
			return cl.report(fs, cmd.run(cl, ctx, fs, []string{"-h"}))
		}
		fmt.Fprintf(cl.stderr, "dossier help: %q has no subcommand %q\n\n", cmd.name, rest[0])
		cl.usage(cl.stderr)
		return exitUsage
	}
	subs := subcommands(words[0])
	switch {
	case len(subs) == 0:
		fmt.Fprintf(cl.stderr, "dossier help: unknown command %q\n\n", words[0])
		cl.usage(cl.stderr)
		return exitUsage
	case len(words) > 1 && !isHelp(words[1]):
		fmt.Fprintf(cl.stderr, "dossier %s: unknown subcommand %q (use %s)\n\n", words[0], words[1], strings.Join(subs, ", "))
		cl.groupUsage(cl.stderr, words[0])
		return exitUsage
	}
	cl.groupUsage(cl.stdout, words[0])
	return exitOK
}

// groupUsage prints the help of a command that only groups subcommands, such as "apikey".
func (cl *cli) groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: dossier %s SUBCOMMAND [flags]\n\nSubcommands:\n\n", group)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range commands() {
		if first, second, ok := strings.Cut(cmd.name, " "); ok && first == group {
			fmt.Fprintf(tw, "  %s\t%s\n", second, cmd.short)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\n\"dossier %s SUBCOMMAND -h\" shows a subcommand's own help and flags.\n", group)
}

// subcommands lists the second words of the commands that start with word.
func subcommands(word string) []string {
	var subs []string
	for _, cmd := range commands() {
		if first, second, ok := strings.Cut(cmd.name, " "); ok && first == word {
			subs = append(subs, second)
		}
	}
	return subs
}

// usage prints the top-level help.
func (cl *cli) usage(w io.Writer) {
	fmt.Fprint(w, "Dossier is a customer CRM: the HTTP API server and its admin commands.\n\n"+
		"Usage: dossier COMMAND [flags]\n\nCommands:\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", cmd.name, cmd.short)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\tShow this help, or a command's own help and flags (also: dossier COMMAND --help)\n")
	tw.Flush()
	fmt.Fprint(w, "\nEvery flag can also be set by an environment variable; a flag given on the\n"+
		"command line wins.\n\nEnvironment:\n\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range environment {
		fmt.Fprintf(tw, "  %s\t%s\n", e[0], e[1])
	}
	tw.Flush()
	fmt.Fprint(w, "\nExample:\n\n"+
		"  dossier serve                                   # SQLite file dossier.db, http://127.0.0.1:8080\n"+
		"  DOSSIER_DB='postgres://dossier@127.0.0.1:5432/dossier?sslmode=disable' dossier serve\n")
}

// report prints what went wrong, if anything, and returns the exit code.
func (cl *cli) report(fs *flagSet, err error) int {
	var (
		usageErr *usageError
		invalid  *crm.ValidationError
		conflict *crm.ConflictError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fs.usage(cl.stdout)
		return exitOK
	case errors.As(err, &usageErr):
		fmt.Fprintf(cl.stderr, "dossier %s: %s\n\n", fs.cmd.name, usageErr.msg)
		fs.usage(cl.stderr)
		return exitUsage
	case errors.As(err, &invalid):
		fmt.Fprintf(cl.stderr, "dossier %s: invalid input:\n", fs.cmd.name)
		for _, f := range invalid.Fields {
			fmt.Fprintf(cl.stderr, "  %s: %s\n", flagOfField(f.Field), f.Message)
		}
		fmt.Fprintf(cl.stderr, "See \"dossier %s -h\".\n", fs.cmd.name)
		return exitError
	case errors.As(err, &conflict) && conflict.Field != "":
		fmt.Fprintf(cl.stderr, "dossier %s: %s: %v\n", fs.cmd.name, flagOfField(conflict.Field), err)
		return exitError
	default:
		fmt.Fprintf(cl.stderr, "dossier %s: %v\n", fs.cmd.name, err)
		return exitError
	}
}

// flagOfField names the flag that sets an input field of crm, so that a
// validation error points at what the user typed.
func flagOfField(field string) string {
	switch field {
	case "id", "name", "org":
		return "--" + field
	case "defaultLanguage", "DefaultLanguage":
		return "--language"
	case "defaultCountry", "DefaultCountry":
		return "--country"
	case "staffUser":
		return "--staff"
	}
	return field
}

// usageError is a wrong command line or environment value: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// flagSet is a command's flags, each of which may take its default from a
// DOSSIER_* environment variable.
type flagSet struct {
	*flag.FlagSet
	cmd    command
	getenv func(string) string
	env    [][2]string // flag name, environment variable
}

func (cl *cli) newFlagSet(cmd command) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet("dossier "+cmd.name, flag.ContinueOnError), cmd: cmd, getenv: cl.getenv}
	// Parse returns its errors; report prints them with the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// envString defines a string flag that the environment variable env sets
// when the command line does not.
func (fs *flagSet) envString(p *string, name, env, def, usage string) {
	fs.StringVar(p, name, def, usage+" [$"+env+"]")
	fs.env = append(fs.env, [2]string{name, env})
}

// envInt64 defines an int64 flag that env sets when the command line does not.
func (fs *flagSet) envInt64(p *int64, name, env string, def int64, usage string) {
	fs.Int64Var(p, name, def, usage+" [$"+env+"]")
	fs.env = append(fs.env, [2]string{name, env})
}

// envDuration defines a duration flag ("24h", "90m") that env sets when
// the command line does not.
func (fs *flagSet) envDuration(p *time.Duration, name, env string, def time.Duration, usage string) {
	fs.DurationVar(p, name, def, usage+" [$"+env+"]")
	fs.env = append(fs.env, [2]string{name, env})
}

// envBool defines a boolean flag that env sets when the command line does
// not: true, false, 1 or 0. On the command line, turn it off with
// --name=false.
func (fs *flagSet) envBool(p *bool, name, env string, def bool, usage string) {
	fs.BoolVar(p, name, def, usage+" [$"+env+"]")
	fs.env = append(fs.env, [2]string{name, env})
}

// dbFlag defines --db, which every command has.
func (fs *flagSet) dbFlag(p *string) {
	fs.envString(p, "db", "DOSSIER_DB", defaultDB, "the `database`: sqlite:PATH or postgres://USER@HOST:5432/DB")
}

// orgSettingsFlags defines --language and --country, the settings of the
// organisations a command creates; whose they are completes the usage texts.
func (fs *flagSet) orgSettingsFlags(lang, country *string, whose string) {
	fs.envString(lang, "language", "DOSSIER_LANGUAGE", "en", "`language` (BCP 47) of "+whose+", given to new customers")
	fs.envString(country, "country", "DOSSIER_COUNTRY", "", "`country` (ISO 3166-1 alpha-2) of "+whose+", to read national phone numbers")
}

// parse applies the environment, then the command line. The flag package
// keeps the built-in defaults for usage, so a DSN with a password in
// DOSSIER_DB never shows up in help output.
func (fs *flagSet) parse(args []string) error {
	for _, e := range fs.env {
		v := fs.getenv(e[1])
		if v == "" {
			continue
		}
		if err := fs.Set(e[0], v); err != nil {
			return usageErrorf("%s: invalid value %q", e[1], v)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// required returns a usage error naming the flags, given as name and
// value, whose value is empty.
func required(flags ...[2]string) error {
	var missing []string
	for _, f := range flags {
		if strings.TrimSpace(f[1]) == "" {
			missing = append(missing, "--"+f[0])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return usageErrorf("missing %s", strings.Join(missing, " and "))
}

// usage prints the command's help and flags.
func (fs *flagSet) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: dossier %s\n\n%s\n", strings.TrimSpace(fs.cmd.name+" "+fs.cmd.synopsis), fs.cmd.long)
	defined := false
	fs.VisitAll(func(*flag.Flag) { defined = true })
	if !defined {
		return
	}
	fmt.Fprint(w, "\nFlags (environment variables in brackets):\n\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// version is the module version the binary was built from, "dev" from a checkout.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// printVersion is "dossier version".
func (cl *cli) printVersion(_ context.Context, fs *flagSet, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(cl.stdout, versionLine(bi))
	return nil
}

// versionLine describes a build: "dossier v1.4.0", or with the revision
// when the build recorded one, "dossier v1.4.0 (revision 3f2a9c1d0b7e,
// 2026-11-27T10:00:00Z, with uncommitted changes)". bi may be nil.
func versionLine(bi *debug.BuildInfo) string {
	v := "dev"
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, at string
	var modified bool
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		return "dossier " + v
	}
	details := []string{"revision " + rev[:min(len(rev), 12)]}
	if at != "" {
		details = append(details, at)
	}
	if modified {
		details = append(details, "with uncommitted changes")
	}
	return "dossier " + v + " (" + strings.Join(details, ", ") + ")"
}
