package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestAdmin runs the admin commands against each database: migrate, org
// create, and an API key's life from create to revoke.
func TestAdmin(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := []string{"--db", dsn}
		with := func(args ...string) []string { return append(args, db...) }

		for range 2 {
			r := dossier(t, with("migrate")...).wantCode(t, 0)
			if !strings.Contains(r.stdout, "up to date") {
				t.Errorf("migrate printed %q", r.stdout)
			}
		}

		r := dossier(t, with("org", "create", "--id", "acme", "--name", "Acme Travel", "--country", "nl")...).wantCode(t, 0)
		var org crm.Organisation
		if err := json.Unmarshal([]byte(r.stdout), &org); err != nil {
			t.Fatalf("org create printed %q: %v", r.stdout, err)
		}
		if org.ID != "acme" || org.Name != "Acme Travel" || org.DefaultLanguage != "en" || org.DefaultCountry != "NL" {
			t.Errorf("org create made %+v", org)
		}
		r = dossier(t, with("org", "create", "--id", "acme", "--name", "Again")...).wantCode(t, 1)
		if want := "dossier org create: --id: an organisation with this id exists already: choose another id\n"; r.stderr != want {
			t.Errorf("second org create: %q, want %q", r.stderr, want)
		}
		r = dossier(t, with("org", "create", "--id", "Bad ID!", "--name", "X", "--language", "xx-nonsense-tag")...).wantCode(t, 1)
		for _, want := range []string{"--id: id is not valid", "--language:"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("org create with bad input: stderr lacks %q:\n%s", want, r.stderr)
			}
		}

		r = dossier(t, with("apikey", "create", "--org", "acme", "--name", "booking site", "--staff", "u-17")...).wantCode(t, 0)
		secret := secretPattern.FindString(r.stdout)
		keyID := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(r.stdout)
		if secret == "" || keyID == "" {
			t.Fatalf("apikey create printed no secret or id:\n%s", r.stdout)
		}
		c := openCRMForTest(t, dsn)
		key, err := c.APIKeys.Authenticate(ctx, secret)
		if err != nil {
			t.Fatalf("the new key does not authenticate: %v", err)
		}
		if key.ID != keyID || key.OrgID != "acme" || key.StaffUser != "u-17" {
			t.Errorf("the key is %+v", key)
		}
		dossier(t, with("apikey", "create", "--org", "nowhere", "--name", "x")...).wantCode(t, 1)

		r = dossier(t, with("apikey", "list", "--org", "acme")...).wantCode(t, 0)
		if strings.Contains(r.stdout, secret) {
			t.Fatalf("apikey list shows the secret:\n%s", r.stdout)
		}
		row := lineWith(r.stdout, keyID)
		for _, want := range []string{"booking site", "u-17", key.Prefix} {
			if !strings.Contains(row, want) {
				t.Errorf("apikey list row %q lacks %q", row, want)
			}
		}
		if !strings.HasSuffix(row, " -") {
			t.Errorf("a fresh key is listed as revoked: %q", row)
		}

		dossier(t, with("apikey", "revoke", "--org", "acme", "--id", keyID)...).wantCode(t, 0)
		if _, err := c.APIKeys.Authenticate(ctx, secret); !errors.Is(err, crm.ErrUnauthenticated) {
			t.Errorf("a revoked key authenticates: %v", err)
		}
		row = lineWith(dossier(t, with("apikey", "list", "--org", "acme")...).wantCode(t, 0).stdout, keyID)
		if strings.HasSuffix(row, " -") {
			t.Errorf("a revoked key is not listed as revoked: %q", row)
		}
		for _, id := range []string{"01a20714-0000-7000-8000-000000000000", "nosuch"} {
			r = dossier(t, with("apikey", "revoke", "--org", "acme", "--id", id)...).wantCode(t, 1)
			want := "dossier apikey revoke: organisation acme has no API key " + id + ` ("dossier apikey list --org acme" lists its keys)` + "\n"
			if r.stderr != want {
				t.Errorf("revoking an unknown key: %q, want %q", r.stderr, want)
			}
		}
		dossier(t, with("apikey", "list", "--org", "nowhere")...).wantCode(t, 1)
	})
}

func lineWith(s, substr string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestEnvironment checks that DOSSIER_* variables set what flags do, and
// that a flag wins.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	e := env{"DOSSIER_DB": "sqlite:" + filepath.Join(dir, "env.db"), "DOSSIER_LANGUAGE": "nl"}

	r := e.dossier(t, "org", "create", "--id", "acme", "--name", "Acme").wantCode(t, 0)
	if !strings.Contains(r.stdout, `"defaultLanguage": "nl"`) {
		t.Errorf("DOSSIER_LANGUAGE=nl was not used:\n%s", r.stdout)
	}
	// Same id in the database of DOSSIER_DB: taken. In the one of --db: free.
	e.dossier(t, "org", "create", "--id", "acme", "--name", "Acme").wantCode(t, 1)
	r = e.dossier(t, "org", "create", "--id", "acme", "--name", "Acme", "--language", "de",
		"--db", "sqlite:"+filepath.Join(dir, "flag.db")).wantCode(t, 0)
	if !strings.Contains(r.stdout, `"defaultLanguage": "de"`) {
		t.Errorf("--language de did not win over DOSSIER_LANGUAGE:\n%s", r.stdout)
	}
}

// TestUsage checks help, and that a wrong command line exits with 2 and says why.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := dossier(t, args...).wantCode(t, 0)
		for _, want := range []string{"serve", "migrate", "org create", "apikey create", "apikey list", "apikey revoke", "retention",
			"DOSSIER_DB", "DOSSIER_ADDR", "DOSSIER_LANGUAGE", "DOSSIER_COUNTRY", "DOSSIER_LOG_FORMAT", "DOSSIER_MAX_BODY_BYTES",
			"DOSSIER_RETENTION_EVERY", "DOSSIER_POINTS_EXPIRY_EVERY", "DOSSIER_DATA_DIR", "DOSSIER_MAX_DOCUMENT_BYTES",
			"DOSSIER_SMTP_HOST", "DOSSIER_SMTP_PORT", "DOSSIER_SMTP_USER", "DOSSIER_SMTP_PASSWORD", "DOSSIER_SMTP_TLS",
			"DOSSIER_MAIL_FROM", "DOSSIER_MAIL_WORKER", "DOSSIER_CONFIRMATION_URL"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: the usage lacks %q", args, want)
			}
		}
	}
	for _, args := range [][]string{{"help", "serve"}, {"serve", "-h"}} {
		r := dossier(t, args...).wantCode(t, 0)
		for _, want := range []string{"Usage: dossier serve", "-addr", "$DOSSIER_ADDR", "-max-body", "-log-format",
			"-retention-every", "$DOSSIER_RETENTION_EVERY", "-data-dir", "$DOSSIER_DATA_DIR", "-max-document-bytes",
			"-smtp-host", "-smtp-port", "-smtp-user", "$DOSSIER_SMTP_PASSWORD", "-smtp-tls", "-mail-from", "-mail-worker",
			"$DOSSIER_MAIL_WORKER", "-confirmation-url", "$DOSSIER_CONFIRMATION_URL"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: the usage lacks %q:\n%s", args, want, r.stdout)
			}
		}
	}

	r := dossier(t, "retention", "-h").wantCode(t, 0)
	for _, want := range []string{"Usage: dossier retention", "-dry-run", "-org", "-json", "-data-dir"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("retention -h: the usage lacks %q:\n%s", want, r.stdout)
		}
	}

	for _, tc := range []struct {
		args []string
		env  env
		want string
	}{
		{nil, nil, "Usage: dossier COMMAND"},
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{[]string{"apikey"}, nil, "needs a subcommand: create, list, revoke"},
		{[]string{"apikey", "delete"}, nil, `unknown subcommand "delete"`},
		{[]string{"serve", "--port", "80"}, nil, "flag provided but not defined: -port"},
		{[]string{"serve", "--log-format", "xml"}, nil, "--log-format must be text or json"},
		{[]string{"serve", "--max-body", "0"}, nil, "--max-body must be positive"},
		{[]string{"serve"}, env{"DOSSIER_MAX_BODY_BYTES": "lots"}, `DOSSIER_MAX_BODY_BYTES: invalid value "lots"`},
		{[]string{"serve", "--retention-every", "-1h"}, nil, "--retention-every must be 0 (off) or at least 1s"},
		{[]string{"serve"}, env{"DOSSIER_RETENTION_EVERY": "daily"}, `DOSSIER_RETENTION_EVERY: invalid value "daily"`},
		{[]string{"migrate", "now"}, nil, `unexpected argument "now"`},
		{[]string{"retention", "acme"}, nil, `unexpected argument "acme"`},
		{[]string{"org", "create", "--id", "acme"}, nil, "missing --name"},
		{[]string{"apikey", "create"}, nil, "missing --org and --name"},
		{[]string{"apikey", "revoke", "--org", "acme"}, nil, "missing --id"},
	} {
		r := tc.env.dossier(t, tc.args...).wantCode(t, 2)
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Usage: dossier") {
			t.Errorf("%v: stderr lacks %q and the usage:\n%s", tc.args, tc.want, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%v: printed %q on stdout", tc.args, r.stdout)
		}
	}
}

// TestBadDatabase checks that an unusable DSN is a clear error, exit 1.
func TestBadDatabase(t *testing.T) {
	r := dossier(t, "migrate", "--db", "mysql://somewhere").wantCode(t, 1)
	if !strings.Contains(r.stderr, `dossier migrate: "mysql://somewhere" is not a database Dossier knows: use sqlite:PATH or postgres://`) {
		t.Errorf("stderr: %q", r.stderr)
	}
}
