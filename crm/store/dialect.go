package store

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// dialect holds what differs between the databases, chosen once in Open.
type dialect struct {
	name       string
	migrations string // folder under migrations/
	// beforeMigrate prepares what the migrations need and cannot do in a
	// transaction of their own (PostgreSQL extensions).
	beforeMigrate func(ctx context.Context, db *bun.DB) error
	// nameContains returns the query of the numbers of the organisation's
	// customers whose search text contains key (a search key of at least
	// three characters).
	nameContains func(db bun.IDB, orgID, key string) *bun.SelectQuery
}

var (
	postgresDialect = dialect{
		name:          "postgres",
		migrations:    "migrations/postgres",
		beforeMigrate: ensurePgTrgm,
		nameContains: func(db bun.IDB, orgID, key string) *bun.SelectQuery {
			// LIKE with a pattern of three or more characters uses the trigram index.
			return db.NewSelect().Table("customer_search").Column("number").
				Where("org_id = ?", orgID).Where("text LIKE ? ESCAPE '\\'", "%"+escapeLike(key)+"%")
		},
	}
	sqliteDialect = dialect{
		name:       "sqlite",
		migrations: "migrations/sqlite",
		nameContains: func(db bun.IDB, orgID, key string) *bun.SelectQuery {
			// A quoted phrase in an FTS5 trigram table matches any text that
			// contains it.
			phrase := `"` + strings.ReplaceAll(key, `"`, `""`) + `"`
			return db.NewSelect().Table("customer_search").Column("number").
				Where("org_id = ?", orgID).
				Where("search_id IN (SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH ?)", phrase)
		},
	}
)

// ensurePgTrgm installs pg_trgm (a trusted extension: the database owner may)
// unless it is there, in the public schema. A database-wide advisory lock
// keeps concurrent starts from racing: CREATE EXTENSION IF NOT EXISTS is
// not safe to run twice at once.
func ensurePgTrgm(ctx context.Context, db *bun.DB) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('dossier.extensions'))"); err != nil {
			return err
		}
		installed, err := tx.NewSelect().Table("pg_extension").Where("extname = 'pg_trgm'").Exists(ctx)
		if err != nil || installed {
			return err
		}
		_, err = tx.ExecContext(ctx, "CREATE EXTENSION pg_trgm SCHEMA public")
		return err
	})
}

// escapeLike escapes the LIKE wildcards of s (with backslash as escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
