package store

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/storetest"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoPasswordOrTokenStored runs the portal's secrets through their
// lives (a set-password link, a password, sessions, unsubscribe links,
// mails delivered) with every log line at debug level captured, then scans
// every column of every table and the log: no password in any form but
// its argon2id hash, no session token, and no link secret once its mail
// is delivered. (Until delivery a link's secret is in its mail in the
// outbox: the mail has to carry it.)
func TestNoPasswordOrTokenStored(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var logs lockedBuffer
		c, err := crm.New(db, crm.Config{Blobs: cloudblob.New(memblob.OpenBucket(nil)),
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "sec", Name: "Sec"}); err != nil {
			t.Fatal(err)
		}
		staff := vouched(ctx, "sec", "s")
		cust, err := c.Customers.Create(staff, crm.CustomerFields{LastName: "Geheim", LoginEmail: "g@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Consents.Give(staff, cust.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
		const password = "Zebra-Quartz-Lantern-Ocean-7"
		var secrets []string
		deliverAll := func() {
			page, err := c.Outbox.List(staff, cust.ID, crm.PageRequest{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page.Items {
				if m.Status != crm.OutboxPending {
					continue
				}
				claimed, _, err := c.Outbox.Claim(ctx, "sec", m.ID)
				if err != nil || claimed == nil {
					t.Fatalf("claim: %v", err)
				}
				if err := c.Outbox.Delivered(ctx, claimed); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range 2 {
			if _, err := c.Portal.SendSetPasswordLink(staff, cust.ID); err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, storetest.LinkToken(t, c, staff, cust.ID, "set_password"))
		}
		if err := c.Portal.SetPassword(ctx, secrets[1], password); err != nil {
			t.Fatal(err)
		}
		sign := crm.WithOrg(ctx, "sec")
		if _, _, err := c.Portal.SignIn(sign, "g@example.org", password+"x", crm.PortalClient{}); err == nil {
			t.Fatal("a wrong password signed in")
		}
		for range 2 {
			_, token, err := c.Portal.SignIn(sign, "g@example.org", password, crm.PortalClient{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Portal.Authenticate(ctx, token); err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, token)
		}
		m, err := c.Mailings.Start(staff, crm.NewMailing{Template: crm.TemplateConsentConfirmation, Purpose: crm.PurposeCommercialEmail})
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			if done, err = c.Mailings.Continue(staff, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		unsub := storetest.LinkToken(t, c, staff, cust.ID, "unsubscribe")
		secrets = append(secrets, unsub)
		deliverAll()
		if _, err := c.Mailings.Unsubscribe(ctx, unsub, crm.Evidence{}); err != nil {
			t.Fatal(err)
		}

		// Each secret whole and its random part alone; the password in the
		// cases a careless store might use.
		needles := []string{password, strings.ToLower(password), strings.ToUpper(password)}
		for _, s := range secrets {
			_, random, _ := strings.Cut(s, ".")
			needles = append(needles, s, random)
		}
		hashes := 0
		for table, cols := range columns(t, db) {
			for _, col := range cols {
				var texts []string
				expr := "CAST(" + col + " AS TEXT)"
				if db.Dialect() == "postgres" {
					expr = col + "::text"
				}
				if err := db.bun.NewSelect().TableExpr(table).ColumnExpr(expr).Where(col+" IS NOT NULL").Scan(ctx, &texts); err != nil {
					t.Fatalf("scan %s.%s: %v", table, col, err)
				}
				for _, text := range texts {
					for _, n := range needles {
						if strings.Contains(text, n) {
							t.Errorf("%s.%s holds a secret (%.12s...)", table, col, n)
						}
					}
					if strings.HasPrefix(text, "$argon2id$v=19$m=19456,t=2,p=1$") {
						hashes++
					}
				}
			}
		}
		if hashes != 1 {
			t.Errorf("%d argon2id hashes stored, want the one password's", hashes)
		}
		out := logs.String()
		if out == "" {
			t.Log("no log lines")
		}
		for _, n := range needles {
			if strings.Contains(out, n) {
				t.Errorf("the log holds a secret (%.12s...)", n)
			}
		}
	})
}
