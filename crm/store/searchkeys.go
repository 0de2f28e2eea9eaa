package store

import (
	"context"
	"fmt"
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

// goMigrations are the migrations written in Go, run in version order
// with the SQL files.
func (s *DB) goMigrations() []migrate.Migration {
	return []migrate.Migration{{
		Name: searchKeysVersion, Comment: "search_keys",
		Up: func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
			return rebuildSearchKeys(ctx, s.bun)
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
// key in the organisation's language (crm.SortKey). Anonymised customers
// keep their empty sort key. It names its columns, so that it runs against
// the schema of its version, whatever later migrations add.
func rebuildSearchKeys(ctx context.Context, db *bun.DB) error {
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
			n, last, err := rebuildSearchKeysBatch(ctx, db, org.ID, org.DefaultLanguage, after)
			if err != nil {
				return fmt.Errorf("search keys of organisation %s: %w", org.ID, err)
			}
			if n < rebuildBatch {
				break
			}
			after = last
		}
	}
	return nil
}

// rebuildSearchKeysBatch rewrites the keys of the next rebuildBatch
// customers of org with a number above after, in one transaction, and
// returns how many it read and the last number.
func rebuildSearchKeysBatch(ctx context.Context, db *bun.DB, org, lang string, after int64) (int, int64, error) {
	var rows []struct {
		ID           string     `bun:"id"`
		Number       int64      `bun:"number"`
		FirstName    string     `bun:"first_name"`
		MiddleName   string     `bun:"middle_name"`
		LastName     string     `bun:"last_name"`
		Company      string     `bun:"company"`
		AnonymisedAt *time.Time `bun:"anonymised_at"`
	}
	var last int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Table("customers").
			Column("id", "number", "first_name", "middle_name", "last_name", "company", "anonymised_at").
			Where("org_id = ?", org).Where("number > ?", after).OrderExpr("number").Limit(rebuildBatch).Scan(ctx, &rows)
		if err != nil || len(rows) == 0 {
			return err
		}
		last = rows[len(rows)-1].Number
		ids := make([]string, len(rows))
		var keys []nameKeyRow
		for i, r := range rows {
			ids[i] = r.ID
			f := crm.CustomerFields{FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName, Company: r.Company}
			for _, k := range crm.NameKeys(&f) {
				keys = append(keys, nameKeyRow{OrgID: org, CustomerID: r.ID, Key: k, Number: r.Number})
			}
			if _, err := tx.NewUpdate().Table("customer_search").Set("text = ?", crm.SearchText(&f)).
				Where("org_id = ?", org).Where("customer_id = ?", r.ID).Exec(ctx); err != nil {
				return err
			}
			if r.AnonymisedAt != nil {
				continue
			}
			if _, err := tx.NewUpdate().Table("customers").Set("sort_key = ?", crm.SortKey(lang, &f)).
				Where("org_id = ?", org).Where("id = ?", r.ID).Exec(ctx); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Table("customer_name_keys").
			Where("org_id = ?", org).Where("customer_id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return err
		}
		if len(keys) > 0 {
			if _, err := tx.NewInsert().Model(&keys).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return len(rows), last, err
}
