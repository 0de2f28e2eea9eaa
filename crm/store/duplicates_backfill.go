package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// duplicateKeysVersion is the migration that gives the customers stored
// before migration 20261129000070 their place keys (crm.DuplicatePlaceKeys),
// which the duplicates job otherwise writes only when a customer is
// created or changed: without them a new customer with a similar name in
// the same place would not find them. It computes no candidate pairs
// among existing customers: the check stays incremental.
const duplicateKeysVersion = "20261129000071"

// duplicateKeysBatch is how many customers backfillDuplicateKeys
// reads and keys per statement.
const duplicateKeysBatch = 1000

// backfillDuplicateKeys stores the place keys of every customer of every
// organisation that has none, batch customers per transaction in
// (org_id, number) order. Anonymised customers get none, as in the
// duplicates job; merged customers are tombstones, no longer in
// customers. A customer that has keys already is left alone, so the
// backfill is safe to run again, and a run that stops halfway is simply
// run again. It names its columns, so that it runs against the schema of
// its version whatever later migrations add.
func backfillDuplicateKeys(ctx context.Context, db *bun.DB, batch int) error {
	var orgs []string
	if err := db.NewSelect().Table("organisations").Column("id").OrderExpr("id").Scan(ctx, &orgs); err != nil {
		return fmt.Errorf("duplicate keys: %w", err)
	}
	for _, org := range orgs {
		var after int64
		for {
			n, last, err := backfillDuplicateKeysBatch(ctx, db, org, after, batch)
			if err != nil {
				return fmt.Errorf("duplicate keys of organisation %s: %w", org, err)
			}
			if n < batch {
				break
			}
			after = last
		}
	}
	return nil
}

// backfillDuplicateKeysBatch keys the next batch customers of org without
// keys and with a number above after, in one transaction, and returns how
// many it read and the last number.
func backfillDuplicateKeysBatch(ctx context.Context, db *bun.DB, org string, after int64, batch int) (int, int64, error) {
	var rows []struct {
		ID           string     `bun:"id"`
		Number       int64      `bun:"number"`
		FirstName    string     `bun:"first_name"`
		MiddleName   string     `bun:"middle_name"`
		LastName     string     `bun:"last_name"`
		PostalCode   string     `bun:"postal_code"`
		City         string     `bun:"city"`
		Country      string     `bun:"country"`
		AnonymisedAt *time.Time `bun:"anonymised_at"`
	}
	var last int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().TableExpr("customers AS c").
			ColumnExpr("c.id, c.number, c.first_name, c.middle_name, c.last_name, c.postal_code, c.city, c.country, c.anonymised_at").
			Where("c.org_id = ?", org).Where("c.number > ?", after).
			Where("NOT EXISTS (SELECT 1 FROM duplicate_keys AS k WHERE k.org_id = c.org_id AND k.customer_id = c.id)").
			OrderExpr("c.number").Limit(int64(batch)).Scan(ctx, &rows)
		if err != nil || len(rows) == 0 {
			return err
		}
		last = rows[len(rows)-1].Number
		var keys []duplicateKeyRow
		for _, r := range rows {
			if r.AnonymisedAt != nil {
				continue
			}
			f := crm.CustomerFields{FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName,
				Address: crm.Address{PostalCode: r.PostalCode, City: r.City, Country: r.Country}}
			name, ks := crm.DuplicatePlaceKeys(&f)
			for _, k := range ks {
				keys = append(keys, duplicateKeyRow{OrgID: org, Key: k, CustomerID: r.ID, Name: name})
			}
		}
		if len(keys) == 0 {
			return nil
		}
		_, err = tx.NewInsert().Model(&keys).On("CONFLICT DO NOTHING").Exec(ctx)
		return err
	})
	return len(rows), last, err
}
