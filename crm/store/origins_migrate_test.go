package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// compactOriginsVersion is the migration that keeps a created customer's
// field origins in one row.
const compactOriginsVersion = "20261130000030"

// TestCompactFieldOriginsMigration: origins written one row per field
// before migration 20261130000030 read back the same after it, and what a
// creation wrote (the largest import or interaction group of one source and
// moment) is one row now; later changes keep their own rows. On PostgreSQL
// InteractionTarget, which reads the origins in its own statement, gives
// the same list.
func TestCompactFieldOriginsMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateWithout(t, db, compactOriginsVersion)
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('de', 'De', 'de', ?, ?)", now, now)
		t0 := time.Date(2026, 11, 1, 10, 0, 0, 123456000, time.UTC)
		t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
		o := func(field string, kind crm.OriginKind, source string, at time.Time) crm.FieldOrigin {
			return crm.FieldOrigin{Field: field, Kind: kind, Source: source, At: at}
		}
		customers := []struct {
			rows []crm.FieldOrigin // as written, in order (a later row of a field replaces the earlier)
			want []crm.FieldOrigin // FieldOriginList, sorted by field
			left int               // rows after the migration
		}{
			{ // made by an import, then changed by staff and an interaction
				rows: []crm.FieldOrigin{o("address.city", crm.OriginImport, "imp1", t0), o("email", crm.OriginImport, "imp1", t0),
					o("firstName", crm.OriginImport, "imp1", t0), o("lastName", crm.OriginImport, "imp1", t0),
					o("firstName", crm.OriginStaff, "staff:s", t1), o("company", crm.OriginInteraction, "web", t2)},
				want: []crm.FieldOrigin{o("address.city", crm.OriginImport, "imp1", t0), o("company", crm.OriginInteraction, "web", t2),
					o("email", crm.OriginImport, "imp1", t0), o("firstName", crm.OriginStaff, "staff:s", t1), o("lastName", crm.OriginImport, "imp1", t0)},
				left: 3,
			},
			{ // made by an interaction, then refreshed by another
				rows: []crm.FieldOrigin{o("firstName", crm.OriginInteraction, "resengo", t0), o("lastName", crm.OriginInteraction, "resengo", t0),
					o("language", crm.OriginInteraction, "resengo", t0), o("email", crm.OriginInteraction, "thefork", t1)},
				want: []crm.FieldOrigin{o("email", crm.OriginInteraction, "thefork", t1), o("firstName", crm.OriginInteraction, "resengo", t0),
					o("language", crm.OriginInteraction, "resengo", t0), o("lastName", crm.OriginInteraction, "resengo", t0)},
				left: 2,
			},
			{ // made by staff, one field from an interaction since
				rows: []crm.FieldOrigin{o("company", crm.OriginInteraction, "web", t1), o("address.city", crm.OriginStaff, "staff:s", t2)},
				want: []crm.FieldOrigin{o("address.city", crm.OriginStaff, "staff:s", t2), o("company", crm.OriginInteraction, "web", t1)},
				left: 2,
			},
		}
		ids := make([]string, len(customers))
		for i, c := range customers {
			ids[i] = uuid.NewString()
			exec(`INSERT INTO customers (id, org_id, number, first_name, last_name, status, language, created_at, updated_at, last_activity_at, version, sort_key)
				VALUES (?, 'de', ?, 'F', 'L', 'customer', 'de', ?, ?, ?, 1, ?)`, ids[i], i+1, t0, t0, t0, []byte{})
			for _, r := range c.rows {
				exec(`INSERT INTO customer_field_origins (org_id, customer_id, field, kind, source, at) VALUES ('de', ?, ?, ?, ?, ?)
					ON CONFLICT (org_id, customer_id, field) DO UPDATE SET kind = EXCLUDED.kind, source = EXCLUDED.source, at = EXCLUDED.at`,
					ids[i], r.Field, string(r.Kind), r.Source, r.At)
			}
		}
		exec("UPDATE organisations SET next_customer_number = ?", len(customers))

		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for i, c := range customers {
			got, err := db.FieldOriginList(ctx, "de", ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("customer %d: origins after the migration\n%+v\nwant\n%+v", i, got, c.want)
			}
			n, err := db.bun.NewSelect().TableExpr("customer_field_origins").Where("org_id = 'de'").Where("customer_id = ?", ids[i]).Count(ctx)
			if err != nil || int(n) != c.left {
				t.Errorf("customer %d: %d rows after the migration (%v), want %d", i, n, err, c.left)
			}
			err = db.InTx(ctx, func(tx crm.Store) error {
				cust, target, err := tx.InteractionTarget(ctx, "de", ids[i])
				if err != nil {
					return err
				}
				if cust.LatestReview != nil || !reflect.DeepEqual(target, c.want) {
					t.Errorf("customer %d: InteractionTarget gives review %+v, origins\n%+v\nwant\n%+v", i, cust.LatestReview, target, c.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
