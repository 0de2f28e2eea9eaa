package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/storetest"
	"github.com/dossiercrm/dossier/crm/tabular"
)

// exportedTables says, for every table that refers to customers, which
// section of crm.CustomerExport (its JSON name) carries its data. A new
// table that refers to customers fails TestExportCoversEveryCustomerTable
// until it is added here and to the export.
var exportedTables = map[string]string{
	"customers":              "customer",
	"customer_emails":        "customer", // index of the record's e-mail addresses
	"customer_qualifiers":    "tags",     // and attributes
	"customer_labels":        "labels",
	"memberships":            "memberships",
	"membership_shares":      "memberships", // sharedWith
	"benefit_uses":           "benefitUses",
	"history_events":         "history",
	"consent_records":        "consentLog",
	"customer_consents":      "consents",
	"consent_confirmations":  "consentLog", // the pending record; the token is a secret kept only as a hash
	"point_transactions":     "points",
	"point_lots":             "points", // what is left of each award
	"documents":              "documents",
	"outbox":                 "mails",
	"bookings":               "bookings", // with booking_reminders, which refer to bookings
	"import_changes":         "imports",
	"interactions":           "interactions",
	"customer_reviews":       "customer", // the latest review score, shown on the record
	"customer_field_origins": "fieldOrigins",
	"customer_source_ids":    "sourceIds",
	"match_conflicts":        "matchConflicts",
	"inquiries":              "inquiries",
	"inquiry_events":         "inquiries",     // each inquiry's history
	"portal_accounts":        "portalAccount", // its tokens and sessions name the account, not the customer
	"itineraries":            "itineraries",
	"contest_entries":        "contestEntries",
	"brochure_requests":      "brochureRequests",
	"mailing_recipients":     "mailings",
	"notes":                  "notes",
	"tasks":                  "tasks",
	"duplicate_keys":         "customer",   // index of the record's name and place, for the duplicate check
	"duplicate_candidates":   "duplicates", // candidate pairs
	"duplicate_dismissals":   "duplicates", // pairs dismissed as not the same person
}

// participantTables says, for every table with a participants column (a
// JSON list of the customers who take part besides the one it belongs
// to), which section of a participant's export carries its rows.
var participantTables = map[string]string{
	"bookings": "participations",
}

// eachDatabase runs fn on a fresh, empty SQLite database and, when
// DOSSIER_TEST_POSTGRES is set, on a fresh PostgreSQL schema; fn migrates.
func eachDatabase(t *testing.T, fn func(t *testing.T, db *DB)) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "privacy.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
	dsn := os.Getenv("DOSSIER_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("DOSSIER_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DOSSIER_REQUIRE_POSTGRES=1 but DOSSIER_TEST_POSTGRES is empty")
		}
		return
	}
	t.Run("postgres", func(t *testing.T) {
		admin, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		schema := fmt.Sprintf("privacy_test_%d", time.Now().UnixNano())
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if a, err := Open(context.Background(), dsn); err == nil {
				a.bun.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
				a.Close()
			}
		})
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
}

// columns lists every table of the schema with its columns.
func columns(t *testing.T, db *DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	var rows []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
	}
	var err error
	if db.Dialect() == "postgres" {
		err = db.bun.NewRaw(`SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`).Scan(ctx, &rows)
	} else {
		err = db.bun.NewRaw(`SELECT m.name AS table_name, c.name AS column_name
			FROM sqlite_master AS m, pragma_table_info(m.name) AS c
			WHERE m.type = 'table' ORDER BY m.name, c.cid`).Scan(ctx, &rows)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out[r.Table] = append(out[r.Table], r.Column)
	}
	return out
}

func newTestCRM(t *testing.T, db *DB) (*crm.CRM, context.Context) {
	t.Helper()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := crm.New(db, crm.Config{Blobs: cloudblob.New(memblob.OpenBucket(nil)), Tables: tabular.New()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "scan", Name: "Scan", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		t.Fatal(err)
	}
	return c, crm.WithActor(crm.WithOrg(ctx, "scan"), crm.Staff(crm.AdministratorID))
}

// TestExportCoversEveryCustomerTable enumerates the schema's tables that
// refer to customers: each must be named in exportedTables, hold rows of
// the distinctive customer, and feed a non-empty section of its export.
func TestExportCoversEveryCustomerTable(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		c, ctx := newTestCRM(t, db)
		d := storetest.MakeDistinctive(t, c, ctx)
		export, err := c.Privacy.Export(ctx, d.Customer.ID, crm.ExportStaff)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(export)
		var sections map[string]json.RawMessage
		if err := json.Unmarshal(b, &sections); err != nil {
			t.Fatal(err)
		}
		var found []string
		for table, cols := range columns(t, db) {
			ref := ""
			for _, col := range []string{"customer_id", "holder_id"} {
				if slices.Contains(cols, col) {
					ref = col
				}
			}
			if ref == "" && table != "customers" {
				continue
			}
			found = append(found, table)
			section, ok := exportedTables[table]
			if !ok {
				t.Errorf("table %s refers to customers (%s) but is not in the export: add it to crm.CustomerExport and exportedTables", table, ref)
				continue
			}
			if ref == "" {
				ref = "id"
			}
			n, err := db.bun.NewSelect().TableExpr(table).Where(ref+" = ?", d.Customer.ID).Count(context.Background())
			if err != nil || n == 0 {
				t.Errorf("table %s holds no row of the distinctive customer (%v): extend storetest.MakeDistinctive", table, err)
			}
			if s := strings.TrimSpace(string(sections[section])); s == "" || s == "[]" || s == "{}" || s == "null" {
				t.Errorf("export section %s (for table %s) is empty", section, table)
			}
		}
		// A customer named among the participants of a row finds it in
		// their own export.
		for table, cols := range columns(t, db) {
			if !slices.Contains(cols, "participants") {
				continue
			}
			section, ok := participantTables[table]
			if !ok {
				t.Errorf("table %s names customers in participants but no export section carries them: add it to participantTables and the export", table)
				continue
			}
			var lists []string
			if err := db.bun.NewSelect().TableExpr(table).ColumnExpr("CAST(participants AS TEXT)").Where("participants IS NOT NULL").
				Scan(context.Background(), &lists); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range lists {
				var some []string
				if err := json.Unmarshal([]byte(l), &some); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, some...)
			}
			if len(ids) == 0 {
				t.Errorf("table %s holds no participant: extend storetest.MakeDistinctive", table)
				continue
			}
			for _, audience := range []crm.ExportAudience{crm.ExportStaff, crm.ExportCustomer} {
				px, err := c.Privacy.Export(ctx, ids[0], audience)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(px)
				var psections map[string]json.RawMessage
				if err := json.Unmarshal(b, &psections); err != nil {
					t.Fatal(err)
				}
				if s := strings.TrimSpace(string(psections[section])); s == "" || s == "[]" || s == "null" {
					t.Errorf("%s export of participant %s: section %s (for table %s) is empty", audience, ids[0], section, table)
				}
			}
		}
		for table := range exportedTables {
			if !slices.Contains(found, table) {
				t.Errorf("exportedTables names %s, which does not refer to customers any more", table)
			}
		}
	})
}

// TestAnonymisationLeavesNothing anonymises the distinctive customer and
// scans every column of every table for any of its values.
func TestAnonymisationLeavesNothing(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		c, ctx := newTestCRM(t, db)
		d := storetest.MakeDistinctive(t, c, ctx)
		scan := func() map[string][]string {
			hits := map[string][]string{}
			for table, cols := range columns(t, db) {
				for _, col := range cols {
					var texts []string
					expr := "CAST(" + col + " AS TEXT)"
					if db.Dialect() == "postgres" {
						expr = col + "::text"
					}
					if err := db.bun.NewSelect().TableExpr(table).ColumnExpr("lower("+expr+")").
						Where(col+" IS NOT NULL").Scan(context.Background(), &texts); err != nil {
						t.Fatalf("scan %s.%s: %v", table, col, err)
					}
					for _, text := range texts {
						for _, v := range d.Values {
							if strings.Contains(text, v) {
								hits[v] = append(hits[v], table+"."+col)
							}
						}
					}
				}
			}
			return hits
		}
		// The scan finds every value before: it looks in the right places.
		before := scan()
		for _, v := range d.Values {
			if len(before[v]) == 0 {
				t.Fatalf("the scan does not find %q before anonymisation", v)
			}
		}
		if _, err := c.Privacy.Anonymise(ctx, d.Customer.ID); err != nil {
			t.Fatal(err)
		}
		if after := scan(); len(after) > 0 {
			t.Fatalf("after anonymisation the database still holds: %v", after)
		}
	})
}

// TestMigrationGivesOldOrganisationsThePurposes migrates to just before
// consents existed, makes an organisation the old way, migrates the rest,
// and checks the organisation can record consents like a new one.
func TestMigrationGivesOldOrganisationsThePurposes(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, "20261123000007")
		if _, err := db.bun.ExecContext(ctx, `INSERT INTO organisations (id, name, default_language, created_at, updated_at)
			VALUES ('old', 'Old', 'nl', ?, ?)`, time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "old", "s")
		ps, err := c.Consents.Purposes(octx)
		if err != nil || len(ps) != 6 || ps[0].Key != crm.PurposeNewsletter || !ps[0].DoubleOptIn || ps[5].Key != crm.PurposeMailings {
			t.Fatalf("purposes of the old organisation: %+v, %v", ps, err)
		}
		cust, err := c.Customers.Create(octx, crm.CustomerFields{FirstName: "Old", NoPost: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Consents.Give(octx, cust.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMigrationGivesOldOrganisationsTheWordings: organisations made before
// built-in wordings and legal bases existed get the wordings new ones get,
// in every language where a purpose has none yet, and the built-in post
// and mailings purposes become legitimate interest.
func TestMigrationGivesOldOrganisationsTheWordings(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, "20261123000007")
		if _, err := db.bun.ExecContext(ctx, `INSERT INTO organisations (id, name, default_language, created_at, updated_at)
			VALUES ('old', 'Old', 'nl', ?, ?)`, time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
		migrateBefore(t, db, "20261127000001")
		// The organisation wrote its own Dutch newsletter text and defined a purpose.
		var newsletter string
		if err := db.bun.NewRaw(`SELECT id FROM consent_purposes WHERE org_id = 'old' AND key = 'newsletter'`).Scan(ctx, &newsletter); err != nil {
			t.Fatal(err)
		}
		own := &crm.ConsentWording{ID: uuid.NewString(), PurposeID: newsletter, Language: "nl", Version: 1,
			Text: "Onze eigen tekst.", SHA256: "x", CreatedAt: time.Now()}
		if _, err := db.bun.NewInsert().Model(&consentWordingRow{ID: own.ID, OrgID: "old", PurposeID: own.PurposeID,
			Language: own.Language, Version: 1, Text: own.Text, SHA256: own.SHA256, CreatedAt: own.CreatedAt}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.bun.ExecContext(ctx, `INSERT INTO consent_purposes (id, org_id, key, name, channel, double_opt_in, built_in, position, created_at, updated_at)
			VALUES (?, 'old', 'brochures', 'Brochures', 'post', ?, ?, 9, ?, ?)`, uuid.NewString(), false, false, time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "new", Name: "New", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
			t.Fatal(err)
		}
		oldCtx, newCtx := crm.WithOrg(ctx, "old"), crm.WithOrg(ctx, "new")
		ps, err := c.Consents.Purposes(oldCtx)
		if err != nil || len(ps) != 7 {
			t.Fatalf("purposes: %+v, %v", ps, err)
		}
		for _, p := range ps {
			want := crm.LegalBasisConsent
			if p.Key == crm.PurposePost || p.Key == crm.PurposeMailings {
				want = crm.LegalBasisLegitimateInterest
			}
			if p.LegalBasis != want {
				t.Fatalf("purpose %s has legal basis %q, want %q", p.Key, p.LegalBasis, want)
			}
			got, err := c.Consents.Wordings(oldCtx, p.Key)
			if err != nil {
				t.Fatal(err)
			}
			if !p.BuiltIn {
				if len(got) != 0 {
					t.Fatalf("the organisation's own purpose got wordings: %+v", got)
				}
				continue
			}
			fresh, err := c.Consents.Wordings(newCtx, p.Key)
			if err != nil || len(fresh) != 5 {
				t.Fatalf("a new organisation's %s wordings: %+v, %v", p.Key, fresh, err)
			}
			if len(got) != len(fresh) {
				t.Fatalf("%s: %d wordings, want %d", p.Key, len(got), len(fresh))
			}
			for i, w := range fresh { // both by language, newest first
				g := got[i]
				if p.Key == crm.PurposeNewsletter && w.Language == "nl" {
					if g.ID != own.ID || g.Text != own.Text {
						t.Fatalf("the organisation's own Dutch text was replaced: %+v", g)
					}
					continue
				}
				if g.Language != w.Language || g.Version != 1 || g.Text != w.Text || g.SHA256 != w.SHA256 || g.ID == w.ID {
					t.Fatalf("%s wording after the migration %+v, a new organisation's %+v", p.Key, g, w)
				}
			}
		}
	})
}
