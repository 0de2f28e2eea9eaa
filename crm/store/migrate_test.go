package store

import (
	"bytes"
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/migrate"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

// migrateBefore applies the migrations whose names sort before version,
// leaving db as a database that was made before that migration existed.
func migrateBefore(t *testing.T, db *DB, version string) {
	t.Helper()
	migrateOnly(t, db, func(name string) bool { return name < version })
}

// migrateWithout applies every migration but version: the schema of today
// as it was without that one migration, for a test that writes rows with
// today's code and then checks that the migration keeps them.
func migrateWithout(t *testing.T, db *DB, version string) {
	t.Helper()
	migrateOnly(t, db, func(name string) bool { return !strings.HasPrefix(name, version) })
}

// migrateOnly applies the migrations whose names (file names, or a code
// migration's version) keep accepts.
func migrateOnly(t *testing.T, db *DB, keep func(name string) bool) {
	t.Helper()
	ctx := context.Background()
	sub, err := fs.Sub(migrationFiles, db.dialect.migrations)
	if err != nil {
		t.Fatal(err)
	}
	before := fstest.MapFS{}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(path) {
			return err
		}
		data, err := fs.ReadFile(sub, path)
		before[path] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	old := migrate.NewMigrations()
	if err := old.Discover(before); err != nil {
		t.Fatal(err)
	}
	for _, code := range db.dialect.codeMigrations {
		if keep(code.Name) {
			old.Add(code)
		}
	}
	if db.dialect.beforeMigrate != nil {
		if err := db.dialect.beforeMigrate(ctx, db.bun); err != nil {
			t.Fatal(err)
		}
	}
	m := migrate.NewMigrator(db.bun, old, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// River's tables are River's own migrations, independent of ours: the
	// code under test enqueues jobs (a customer's create, its duplicate
	// check) into them.
	if err := db.migrateJobs(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLanguageFilterWhateverTheCollation: a PostgreSQL database whose
// default collation ignores punctuation (glibc's en_US.UTF-8 does, as does
// ICU's "shifted" option) sorts "nl-BE" after "nl.", outside the index range
// that finds a language with its regional variants. The migration that
// makes the column compare bytewise must mend such databases.
func TestLanguageFilterWhateverTheCollation(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		if db.dialect.name != postgresDialect.name {
			t.Skip("SQLite compares text bytewise unless told otherwise")
		}
		ctx := context.Background()
		migrateBefore(t, db, "20261123000011")
		// The column as a database created with such a default would have it.
		for _, stmt := range []string{
			"CREATE COLLATION ignores_punctuation (provider = icu, locale = 'und-u-ka-shifted')",
			"ALTER TABLE customers ALTER COLUMN language TYPE text COLLATE ignores_punctuation",
		} {
			if _, err := db.bun.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		var outside bool
		if err := db.bun.QueryRowContext(ctx, "SELECT 'nl-BE' COLLATE ignores_punctuation >= 'nl.'").Scan(&outside); err != nil || !outside {
			t.Fatalf("the collation does not show the problem (nl-BE >= nl.: %v, %v)", outside, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "org", Name: "Org"}); err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "org", "s")
		var want []int64
		for _, lang := range []string{"nl-BE", "nl", "sv", "nl-NL"} {
			cust, err := c.Customers.Create(octx, crm.CustomerFields{LastName: "Taal", Language: lang})
			if err != nil {
				t.Fatal(err)
			}
			if lang != "sv" {
				want = append(want, cust.Number)
			}
		}
		page, err := c.Customers.List(octx, crm.CustomerFilter{Language: "nl"}, crm.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, cust := range page.Items {
			got = append(got, cust.Number)
		}
		if !slices.Equal(got, want) {
			t.Errorf("language nl found customers %v, want %v", got, want)
		}
		if n, err := c.Customers.Count(octx, crm.CustomerFilter{Language: "nl"}); err != nil || n != 3 {
			t.Errorf("language nl counts %d, %v; want 3", n, err)
		}
	})
}

// TestSearchKeysMigration: a database whose customers were written with
// the earlier search keys (apostrophes kept, no other spellings, the sort
// key over "last first" as one text) gets every customer's keys
// recomputed by Migrate, on both databases.
func TestSearchKeysMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, searchKeysVersion)
		now := time.Now().UTC()
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('de', 'De', 'de', ?, ?)", now, now)
		type old struct {
			first, last string
			keys        []string
			anonymised  bool
		}
		customers := []old{
			{"Seán", "O'Brien", []string{"sean o'brien", "o'brien", "o'brien sean"}, false},
			{"Bea", "Arlig", []string{"bea arlig", "arlig", "arlig bea"}, false},
			{"Anna", "Ärlig", []string{"anna arlig", "arlig", "arlig anna"}, false},
			{"Jean-Luc", "Müller", []string{"jean-luc muller", "muller", "muller jean-luc"}, false},
			{"", "", nil, true},
		}
		ids := make([]string, len(customers))
		for i, c := range customers {
			ids[i] = uuid.NewString()
			sortKey := i18n.SortKey("de", c.last+" "+c.first)
			var anonymisedAt *time.Time
			if c.anonymised {
				sortKey, anonymisedAt = []byte{}, &now
			}
			exec(`INSERT INTO customers (id, org_id, number, first_name, last_name, status, language, created_at, updated_at, last_activity_at, version, sort_key, anonymised_at)
				VALUES (?, 'de', ?, ?, ?, 'customer', 'de', ?, ?, ?, 1, ?, ?)`, ids[i], i+1, c.first, c.last, now, now, now, sortKey, anonymisedAt)
			exec("INSERT INTO customer_search (org_id, customer_id, number, text) VALUES ('de', ?, ?, ?)", ids[i], i+1, strings.Join(c.keys[:min(1, len(c.keys))], ""))
			for _, k := range c.keys {
				exec("INSERT INTO customer_name_keys (org_id, customer_id, key, number) VALUES ('de', ?, ?, ?)", ids[i], k, i+1)
			}
		}
		exec("UPDATE organisations SET next_customer_number = ?", len(customers))

		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "de", "s")
		find := func(f crm.CustomerFilter) []int64 {
			t.Helper()
			page, err := c.Customers.List(octx, f, crm.PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, cust := range page.Items {
				got = append(got, cust.Number)
			}
			return got
		}
		check := func(t *testing.T) {
			for _, tc := range []struct {
				f    crm.CustomerFilter
				want []int64
			}{
				{crm.CustomerFilter{Name: "obrien"}, []int64{1}},
				{crm.CustomerFilter{Name: "o'brien"}, []int64{1}},
				{crm.CustomerFilter{NameContains: "obrie"}, []int64{1}},
				{crm.CustomerFilter{Name: "mueller"}, []int64{4}},
				{crm.CustomerFilter{Name: "luc"}, []int64{4}},
				{crm.CustomerFilter{Name: "jeanluc"}, []int64{4}},
				{crm.CustomerFilter{NameContains: "ueller"}, []int64{4}},
				{crm.CustomerFilter{Name: "arlig"}, []int64{2, 3}},
				// Sorted by the whole last name first: Arlig before Ärlig
				// whatever the first names; the anonymised customer first, as before.
				{crm.CustomerFilter{Sort: crm.SortName}, []int64{5, 2, 3, 4, 1}},
			} {
				if got := find(tc.f); !slices.Equal(got, tc.want) {
					t.Errorf("%+v found %v, want %v", tc.f, got, tc.want)
				}
			}
			// Every customer's rows are what a write today would store.
			for i, cust := range customers {
				f := crm.CustomerFields{FirstName: cust.first, LastName: cust.last}
				var keys []string
				if err := db.bun.NewSelect().Table("customer_name_keys").Column("key").Where("org_id = 'de'").Where("number = ?", i+1).
					OrderExpr("key").Scan(ctx, &keys); err != nil {
					t.Fatal(err)
				}
				want := crm.NameKeys(&f)
				slices.Sort(want)
				if !slices.Equal(keys, want) {
					t.Errorf("customer %d: name keys %q, want %q", i+1, keys, want)
				}
				var text string
				var sortKey []byte
				if err := db.bun.NewRaw("SELECT s.text, c.sort_key FROM customer_search AS s JOIN customers AS c ON c.org_id = s.org_id AND c.number = s.number WHERE c.id = ?", ids[i]).
					Scan(ctx, &text, &sortKey); err != nil {
					t.Fatal(err)
				}
				wantKey := crm.SortKey("de", &f)
				if cust.anonymised {
					wantKey = []byte{}
				}
				if text != crm.SearchText(&f) || !bytes.Equal(sortKey, wantKey) {
					t.Errorf("customer %d: search text %q and sort key %x, want %q and %x", i+1, text, sortKey, crm.SearchText(&f), wantKey)
				}
			}
		}
		check(t)

		// Again with every key lost and batches of two customers: the
		// rebuild walks past a batch's end and rewrites everything.
		exec("UPDATE customers SET sort_key = ? WHERE anonymised_at IS NULL", []byte{})
		exec("UPDATE customer_search SET text = ''")
		exec("DELETE FROM customer_name_keys")
		if err := rebuildSearchKeys(ctx, db.bun, db.dialect.name, 2); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
}
