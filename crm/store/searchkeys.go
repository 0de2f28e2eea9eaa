package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/dossiercrm/dossier/crm"
)

// searchKeysVersion is the migration that recomputes every customer's
// name keys, contains-search text and sort key in Go, after the SQL
// migrations before it: the keys come from crm (i18n.SearchKeys, collation
// keys), which SQL cannot compute. Since it, apostrophes are dropped
// ("obrien" finds O'Brien), hyphenated names are found by each part and
// written as one, umlauts also by their German transliteration ("mueller"
// finds Müller), and the sort key compares the whole last name before the
// first name.
const searchKeysVersion = "20261127000002"

// prunedNameKeysVersion is the migration that drops the name keys that
// begin another key of the same customer, which crm.NameKeys no longer
// computes (a prefix search finds the customer by the longer key): the
// same rebuild as searchKeysVersion, which writes only what changed, here
// the name keys alone.
const prunedNameKeysVersion = "20261130000050"

// compactSortKeysVersion is the migration that rewrites every customer's
// sort key in the compact encoding of i18n.SortKeyParts (secondary weights
// in one byte, two-byte markers): the same order in about two thirds of
// the bytes, in the row and in the name-order index. The same rebuild as
// searchKeysVersion; here the sort keys alone change.
const compactSortKeysVersion = "20261130000100"

// goMigrations are the migrations written in Go, run in version order
// with the SQL files.
func (s *DB) goMigrations() []migrate.Migration {
	// Every change of how crm computes the keys runs the same rebuild.
	rebuild := func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
		return rebuildSearchKeys(ctx, s.bun, s.dialect.name, rebuildBatch)
	}
	return []migrate.Migration{{
		Name: searchKeysVersion, Comment: "search_keys", Up: rebuild,
	}, {
		Name: prunedNameKeysVersion, Comment: "pruned_name_keys", Up: rebuild,
	}, {
		Name: compactSortKeysVersion, Comment: "compact_sort_keys", Up: rebuild,
	}, {
		Name: compactHistoryVersion, Comment: "compact_history",
		Up: func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
			return compactHistory(ctx, s.bun, s.dialect.name, 1000)
		},
	}, {
		Name: duplicateKeysVersion, Comment: "duplicate_keys",
		Up: func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
			return backfillDuplicateKeys(ctx, s.bun, duplicateKeysBatch)
		},
	}}
}

// rebuildBatch is how many customers rebuildSearchKeys rewrites per
// transaction: a large database is rebuilt without one huge transaction,
// and a run that stops halfway is simply run again.
const rebuildBatch = 500

// rebuildSearchKeys recomputes, for every customer of every organisation,
// the search keys the current crm computes on every write: the name keys
// (crm.NameKeys), the contains-search text (crm.SearchText) and the sort
// key in the organisation's language (crm.SortKey), batch customers per
// transaction. Anonymised customers
// keep their empty sort key. It names its columns, so that it runs against
// the schema of its version, whatever later migrations add.
//
// It runs on both layouts of customer_name_keys: with the customer's id
// (before migration 20261129000010) and keyed by number alone. Either way
// it finds a batch's keys by number, through an index on (org_id, number)
// made for the rebuild and dropped after it.
func rebuildSearchKeys(ctx context.Context, db *bun.DB, dialectName string, batch int) (err error) {
	withID, err := nameKeysHaveCustomerID(ctx, db)
	if err != nil {
		return fmt.Errorf("search keys: %w", err)
	}
	if _, err := db.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS customer_name_keys_rebuild_idx ON customer_name_keys (org_id, number)"); err != nil {
		return fmt.Errorf("search keys: %w", err)
	}
	defer func() {
		if _, dropErr := db.ExecContext(context.WithoutCancel(ctx), "DROP INDEX IF EXISTS customer_name_keys_rebuild_idx"); err == nil && dropErr != nil {
			err = fmt.Errorf("search keys: %w", dropErr)
		}
	}()
	var orgs []struct {
		ID              string `bun:"id"`
		DefaultLanguage string `bun:"default_language"`
	}
	if err := db.NewSelect().Table("organisations").Column("id", "default_language").OrderExpr("id").Scan(ctx, &orgs); err != nil {
		return fmt.Errorf("search keys: %w", err)
	}
	for _, org := range orgs {
		var after int64
		for {
			n, last, err := rebuildSearchKeysBatch(ctx, db, dialectName, withID, org.ID, org.DefaultLanguage, after, batch)
			if err != nil {
				return fmt.Errorf("search keys of organisation %s: %w", org.ID, err)
			}
			if n < batch {
				break
			}
			after = last
		}
	}
	return nil
}

// rebuildSearchKeysBatch rewrites the keys of the next batch
// customers of org with a number above after, in one transaction, and
// returns how many it read and the last number. It writes only what
// changed: an unchanged search text is not written again (on SQLite that
// spares the trigram index an update), nor are unchanged name keys; the
// sort keys, which all change, in one statement.
func rebuildSearchKeysBatch(ctx context.Context, db *bun.DB, dialectName string, withID bool, org, lang string, after int64, batch int) (int, int64, error) {
	var rows []struct {
		ID           string     `bun:"id"`
		Number       int64      `bun:"number"`
		FirstName    string     `bun:"first_name"`
		MiddleName   string     `bun:"middle_name"`
		LastName     string     `bun:"last_name"`
		Company      string     `bun:"company"`
		AnonymisedAt *time.Time `bun:"anonymised_at"`
		SortKey      []byte     `bun:"sort_key"`
		Text         *string    `bun:"text"`
	}
	var last int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().TableExpr("customers AS c").
			ColumnExpr("c.id, c.number, c.first_name, c.middle_name, c.last_name, c.company, c.anonymised_at, c.sort_key, s.text").
			Join("LEFT JOIN customer_search AS s ON s.org_id = c.org_id AND s.number = c.number").
			Where("c.org_id = ?", org).Where("c.number > ?", after).OrderExpr("c.number").Limit(int64(batch)).Scan(ctx, &rows)
		if err != nil || len(rows) == 0 {
			return err
		}
		last = rows[len(rows)-1].Number
		numbers := make([]int64, len(rows))
		for i, r := range rows {
			numbers[i] = r.Number
		}
		var stored []nameKeyRow
		if err := tx.NewSelect().Table("customer_name_keys").Column("number", "key").
			Where("org_id = ?", org).Where("number IN (?)", bun.List(numbers)).Scan(ctx, &stored); err != nil {
			return err
		}
		storedKeys := map[int64][]string{}
		for _, k := range stored {
			storedKeys[k.Number] = append(storedKeys[k.Number], k.Key)
		}
		var (
			rekeyed  []int64
			keys     []legacyNameKeyRow
			sortKeys []any // id, key, id, key, ...
		)
		for _, r := range rows {
			f := crm.CustomerFields{FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName, Company: r.Company}
			if want := crm.NameKeys(&f); !sameSet(want, storedKeys[r.Number]) {
				rekeyed = append(rekeyed, r.Number)
				for _, k := range want {
					keys = append(keys, legacyNameKeyRow{OrgID: org, CustomerID: r.ID, Key: k, Number: r.Number})
				}
			}
			if text := crm.SearchText(&f); r.Text != nil && *r.Text != text {
				if _, err := tx.NewUpdate().Table("customer_search").Set("text = ?", text).
					Where("org_id = ?", org).Where("number = ?", r.Number).Exec(ctx); err != nil {
					return err
				}
			}
			if r.AnonymisedAt != nil {
				continue
			}
			if key := crm.SortKey(lang, &f); !bytes.Equal(key, r.SortKey) {
				sortKeys = append(sortKeys, r.ID, key)
			}
		}
		if len(sortKeys) > 0 {
			if _, err := tx.NewRaw(setSortKeys(dialectName, len(sortKeys)/2), append(sortKeys, org)...).Exec(ctx); err != nil {
				return err
			}
		}
		if len(rekeyed) > 0 {
			if _, err := tx.NewDelete().Table("customer_name_keys").
				Where("org_id = ?", org).Where("number IN (?)", bun.List(rekeyed)).Exec(ctx); err != nil {
				return err
			}
		}
		if len(keys) > 0 {
			q := tx.NewInsert().Model(&keys)
			if !withID {
				q = q.ExcludeColumn("customer_id")
			}
			if _, err := q.Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return len(rows), last, err
}

// legacyNameKeyRow is a name key row with the customer's id, the layout
// of customer_name_keys before migration 20261129000010.
type legacyNameKeyRow struct {
	bun.BaseModel `bun:"table:customer_name_keys"`
	OrgID         string `bun:"org_id"`
	CustomerID    string `bun:"customer_id"`
	Key           string `bun:"key"`
	Number        int64  `bun:"number"`
}

// nameKeysHaveCustomerID reports whether customer_name_keys has the
// customer_id column of its first layout.
func nameKeysHaveCustomerID(ctx context.Context, db *bun.DB) (bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM customer_name_keys WHERE 1 = 0")
	if err != nil {
		return false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return false, err
	}
	return slices.Contains(cols, "customer_id"), rows.Err()
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// setSortKeys is an UPDATE that sets the sort keys of n customers of one
// organisation, with the arguments id, key, id, key, ..., org: one
// statement (and on PostgreSQL one round trip) for a whole batch.
func setSortKeys(dialectName string, n int) string {
	row, id := "(?, ?)", "v.column1"
	if dialectName == postgresDialect.name {
		row, id = "(?, CAST(? AS bytea))", "CAST(v.column1 AS uuid)"
	}
	return "UPDATE customers SET sort_key = v.column2 FROM (VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") +
		") AS v WHERE customers.org_id = ? AND customers.id = " + id
}
