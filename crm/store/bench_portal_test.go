package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/storetest"
)

// Benchmarks of the customer's own side, on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL:
//
//	go test ./crm/store -run '^$' -bench 'PortalSignIn|PortalSessionCheck' -benchtime 2s
//	DOSSIER_BENCH_MAILING=1 go test ./crm/store -run '^$' -bench Mailing100k -benchtime 1x -timeout 1h
//
// (DOSSIER_BENCH_MAILING_N=10000 runs it on fewer customers.)
//
// PortalSignIn is a whole sign-in: the account read, argon2id (m=19 MiB,
// t=2, p=1) and the transaction that records the session and the timeline
// event. PortalSessionCheck is what every portal request costs:
// Authenticate of a session token. Mailing100k starts a mailing to
// 100,000 customers and runs its batches until every mail is in the
// outbox (with its delivery job, unsubscribe hash and timeline event).

// portalBenchStores opens a fresh, migrated SQLite database and, with
// DOSSIER_TEST_POSTGRES, a fresh PostgreSQL schema.
func portalBenchStores(b *testing.B) map[string]*DB {
	ctx := context.Background()
	stores := map[string]*DB{}
	db, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "portal.db"), WithMigrate())
	if err != nil {
		b.Fatal(err)
	}
	stores["sqlite"] = db
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		admin, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		schema := fmt.Sprintf("bench_portal20_%d", time.Now().UnixNano())
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			admin.bun.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		})
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		pg, err := Open(ctx, u.String(), WithMigrate())
		if err != nil {
			b.Fatal(err)
		}
		stores["postgres"] = pg
	}
	b.Cleanup(func() {
		for _, st := range stores {
			st.Close()
		}
	})
	return stores
}

// portalBenchCustomer makes an organisation with a customer who has a password.
func portalBenchCustomer(b *testing.B, st *DB) (*crm.CRM, string) {
	ctx := context.Background()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "pb", Name: "Portal bench"}); err != nil {
		b.Fatal(err)
	}
	staff := vouched(ctx, "pb", "s")
	cust, err := c.Customers.Create(staff, crm.CustomerFields{LastName: "Bench", LoginEmail: "bench@example.org"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Portal.SendSetPasswordLink(staff, cust.ID); err != nil {
		b.Fatal(err)
	}
	if err := c.Portal.SetPassword(ctx, storetest.LinkToken(b, c, staff, cust.ID, "set_password"), "correct horse battery staple"); err != nil {
		b.Fatal(err)
	}
	return c, cust.ID
}

func BenchmarkPortalSignIn(b *testing.B) {
	for name, st := range portalBenchStores(b) {
		b.Run(name, func(b *testing.B) {
			c, _ := portalBenchCustomer(b, st)
			ctx := crm.WithOrg(context.Background(), "pb")
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := c.Portal.SignIn(ctx, "bench@example.org", "correct horse battery staple", crm.PortalClient{IP: "192.0.2.1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPortalSessionCheck(b *testing.B) {
	for name, st := range portalBenchStores(b) {
		b.Run(name, func(b *testing.B) {
			c, _ := portalBenchCustomer(b, st)
			_, token, err := c.Portal.SignIn(crm.WithOrg(context.Background(), "pb"), "bench@example.org", "correct horse battery staple", crm.PortalClient{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Portal.Authenticate(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// mailingBenchSize is the size of BenchmarkMailing100k's segment:
// 100,000, or DOSSIER_BENCH_MAILING_N.
func mailingBenchSize() int {
	if n, err := strconv.Atoi(os.Getenv("DOSSIER_BENCH_MAILING_N")); err == nil && n > 0 {
		return n - n%1000
	}
	return 100_000
}

func BenchmarkMailing100k(b *testing.B) {
	if os.Getenv("DOSSIER_BENCH_MAILING") == "" {
		b.Skip("set DOSSIER_BENCH_MAILING=1: it writes 400,000 rows per iteration")
	}
	mailingBenchCustomers := mailingBenchSize()
	for name, st := range portalBenchStores(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			c, err := crm.New(st, crm.Config{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "mb", Name: "Mailing bench", DefaultLanguage: "nl"}); err != nil {
				b.Fatal(err)
			}
			staff := vouched(ctx, "mb", "s")
			// An e-mail purpose on legitimate interest: everyone with an
			// address who did not object is a recipient.
			interest := crm.LegalBasisLegitimateInterest
			if _, err := c.Consents.DefinePurpose(staff, crm.NewConsentPurpose{Key: "offers", Name: "Offers", Channel: crm.ChannelEmail, LegalBasis: interest}); err != nil {
				b.Fatal(err)
			}
			if _, err := c.Mail.AddTemplate(staff, "offer", "nl", crm.MailTemplateInput{Subject: "Aanbieding voor {{.Customer.FirstName}}",
				Text: "Beste {{.Customer.DisplayName}},\n\nonze aanbieding.\n\nAfmelden: {{.UnsubscribeLink}}\n"}); err != nil {
				b.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			langs := []string{"nl", "de", "en", "fr", "pl"}
			for start := 0; start < mailingBenchCustomers; start += 1000 {
				rows := make([]customerRow, 0, 1000)
				for i := start; i < start+1000; i++ {
					f := crm.CustomerFields{FirstName: fmt.Sprintf("Klant%d", i), LastName: "Bench", Email: fmt.Sprintf("k%d@example.org", i),
						Language: langs[i%len(langs)], Status: crm.StatusCustomer}
					cu := &crm.Customer{ID: uuid.Must(uuid.NewV7()).String(), OrgID: "mb", Number: int64(i + 1), CustomerFields: f,
						CreatedAt: now, UpdatedAt: now, LastActivityAt: now, Version: 1, SortKey: crm.SortKey("nl", &f)}
					rows = append(rows, *customerToRow(cu))
				}
				if err := insertAll(ctx, st.db, rows); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := st.bun.NewUpdate().Model((*organisationRow)(nil)).Set("next_customer_number = ?", mailingBenchCustomers).Where("id = ?", "mb").Exec(ctx); err != nil {
				b.Fatal(err)
			}
			// On PostgreSQL a bare ANALYZE covers every schema of the database.
			analyze := "ANALYZE"
			if st.Dialect() == "postgres" {
				analyze = "ANALYZE customers, organisations, consent_purposes"
			}
			if _, err := st.bun.ExecContext(ctx, analyze); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				start, cpu := time.Now(), processCPU()
				m, err := c.Mailings.Start(staff, crm.NewMailing{Template: "offer", Purpose: "offers"})
				if err != nil {
					b.Fatal(err)
				}
				for done := false; !done; {
					if done, err = c.Mailings.Continue(staff, m.ID); err != nil {
						b.Fatal(err)
					}
				}
				got, err := c.Mailings.Get(staff, m.ID)
				if err != nil || got.Counts.Queued != mailingBenchCustomers {
					b.Fatalf("queued %+v, %v", got, err)
				}
				b.ReportMetric(float64(mailingBenchCustomers)/time.Since(start).Seconds(), "mails/s")
				// The process's own CPU (on PostgreSQL the server's is not
				// counted): what a loaded machine's waiting does not blur.
				b.ReportMetric(float64(mailingBenchCustomers)/(processCPU()-cpu).Seconds(), "mails/cpu-s")
			}
		})
	}
}
