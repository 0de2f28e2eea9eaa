package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// notPerOrganisation are the tables that hold no organisation's rows, so
// carry no org_id and are not distributed by it. Every other table, the
// ones later migrations add included, is held to the rule below.
var notPerOrganisation = map[string]string{
	// Its key is the organisation's id itself; on a distributed database
	// it is a reference table, copied to every node, which the other
	// tables' foreign keys on org_id may point at.
	"organisations": "the organisations themselves",
	// bun's record of the migrations applied, and its lock.
	"bun_migrations":      "migrations bookkeeping",
	"bun_migration_locks": "migrations bookkeeping",
	// River's job queue (background work), should this database hold it:
	// jobs of every organisation in one queue, which the workers poll. Job
	// arguments carry the organisation.
	"river_job":          "job queue",
	"river_leader":       "job queue",
	"river_queue":        "job queue",
	"river_client":       "job queue",
	"river_client_queue": "job queue",
	"river_migration":    "job queue",
	"river_notification": "job queue",
}

// sqliteRowIDKeys are primary keys that are SQLite row ids: an FTS5 index
// finds its rows by an integer row id, which must be the table's INTEGER
// PRIMARY KEY. SQLite is never distributed; the PostgreSQL table keeps the
// rule.
var sqliteRowIDKeys = map[string]string{
	"customer_search": "search_id, the row id of customer_search_fts",
}

// catalogueKey is a key of a table as the catalogue describes it.
type catalogueKey struct {
	table, kind, name string
	columns           []string
	// For foreign keys: the table referred to and its columns.
	parent        string
	parentColumns []string
}

func (k catalogueKey) String() string {
	s := fmt.Sprintf("%s %s %s (%s)", k.table, k.kind, k.name, strings.Join(k.columns, ", "))
	if k.parent != "" {
		s += fmt.Sprintf(" REFERENCES %s (%s)", k.parent, strings.Join(k.parentColumns, ", "))
	}
	return s
}

// TestEveryKeyIncludesOrgID reads the database catalogue: every table has an
// org_id column, and every primary key, unique index and foreign key
// includes it (foreign keys on both sides, in the same position), so that
// the schema can be distributed by organisation (docs/scaling.md). A new
// table or key that breaks the rule fails here; a table that is truly not
// per organisation goes into notPerOrganisation, with the reason.
func TestEveryKeyIncludesOrgID(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		// The schema before migration 20261127000003 broke the rule: the
		// test must see that.
		migrateBefore(t, db, "20261127000003")
		bad := orgKeyViolations(t, db)
		t.Logf("before: %d violations: %q", len(bad), bad)
		if !slices.Contains(bad, "customers primary key without org_id") {
			t.Errorf("before the migration, violations %q do not include the customers' primary key", bad)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, v := range orgKeyViolations(t, db) {
			t.Error(v)
		}
	})
}

// orgKeyViolations lists the tables and keys of db's schema that break the
// rule, as "<table> <kind> <what is wrong>".
func orgKeyViolations(t *testing.T, db *DB) []string {
	t.Helper()
	tables, keys, err := catalogue(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 20 || len(keys) < 40 {
		t.Fatalf("the catalogue shows %d tables and %d keys: not the schema", len(tables), len(keys))
	}
	var bad []string
	for table, columns := range tables {
		if _, ok := notPerOrganisation[table]; !ok && !slices.Contains(columns, "org_id") {
			bad = append(bad, table+" has no org_id column")
		}
	}
	for _, k := range keys {
		if _, ok := notPerOrganisation[k.table]; ok {
			continue
		}
		if k.kind == "primary key" && db.dialect.name == sqliteDialect.name && sqliteRowIDKeys[k.table] != "" {
			continue
		}
		at := slices.Index(k.columns, "org_id")
		switch _, global := notPerOrganisation[k.parent]; {
		case at < 0:
			if k.kind == "primary key" {
				bad = append(bad, k.table+" primary key without org_id")
			} else {
				bad = append(bad, fmt.Sprintf("%v: without org_id", k))
			}
		case k.parent == "":
		case global:
			if k.parent != "organisations" || len(k.columns) != 1 {
				bad = append(bad, fmt.Sprintf("%v: only org_id alone may refer to a table that is not per organisation", k))
			}
		case at >= len(k.parentColumns) || k.parentColumns[at] != "org_id":
			bad = append(bad, fmt.Sprintf("%v: org_id must refer to the other table's org_id", k))
		}
	}
	slices.Sort(bad)
	return bad
}

// catalogue returns the tables of db's schema with their columns, and
// their primary keys, unique indexes and foreign keys.
func catalogue(ctx context.Context, db *DB) (map[string][]string, []catalogueKey, error) {
	if db.dialect.name == sqliteDialect.name {
		return sqliteCatalogue(ctx, db)
	}
	return postgresCatalogue(ctx, db)
}

func postgresCatalogue(ctx context.Context, db *DB) (map[string][]string, []catalogueKey, error) {
	tables := map[string][]string{}
	var cols []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
	}
	err := db.bun.NewRaw(`SELECT c.relname AS table_name, a.attname AS column_name
		FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
		ORDER BY c.relname, a.attnum`).Scan(ctx, &cols)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cols {
		tables[c.Table] = append(tables[c.Table], c.Column)
	}
	// Unique indexes (primary keys and unique constraints among them), by
	// their key columns; an expression in a key shows as "(expression)".
	var indexes []struct {
		Table   string   `bun:"table_name"`
		Name    string   `bun:"index_name"`
		Primary bool     `bun:"is_primary"`
		Columns []string `bun:"columns,array"`
	}
	err = db.bun.NewRaw(`SELECT t.relname AS table_name, i.relname AS index_name, x.indisprimary AS is_primary,
			array(SELECT coalesce(a.attname, '(expression)')
				FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, n)
				LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
				ORDER BY k.n) AS columns
		FROM pg_index x
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_class i ON i.oid = x.indexrelid
		WHERE t.relnamespace = current_schema()::regnamespace AND x.indisunique
		ORDER BY t.relname, i.relname`).Scan(ctx, &indexes)
	if err != nil {
		return nil, nil, err
	}
	var keys []catalogueKey
	for _, x := range indexes {
		kind := "unique index"
		if x.Primary {
			kind = "primary key"
		}
		keys = append(keys, catalogueKey{table: x.Table, kind: kind, name: x.Name, columns: x.Columns})
	}
	var fks []struct {
		Table         string   `bun:"table_name"`
		Name          string   `bun:"conname"`
		Columns       []string `bun:"columns,array"`
		Parent        string   `bun:"parent"`
		ParentColumns []string `bun:"parent_columns,array"`
	}
	err = db.bun.NewRaw(`SELECT t.relname AS table_name, f.conname, p.relname AS parent,
			array(SELECT a.attname FROM unnest(f.conkey) WITH ORDINALITY AS k(attnum, n)
				JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
			array(SELECT a.attname FROM unnest(f.confkey) WITH ORDINALITY AS k(attnum, n)
				JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum ORDER BY k.n) AS parent_columns
		FROM pg_constraint f
		JOIN pg_class t ON t.oid = f.conrelid
		JOIN pg_class p ON p.oid = f.confrelid
		WHERE f.contype = 'f' AND t.relnamespace = current_schema()::regnamespace
		ORDER BY t.relname, f.conname`).Scan(ctx, &fks)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range fks {
		keys = append(keys, catalogueKey{table: f.Table, kind: "foreign key", name: f.Name, columns: f.Columns,
			parent: f.Parent, parentColumns: f.ParentColumns})
	}
	return tables, keys, nil
}

func sqliteCatalogue(ctx context.Context, db *DB) (map[string][]string, []catalogueKey, error) {
	// Ordinary tables only: FTS5's virtual table and its shadow tables are
	// the index's own storage, and sqlite_ tables SQLite's.
	var names []string
	if err := db.bun.NewRaw(`SELECT name FROM pragma_table_list
		WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY name`).Scan(ctx, &names); err != nil {
		return nil, nil, err
	}
	tables := map[string][]string{}
	var keys []catalogueKey
	for _, table := range names {
		var cols []struct {
			Name string `bun:"name"`
			PK   int    `bun:"pk"`
		}
		if err := db.bun.NewRaw("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", table).Scan(ctx, &cols); err != nil {
			return nil, nil, err
		}
		pk := catalogueKey{table: table, kind: "primary key", name: table + " primary key"}
		pkCols := map[int]string{}
		for _, c := range cols {
			tables[table] = append(tables[table], c.Name)
			if c.PK > 0 {
				pkCols[c.PK] = c.Name
			}
		}
		for i := 1; i <= len(pkCols); i++ {
			pk.columns = append(pk.columns, pkCols[i])
		}
		if len(pk.columns) > 0 {
			keys = append(keys, pk)
		}
		var indexes []struct {
			Name   string `bun:"name"`
			Origin string `bun:"origin"`
		}
		if err := db.bun.NewRaw(`SELECT name, origin FROM pragma_index_list(?) WHERE "unique" = 1 ORDER BY name`, table).
			Scan(ctx, &indexes); err != nil {
			return nil, nil, err
		}
		for _, x := range indexes {
			if x.Origin == "pk" {
				continue // the primary key, above
			}
			k := catalogueKey{table: table, kind: "unique index", name: x.Name}
			var cols []string
			// cid -2 is an expression (name NULL).
			if err := db.bun.NewRaw(`SELECT coalesce(name, '(expression)') FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, x.Name).
				Scan(ctx, &cols); err != nil {
				return nil, nil, err
			}
			k.columns = cols
			keys = append(keys, k)
		}
		var fks []struct {
			ID     int    `bun:"id"`
			Seq    int    `bun:"seq"`
			Parent string `bun:"table"`
			From   string `bun:"from"`
			To     string `bun:"to"`
		}
		if err := db.bun.NewRaw(`SELECT id, seq, "table", "from", coalesce("to", '') AS "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table).
			Scan(ctx, &fks); err != nil {
			return nil, nil, err
		}
		for i, f := range fks {
			if i == 0 || f.ID != fks[i-1].ID {
				keys = append(keys, catalogueKey{table: table, kind: "foreign key", name: fmt.Sprintf("%s foreign key %d", table, f.ID), parent: f.Parent})
			}
			k := &keys[len(keys)-1]
			k.columns = append(k.columns, f.From)
			k.parentColumns = append(k.parentColumns, f.To)
		}
	}
	return tables, keys, nil
}
