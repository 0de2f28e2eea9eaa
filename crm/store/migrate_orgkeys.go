package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// sqliteOrgKeys is migration 20261127000003 on SQLite, the counterpart of
// migrations/postgres/20261127000003_org_keys.tx.up.sql. SQLite cannot
// change a table's keys in place, so each table is rebuilt the way SQLite's
// documentation describes (ALTER TABLE, "other kinds of table schema
// changes"): its CREATE statement is read from the catalogue and changed
// (so that columns added by any earlier migration come along), a new table
// made from it and filled, the old one dropped, the new one renamed, and
// the old one's indexes and triggers made again. The tables are those of
// the catalogue with an org_id column and the primary key id alone, so
// that tables added by earlier migrations of the same release are mended
// too.
//
// Dropping a table whose rows others refer to would delete those rows (ON
// DELETE CASCADE) while foreign keys are enforced, and PRAGMA foreign_keys
// cannot be changed inside a transaction. So the migration takes one
// connection, switches enforcement off there, rebuilds in one transaction,
// checks every foreign key (PRAGMA foreign_key_check) before it commits,
// and switches enforcement back on.
var sqliteOrgKeys = migrate.Migration{
	Name:    "20261127000003",
	Comment: "org_keys",
	Up: func(ctx context.Context, m *migrate.Migrator, _ *migrate.Migration) error {
		conn, err := m.DB().Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		var enforced bool
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&enforced); err != nil {
			return err
		}
		if enforced {
			if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
				return err
			}
			defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
		}
		return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			tables, err := idKeyedTables(ctx, tx)
			if err != nil {
				return err
			}
			for _, table := range tables {
				if err := rebuildWithOrgKey(ctx, tx, table); err != nil {
					return fmt.Errorf("%s: %w", table, err)
				}
			}
			// An API key's secret names its organisation; keys issued before
			// are found by their hash alone (see the PostgreSQL migration).
			if _, err := tx.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS api_keys_legacy_hash_idx ON api_keys (secret_hash)"); err != nil {
				return err
			}
			return foreignKeyCheck(ctx, tx)
		})
	},
}

// idKeyedTables returns the tables with an org_id column whose primary key
// is id alone.
func idKeyedTables(ctx context.Context, tx bun.Tx) ([]string, error) {
	var tables []string
	err := tx.NewRaw(`SELECT t.name FROM sqlite_schema AS t
		WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		  AND EXISTS (SELECT 1 FROM pragma_table_info(t.name) WHERE name = 'org_id')
		  AND (SELECT group_concat(name) FROM pragma_table_info(t.name) WHERE pk > 0) = 'id'
		ORDER BY t.name`).Scan(ctx, &tables)
	return tables, err
}

// foreignKeyCheck fails if any row's foreign key finds no row it refers to.
func foreignKeyCheck(ctx context.Context, tx bun.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("a row of %s (rowid %v) refers to no row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}

var (
	// The id column as the tables declare it.
	idPrimaryKey = regexp.MustCompile(`(?i)\bid\s+TEXT\s+PRIMARY\s+KEY\b`)
	// A unique key on (org_id, id), named or not: foreign keys' target.
	orgIDUnique = regexp.MustCompile(`(?i)(CONSTRAINT\s+\w+\s+)?UNIQUE\s*\(\s*org_id\s*,\s*id\s*\)`)
	// The name in a CREATE TABLE statement.
	createTableName = regexp.MustCompile(`^(?i)CREATE\s+TABLE\s+("\w+"|\w+)`)
	// api_keys' hash was unique across organisations.
	hashUnique = regexp.MustCompile(`(?i)(\bsecret_hash\s+text\s+NOT\s+NULL)\s+UNIQUE\b`)
)

// orgKeyCreate changes the CREATE TABLE statement of table so that its
// primary key is (org_id, id).
func orgKeyCreate(table, create string) (string, error) {
	if n := len(idPrimaryKey.FindAllStringIndex(create, -1)); n != 1 {
		return "", fmt.Errorf("found %d declarations of id as the primary key in %q", n, create)
	}
	create = idPrimaryKey.ReplaceAllString(create, "id TEXT NOT NULL")
	pk := "CONSTRAINT " + table + "_pkey PRIMARY KEY (org_id, id)"
	if orgIDUnique.MatchString(create) {
		create = orgIDUnique.ReplaceAllLiteralString(create, pk)
	} else {
		end := strings.LastIndex(create, ")")
		create = create[:end] + ",\n    " + pk + "\n" + create[end:]
	}
	if table == "api_keys" {
		if !hashUnique.MatchString(create) {
			return "", fmt.Errorf("no unique secret_hash in %q", create)
		}
		create = hashUnique.ReplaceAllString(create, "$1")
		end := strings.LastIndex(create, ")")
		create = create[:end] + ",\n    CONSTRAINT api_keys_secret_hash_uq UNIQUE (org_id, secret_hash)\n" + create[end:]
	}
	return create, nil
}

// rebuildWithOrgKey rebuilds one table with the primary key (org_id, id).
func rebuildWithOrgKey(ctx context.Context, tx bun.Tx, table string) error {
	var create string
	if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&create); err != nil {
		return err
	}
	if !createTableName.MatchString(create) {
		return fmt.Errorf("not a CREATE TABLE statement: %q", create)
	}
	create, err := orgKeyCreate(table, create)
	if err != nil {
		return err
	}
	// Indexes made by CREATE INDEX and triggers; the automatic indexes of
	// UNIQUE and PRIMARY KEY constraints (sql IS NULL) come with the table.
	var extras []string
	rows, err := tx.QueryContext(ctx, "SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL ORDER BY type, name", table)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		extras = append(extras, s.String)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Dropping the table drops its statistics; a database that had them
	// gets them again, or the planner would guess (and on a large table
	// pick plans many times slower) until the next ANALYZE.
	analyzed := false
	if err := tx.NewRaw(`SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1')`).Scan(ctx, &analyzed); err != nil {
		return err
	}
	if analyzed {
		if err := tx.NewRaw(`SELECT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = ?)`, table).Scan(ctx, &analyzed); err != nil {
			return err
		}
	}
	// The new table is made under a name of its own: renaming the old one
	// aside would make the other tables' references follow it.
	fresh := table + "_org_keys"
	stmts := []string{
		createTableName.ReplaceAllLiteralString(create, "CREATE TABLE "+fresh),
		fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", fresh, table),
		"DROP TABLE " + table,
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", fresh, table),
	}
	stmts = append(stmts, extras...)
	if analyzed {
		stmts = append(stmts, "ANALYZE "+table)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
