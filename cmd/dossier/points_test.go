package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// TestServePointsExpiry checks that serve expires points past their date
// on its interval, as the system, in organisations with points on only.
func TestServePointsExpiry(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		dossier(t, "migrate", "--db", dsn).wantCode(t, 0)
		c := openCRMForTest(t, dsn)
		ctx := context.Background()
		yesterday := crm.DateOf(time.Now().AddDate(0, 0, -2))
		award := func(org string, enabled bool) string {
			t.Helper()
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org, PointsEnabled: true}); err != nil {
				t.Fatal(err)
			}
			octx := crm.WithActor(crm.WithOrg(ctx, org), crm.Staff(crm.AdministratorID))
			cust, err := c.Customers.Create(octx, crm.CustomerFields{FirstName: "Points"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Points.Award(octx, cust.ID, crm.PointInput{Points: 40, ExpiresOn: &yesterday}); err != nil {
				t.Fatal(err)
			}
			if !enabled {
				if _, err := c.Organisations.Update(ctx, org, crm.OrganisationPatch{PointsEnabled: new(bool)}); err != nil {
					t.Fatal(err)
				}
			}
			return cust.ID
		}
		on, off := award("acme", true), award("beta", false)

		srv := startServer(t, "--db", dsn, "--retention-every", "0", "--points-expiry-every", "1s")
		first := regexp.MustCompile(`msg="points expired" org=acme customers=1 points=40`)
		deadline := time.Now().Add(30 * time.Second)
		for !first.MatchString(srv.stderr.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("serve did not expire points:\n%s", srv.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(150 * time.Millisecond) // later runs find nothing more to expire
		if code := srv.shutdown(t); code != 0 {
			t.Fatalf("serve exited with %d\nstderr:\n%s", code, srv.stderr)
		}
		if n := strings.Count(srv.stderr.String(), `msg="points expired"`); n != 1 {
			t.Errorf("points expired %d times, want once:\n%s", n, srv.stderr)
		}
		octx := crm.WithOrg(ctx, "acme")
		ledger, err := c.Points.Ledger(octx, on, crm.PageRequest{})
		if err != nil || len(ledger.Items) != 2 || ledger.Items[0].Kind != crm.PointsExpire || ledger.Items[0].Actor != crm.System() {
			t.Fatalf("ledger after the run: %+v, %v", ledger.Items, err)
		}
		// beta has points off: its ledger stays as it was.
		if _, err := c.Organisations.Update(ctx, "beta", crm.OrganisationPatch{PointsEnabled: ptrTo(true)}); err != nil {
			t.Fatal(err)
		}
		if l, err := c.Points.Ledger(crm.WithOrg(ctx, "beta"), off, crm.PageRequest{}); err != nil || len(l.Items) != 1 {
			t.Fatalf("beta's ledger: %+v, %v", l.Items, err)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
