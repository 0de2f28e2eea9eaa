package store

import "testing"

// TestStripLineComments: comments go, quoted text stays, even when it
// holds "--" or an apostrophe; an apostrophe in a comment no longer hides
// the arguments after it from bun's PostgreSQL driver.
func TestStripLineComments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"-- name: X :one\nSELECT $1 -- doesn't matter\n, $2", "\nSELECT $1 \n, $2"},
		{"SELECT '--not a comment', 'it''s' -- it's one\nFROM t", "SELECT '--not a comment', 'it''s' \nFROM t"},
		{`SELECT "a--b" FROM t`, `SELECT "a--b" FROM t`},
		{"SELECT 1 -- at the end", "SELECT 1 "},
		{"SELECT 'unterminated --", "SELECT 'unterminated --"},
	} {
		if got := stripLineComments(tc.in); got != tc.want {
			t.Errorf("stripLineComments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
