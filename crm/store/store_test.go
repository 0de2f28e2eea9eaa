package store_test

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

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, openSQLite)
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, openPostgres)
}

// openSQLite opens a migrated database in a file of the test's own
// temporary directory: closer to production than ":memory:".
func openSQLite(t *testing.T) crm.Store {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "dossier.db"), store.WithMigrate())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresDSN returns DOSSIER_TEST_POSTGRES, or skips the test when it is
// unset, unless DOSSIER_REQUIRE_POSTGRES=1 makes a missing Postgres a failure.
func postgresDSN(t testing.TB) string {
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

// openPostgres gives each test a schema of its own, dropped afterwards, so
// that tests run in parallel without seeing each other's rows.
func openPostgres(t *testing.T) crm.Store {
	t.Helper()
	dsn := postgresDSN(t)
	admin, err := sql.Open("pg", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	schema := "test_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		if os.Getenv("DOSSIER_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("postgres unreachable (DOSSIER_TEST_POSTGRES): %v", err)
		}
		t.Skipf("postgres unreachable, skipped: %v", err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })

	db, err := store.Open(ctx, withSearchPath(t, dsn, schema), store.WithMigrate())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func withSearchPath(t testing.TB, dsn, schema string) string {
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
