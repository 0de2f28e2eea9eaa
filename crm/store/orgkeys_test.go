package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
)

// orgKeysWorld is what TestOrgKeysMigrationKeepsData writes into one
// organisation before the migration, to read back after it.
type orgKeysWorld struct {
	customers           []*crm.Customer
	tag, label          string
	membership          string
	document            string
	segment             string
	apiSecret, apiKeyID string
}

// TestOrgKeysMigrationKeepsData writes every kind of row into two
// organisations of a database made without migration 20261127000003 (which
// gives the tables keyed by id alone the key (org_id, id)), migrates, and
// reads everything back; the keys and foreign keys hold afterwards, and an
// API key issued before secrets named their organisation keeps working.
func TestOrgKeysMigrationKeepsData(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		// Every other migration is applied, so that today's code can write
		// the rows; the org keys migration then runs last.
		migrateWithout(t, db, "20261127000003")
		blobs := cloudblob.New(memblob.OpenBucket(nil))
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		c, err := crm.New(db, crm.Config{Blobs: blobs, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		worlds := map[string]orgKeysWorld{}
		for _, org := range []string{"first", "second"} {
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org, DefaultLanguage: "nl", DefaultCountry: "NL", PointsEnabled: true}); err != nil {
				t.Fatal(err)
			}
			worlds[org] = writeOrgKeysWorld(t, c, db, vouched(ctx, org, "s-"+org))
		}

		// A table as an earlier migration of the same release might add it,
		// keyed by id, with a table that refers to it: the migration finds
		// and mends it too.
		for _, stmt := range []string{
			`CREATE TABLE later_notes (id text PRIMARY KEY, org_id text NOT NULL REFERENCES organisations (id),
				note text NOT NULL, CONSTRAINT later_notes_org_id_uq UNIQUE (org_id, id))`,
			`CREATE TABLE later_note_links (org_id text NOT NULL, note_id text NOT NULL, customer_id text NOT NULL,
				PRIMARY KEY (org_id, note_id, customer_id),
				FOREIGN KEY (org_id, note_id) REFERENCES later_notes (org_id, id) ON DELETE CASCADE)`,
			`INSERT INTO later_notes (id, org_id, note) VALUES ('n1', 'first', 'kept')`,
			`INSERT INTO later_note_links (org_id, note_id, customer_id) VALUES ('first', 'n1', 'c1')`,
		} {
			if _, err := db.bun.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}

		sqlite := db.dialect.name == sqliteDialect.name
		if sqlite {
			// Statistics, as a database in use has them. (On PostgreSQL a
			// bare ANALYZE would cover every schema of the database, and
			// ALTER TABLE keeps the statistics anyway.)
			if _, err := db.bun.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if sqlite {
			// The rebuilt tables keep their statistics: without them the
			// planner guesses, and picked plans up to 19 times slower in
			// the filter benchmarks.
			n, err := db.bun.NewSelect().Table("sqlite_stat1").Where("tbl = 'customers'").Count(ctx)
			if err != nil || n == 0 {
				t.Errorf("customers has %d statistics after the migration (%v)", n, err)
			}
		}
		for _, v := range orgKeyViolations(t, db) {
			t.Errorf("after the migration: %s", v)
		}
		var note string
		if err := db.bun.QueryRowContext(ctx, `SELECT n.note FROM later_notes AS n JOIN later_note_links AS l ON l.org_id = n.org_id AND l.note_id = n.id`).Scan(&note); err != nil || note != "kept" {
			t.Errorf("a later table's rows: %q, %v", note, err)
		}
		now = now.Add(time.Hour)
		for org, w := range worlds {
			checkOrgKeysWorld(t, c, vouched(ctx, org, "s-"+org), w)
		}

		// The keys hold: an id is unique within its organisation, and a
		// row cannot refer to another organisation's row.
		first, second := worlds["first"], worlds["second"]
		row := customerToRow(first.customers[0])
		row.Number = 999
		if _, err := db.bun.NewInsert().Model(row).Exec(ctx); !errors.Is(interpretError(err), crm.ErrConflict) {
			t.Errorf("a second customer with the same organisation and id: %v, want a conflict", err)
		}
		if _, err := db.bun.ExecContext(ctx, `INSERT INTO customer_labels (org_id, customer_id, label_id, added_at) VALUES (?, ?, ?, ?)`,
			"first", first.customers[1].ID, second.label, now); err == nil {
			t.Error("a customer of one organisation took another organisation's label")
		}
		if _, err := db.bun.ExecContext(ctx, `INSERT INTO point_allocations (org_id, debit_id, credit_id, points) VALUES (?, ?, ?, 1)`,
			"first", uuid.NewString(), uuid.NewString()); err == nil {
			t.Error("an allocation of transactions that do not exist was stored: foreign keys are not enforced")
		}
		// Cascades still run: deleting a customer takes its links along.
		if err := c.Customers.Delete(vouched(ctx, "second", "s"), second.customers[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := db.bun.NewSelect().Table("customer_name_keys").Where("org_id = 'second'").Where("number = ?", second.customers[0].Number).Count(ctx); err != nil || n != 0 {
			t.Errorf("customer_name_keys keeps %d rows of a deleted customer (%v)", n, err)
		}
		for _, table := range []string{"customer_qualifiers", "customer_labels", "consent_records", "point_transactions", "documents"} {
			n, err := db.bun.NewSelect().Table(table).Where("org_id = 'second'").Where("customer_id = ?", second.customers[0].ID).Count(ctx)
			if err != nil || n != 0 {
				t.Errorf("%s keeps %d rows of a deleted customer (%v)", table, n, err)
			}
		}
		checkOrgKeysWorld(t, c, vouched(ctx, "first", "s"), first)
	})
}

func writeOrgKeysWorld(t *testing.T, c *crm.CRM, db *DB, ctx context.Context) orgKeysWorld {
	t.Helper()
	var w orgKeysWorld
	for _, name := range []string{"Émile Zoë", "Anna de Vries", "Jan Jansen"} {
		first, last, _ := strings.Cut(name, " ")
		cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: first, LastName: last, Email: strings.ToLower(first) + "@example.org",
			Phones: []crm.Phone{{Kind: crm.PhoneMobile, Number: "+31612345678"}}})
		if err != nil {
			t.Fatal(err)
		}
		w.customers = append(w.customers, cust)
	}
	a, b := w.customers[0].ID, w.customers[1].ID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tag, err := c.Tags.Define(ctx, crm.NewQualifier{Name: "Gold guest"})
	must(err)
	w.tag = tag.ID
	_, err = c.Tags.Add(ctx, a, tag.ID)
	must(err)
	attr, err := c.Attributes.Define(ctx, crm.NewQualifier{Name: "Skiing"})
	must(err)
	_, err = c.Attributes.Add(ctx, b, attr.ID)
	must(err)
	friend, err := c.Labels.Define(ctx, crm.NewLabel{Name: "Friend"})
	must(err)
	w.label = friend.ID
	must(c.Labels.Assign(ctx, a, friend.ID))
	label, err := c.Labels.Define(ctx, crm.NewLabel{Name: "Club", Membership: true})
	must(err)
	m, err := c.Labels.StartMembership(ctx, crm.NewMembership{LabelID: label.ID, HolderID: a, EndsOn: crm.MustDate("2027-12-31")})
	must(err)
	w.membership = m.ID
	_, err = c.Labels.ShareMembership(ctx, m.ID, b)
	must(err)
	_, err = c.Labels.UseBenefit(ctx, b, label.ID, "drink")
	must(err)
	_, err = c.Consents.SetWording(ctx, crm.PurposeNewsletter, "nl", "Ja, stuur mij de nieuwsbrief.")
	must(err)
	_, err = c.Consents.Give(ctx, a, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff})
	must(err)
	_, err = c.Consents.RequestConfirmation(ctx, b, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceStaff})
	must(err)
	_, err = c.Points.Award(ctx, a, crm.PointInput{Points: 100, Reason: "stay"})
	must(err)
	_, err = c.Points.Redeem(ctx, a, crm.PointInput{Points: 30, Reason: "gift"})
	must(err)
	docAttr, err := c.Documents.DefineAttribute(ctx, "Passport")
	must(err)
	doc, err := c.Documents.Add(ctx, a, crm.NewDocument{FileName: "passport.txt", AttributeID: docAttr.ID}, strings.NewReader("passport of "+a))
	must(err)
	w.document = doc.ID
	seg, err := c.Segments.Create(ctx, crm.NewSegment{Name: "VIPs", Filter: crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{tag.ID}}}})
	must(err)
	w.segment = seg.ID
	_, err = c.CustomFields.Define(ctx, crm.NewCustomField{Key: "room", Label: "Room", Type: crm.FieldText})
	must(err)
	_, err = c.Mail.AddTemplate(ctx, "welcome", "nl", crm.MailTemplateInput{Subject: "Welkom", Text: "Hallo"})
	must(err)
	sc, _ := crm.OrgFrom(ctx)
	must(db.OutboxInsert(ctx, &crm.OutboxMail{ID: uuid.NewString(), OrgID: sc, CustomerID: a, Template: "welcome", Language: "nl",
		ToEmail: "a@example.org", Subject: "Welkom", Text: "Hallo", Status: crm.OutboxPending, NextAttemptAt: time.Now(),
		Actor: crm.Staff("s"), CreatedAt: time.Now()}))
	// A key as issued before secrets named their organisation, acting as a staff user "u".
	_, err = c.Staff.Create(crm.WithActor(ctx, crm.System()), crm.NewStaffUser{ID: "u", Name: "U", Role: crm.RoleAdministrator})
	must(err)
	w.apiSecret = "dsk_" + strings.Repeat("k", 40) + sc[:3]
	sum := sha256.Sum256([]byte(w.apiSecret))
	w.apiKeyID = uuid.NewString()
	must(db.APIKeyInsert(ctx, &crm.APIKey{ID: w.apiKeyID, OrgID: sc, Name: "old", StaffUser: "u", Prefix: w.apiSecret[:10], CreatedAt: time.Now()},
		hex.EncodeToString(sum[:])))
	return w
}

func checkOrgKeysWorld(t *testing.T, c *crm.CRM, ctx context.Context, w orgKeysWorld) {
	t.Helper()
	org, _ := crm.OrgFrom(ctx)
	for _, want := range w.customers {
		got, err := c.Customers.Get(ctx, want.ID)
		if err != nil || got.Number != want.Number || got.FirstName != want.FirstName || len(got.Phones) != 1 {
			t.Errorf("%s: customer %s reads back as %+v, %v", org, want.ID, got, err)
		}
	}
	a, b := w.customers[0].ID, w.customers[1].ID
	if page, err := c.Customers.List(ctx, crm.CustomerFilter{Name: "emile"}, crm.PageRequest{}); err != nil || len(page.Items) != 1 || page.Items[0].ID != a {
		t.Errorf("%s: name search finds %+v, %v", org, page.Items, err)
	}
	if page, err := c.Customers.List(ctx, crm.CustomerFilter{NameContains: "vries"}, crm.PageRequest{}); err != nil || len(page.Items) != 1 || page.Items[0].ID != b {
		t.Errorf("%s: contains-search finds %+v, %v", org, page.Items, err)
	}
	if tags, err := c.Tags.Of(ctx, a); err != nil || len(tags) != 1 || tags[0].ID != w.tag {
		t.Errorf("%s: tags %+v, %v", org, tags, err)
	}
	if n, err := c.Segments.Count(ctx, w.segment); err != nil || n != 1 {
		t.Errorf("%s: segment counts %d, %v", org, n, err)
	}
	if ms, err := c.Labels.Memberships(ctx, b); err != nil || len(ms) != 1 || ms[0].ID != w.membership {
		t.Errorf("%s: memberships shared with b: %+v, %v", org, ms, err)
	}
	if labels, err := c.Labels.Of(ctx, a); err != nil || len(labels) == 0 {
		t.Errorf("%s: labels of a: %+v, %v", org, labels, err)
	}
	if states, err := c.Consents.States(ctx, a); err != nil || len(states) == 0 {
		t.Errorf("%s: consent states %+v, %v", org, states, err)
	}
	if log, err := c.Consents.Log(ctx, b); err != nil || len(log) != 1 {
		t.Errorf("%s: consent log of b %+v, %v", org, log, err)
	}
	if bal, err := c.Points.Balance(ctx, a); err != nil || bal.Available != 70 {
		t.Errorf("%s: balance %+v, %v; want 70", org, bal, err)
	}
	if _, r, err := c.Documents.Open(ctx, w.document); err != nil {
		t.Errorf("%s: document: %v", org, err)
	} else {
		data, _ := io.ReadAll(r)
		r.Close()
		if string(data) != "passport of "+a {
			t.Errorf("%s: document reads %q", org, data)
		}
	}
	if page, err := c.History.List(ctx, a, crm.PageRequest{}); err != nil || len(page.Items) < 3 {
		t.Errorf("%s: history of a: %d events, %v", org, len(page.Items), err)
	}
	if fields, err := c.CustomFields.List(ctx, false); err != nil || len(fields) != 1 {
		t.Errorf("%s: custom fields %+v, %v", org, fields, err)
	}
	if mails, err := c.Outbox.List(ctx, a, crm.PageRequest{}); err != nil || len(mails.Items) != 1 {
		t.Errorf("%s: outbox %+v, %v", org, mails, err)
	}
	key, err := c.APIKeys.Authenticate(ctx, w.apiSecret)
	if err != nil || key.ID != w.apiKeyID || key.OrgID != org {
		t.Errorf("%s: a key issued before the migration authenticates as %+v, %v", org, key, err)
	}
	_, secret, err := c.APIKeys.Create(crm.WithActor(ctx, crm.System()), crm.NewAPIKey{Name: "new", StaffUser: "u"})
	if err != nil || !strings.HasPrefix(secret, "dsk_"+org+".") {
		t.Fatalf("%s: new key %q, %v", org, secret, err)
	}
	if key, err := c.APIKeys.Authenticate(ctx, secret); err != nil || key.OrgID != org {
		t.Errorf("%s: a new key authenticates as %+v, %v", org, key, err)
	}
}
