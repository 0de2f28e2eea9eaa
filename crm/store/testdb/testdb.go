// Package testdb opens fresh, migrated databases for tests: SQLite always,
// PostgreSQL when DOSSIER_TEST_POSTGRES holds a DSN (each test in a schema of
// its own, dropped afterwards). With DOSSIER_REQUIRE_POSTGRES=1 a missing or
// unreachable PostgreSQL fails the test instead of skipping it.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/uptrace/bun/driver/pgdriver" // registers "pg" for the admin connection

	"github.com/dossiercrm/dossier/crm/store"
)

// Opener opens one fresh, migrated, empty database for a test.
type Opener func(t testing.TB) *store.DB

// Each runs fn once per database as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres) })
}

// SQLite opens a database in a file of the test's temporary directory:
// closer to production than ":memory:".
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "dossier.db"), store.WithMigrate())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns DOSSIER_TEST_POSTGRES, or skips the test when it is
// unset, unless DOSSIER_REQUIRE_POSTGRES=1 makes a missing Postgres a failure.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("DOSSIER_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("DOSSIER_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DOSSIER_REQUIRE_POSTGRES=1 but DOSSIER_TEST_POSTGRES is empty")
		}
		t.Skip("DOSSIER_TEST_POSTGRES is not set; PostgreSQL tests skipped")
	}
	return dsn
}

// Postgres gives the test a schema of its own, dropped afterwards, so that
// tests run in parallel without seeing each other's rows.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), PostgresSchemaDSN(t), store.WithMigrate())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DOSSIER_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PostgresSchemaDSN creates an empty schema of the test's own, dropped
// afterwards, and returns a DSN whose search_path is that schema. It is for
// code under test that opens and migrates the database itself, such as the
// reference server given the DSN as --db. Like Postgres, it skips the test
// when DOSSIER_TEST_POSTGRES is unset or unreachable (unless
// DOSSIER_REQUIRE_POSTGRES=1).
func PostgresSchemaDSN(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	admin, err := sql.Open("pg", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	schema := "test_" + randomHex(6)
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		if os.Getenv("DOSSIER_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("postgres unreachable (DOSSIER_TEST_POSTGRES): %v", err)
		}
		t.Skipf("postgres unreachable, skipped: %v", err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	return WithSearchPath(t, dsn, schema)
}
