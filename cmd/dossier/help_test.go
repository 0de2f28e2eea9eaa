package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestHelpOfEveryCommand checks that every way of asking for a command's
// help prints that command's own help on stdout and exits with 0: "dossier
// help X", "dossier X --help", "dossier X -h", and for subcommands "dossier
// X Y --help" and "dossier help X Y".
func TestHelpOfEveryCommand(t *testing.T) {
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		for _, args := range [][]string{
			append([]string{"help"}, words...),
			append(append([]string{}, words...), "--help"),
			append(append([]string{}, words...), "-help"),
			append(append([]string{}, words...), "-h"),
		} {
			r := dossier(t, args...).wantCode(t, 0)
			if want := "Usage: dossier " + cmd.name; !strings.HasPrefix(r.stdout, want) {
				t.Errorf("%q printed, not starting with %q:\n%s", args, want, r.stdout)
			}
			if !strings.Contains(r.stdout, cmd.long) {
				t.Errorf("%q: the help lacks the command's description:\n%s", args, r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("%q wrote to stderr: %q", args, r.stderr)
			}
		}
	}
}

// TestHelpOfGroups checks that a word that only groups subcommands
// ("apikey") has help of its own that lists them.
func TestHelpOfGroups(t *testing.T) {
	groups := map[string][]string{"apikey": {"create", "list", "revoke"}, "org": {"create"}}
	for group, subs := range groups {
		for _, args := range [][]string{{"help", group}, {group, "--help"}, {group, "-h"}, {group, "help"}} {
			r := dossier(t, args...).wantCode(t, 0)
			if want := "Usage: dossier " + group + " SUBCOMMAND"; !strings.HasPrefix(r.stdout, want) {
				t.Errorf("%q printed, not starting with %q:\n%s", args, want, r.stdout)
			}
			for _, sub := range subs {
				if !strings.Contains(r.stdout, "  "+sub+"  ") {
					t.Errorf("%q: the help does not list %q:\n%s", args, sub, r.stdout)
				}
			}
		}
	}
	// "dossier help help" is the top-level help.
	if r := dossier(t, "help", "help").wantCode(t, 0); !strings.Contains(r.stdout, "Usage: dossier COMMAND") {
		t.Errorf("help help printed:\n%s", r.stdout)
	}
	// "dossier apikey help create" is the subcommand's help.
	r := dossier(t, "apikey", "help", "create").wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "Usage: dossier apikey create") {
		t.Errorf("apikey help create printed:\n%s", r.stdout)
	}
}

// TestHelpOfUnknownCommand: help for something that does not exist is a
// usage error, not the top-level help with success.
func TestHelpOfUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "apikey", "delete"}, `unknown subcommand "delete"`},
		{[]string{"help", "serve", "now"}, `has no subcommand "now"`},
	} {
		r := dossier(t, tc.args...).wantCode(t, 2)
		if !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%q: stderr %q, stdout %q; want %q on stderr only", tc.args, r.stderr, r.stdout, tc.want)
		}
	}
}

// TestVersion checks "dossier version" and how a build's version reads.
func TestVersion(t *testing.T) {
	r := dossier(t, "version").wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "dossier ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version printed %q", r.stdout)
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "dossier dev"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dossier dev"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "dossier v1.4.0"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.4.1-0.20261127100000-3f2a9c1d0b7e+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "3f2a9c1d0b7e5a6b7c8d9e0f1a2b3c4d5e6f7a8b"},
			{Key: "vcs.time", Value: "2026-11-27T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}, "dossier v1.4.1-0.20261127100000-3f2a9c1d0b7e+dirty (revision 3f2a9c1d0b7e, 2026-11-27T10:00:00Z, with uncommitted changes)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3f2a9c1d0b7e5a6b7c8d9e0f1a2b3c4d5e6f7a8b"},
			{Key: "vcs.modified", Value: "false"},
		}}, "dossier dev (revision 3f2a9c1d0b7e)"},
	} {
		if got := versionLine(tc.bi); got != tc.want {
			t.Errorf("versionLine = %q, want %q", got, tc.want)
		}
	}
}
