package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestReportsEqualSQL generates a customer base (origins, languages,
// statuses, creation over eighteen months, tags, attributes, consents,
// points) and checks every report, over all customers, a filter, a
// segment and a period, against counts written directly in SQL.
func TestReportsEqualSQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		ctx := context.Background()
		now := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
		c, err := crm.New(st, crm.Config{Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		for _, org := range []string{"rep-a", "rep-b"} {
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org, DefaultLanguage: "pl", DefaultCountry: "PL"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Organisations.Update(crm.WithActor(crm.WithOrg(ctx, org), crm.System()), org, crm.OrganisationPatch{PointsEnabled: ptr(true)}); err != nil {
				t.Fatal(err)
			}
		}
		a := crm.WithActor(crm.WithOrg(ctx, "rep-a"), crm.Staff(crm.AdministratorID))
		b := crm.WithActor(crm.WithOrg(ctx, "rep-b"), crm.Staff(crm.AdministratorID))
		tags, _ := c.Tags.List(a)
		var attrs []string
		for i := range 3 {
			q, err := c.Attributes.Define(a, crm.NewQualifier{Name: fmt.Sprintf("Interest %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			attrs = append(attrs, q.ID)
		}
		r := rand.New(rand.NewPCG(1, 2))
		origins := []string{"", "website", "fair 2025", "friend"}
		languages := []string{"pl", "en", "de", "nl-BE"}
		statuses := []crm.CustomerStatus{crm.StatusLead, crm.StatusProspect, crm.StatusCustomer, crm.StatusInactive}
		start := time.Date(2024, 7, 3, 12, 0, 0, 0, time.UTC)
		for i := range 240 {
			now = start.Add(time.Duration(i) * 55 * time.Hour) // about eighteen months
			cust, err := c.Customers.Create(a, crm.CustomerFields{FirstName: "K" + strconv.Itoa(i), LastName: "Nowak",
				Origin: origins[r.IntN(len(origins))], Language: languages[r.IntN(len(languages))], Status: statuses[r.IntN(len(statuses))]})
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range tags {
				if r.IntN(4) == 0 {
					if _, err := c.Tags.Add(a, cust.ID, tg.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, at := range attrs {
				if r.IntN(3) == 0 {
					if _, err := c.Attributes.Add(a, cust.ID, at); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, p := range []string{crm.PurposeNewsletter, crm.PurposeSMS} {
				switch r.IntN(3) {
				case 1:
					_, err = c.Consents.Give(a, cust.ID, crm.ConsentInput{Purpose: p, Source: crm.SourceStaff})
				case 2:
					_, err = c.Consents.Withdraw(a, cust.ID, crm.ConsentInput{Purpose: p, Source: crm.SourceStaff})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if r.IntN(2) == 0 {
				exp := crm.DateOf(now.AddDate(0, r.IntN(30), 0))
				in := crm.PointInput{Points: int64(10 + r.IntN(90))}
				if r.IntN(3) > 0 {
					in.ExpiresOn = &exp
				}
				if _, err := c.Points.Award(a, cust.ID, in); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The other organisation's customers must never be counted.
		for i := range 20 {
			other, err := c.Customers.Create(b, crm.CustomerFields{FirstName: "B" + strconv.Itoa(i), Origin: "website", Language: "pl"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Points.Award(b, other.ID, crm.PointInput{Points: 1000}); err != nil {
				t.Fatal(err)
			}
		}
		now = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
		today := crm.DateOf(now)

		db := st.SQLDB()
		count := func(query string, args ...any) int64 {
			t.Helper()
			var n sql.NullInt64
			if err := db.QueryRowContext(ctx, placeholders(st, query), args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return n.Int64
		}
		vip := tags[len(tags)-1]
		seg, err := c.Segments.Create(a, crm.NewSegment{Name: "vip", Filter: crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{vip.ID}}}})
		if err != nil {
			t.Fatal(err)
		}
		from, to := crm.MustDate("2025-02-01"), crm.MustDate("2025-09-30")
		cases := []struct {
			name   string
			params crm.ReportParams
			where  string // SQL over customers AS c
			args   []any
		}{
			{"all", crm.ReportParams{}, "", nil},
			{"language and status", crm.ReportParams{Filter: crm.CustomerFilter{Language: "nl", Status: crm.StatusCustomer}},
				" AND c.language IN ('nl', 'nl-BE') AND c.status = 'customer'", nil},
			{"segment", crm.ReportParams{Segment: seg.ID},
				" AND c.id IN (SELECT customer_id FROM customer_qualifiers WHERE org_id = 'rep-a' AND qualifier_id = ?)", []any{vip.ID}},
			{"period", crm.ReportParams{From: &from, To: &to},
				" AND c.created_at >= ? AND c.created_at < ?", []any{from.Time(), to.Time().AddDate(0, 0, 1)}},
			// A period and a filter together: reports write the period's
			// bounds apart from the filter's (see store's reportFilter).
			{"segment over a period", crm.ReportParams{Segment: seg.ID, From: &from, To: &to},
				" AND c.id IN (SELECT customer_id FROM customer_qualifiers WHERE org_id = 'rep-a' AND qualifier_id = ?) AND c.created_at >= ? AND c.created_at < ?",
				[]any{vip.ID, from.Time(), to.Time().AddDate(0, 0, 1)}},
			{"status over a period", crm.ReportParams{Filter: crm.CustomerFilter{Status: crm.StatusCustomer}, From: &from, To: &to},
				" AND c.status = 'customer' AND c.created_at >= ? AND c.created_at < ?", []any{from.Time(), to.Time().AddDate(0, 0, 1)}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				base := "FROM customers AS c WHERE c.org_id = 'rep-a'" + tc.where
				run := func(kind crm.ReportKind) *crm.Report {
					t.Helper()
					rep, err := c.Reports.Run(a, kind, tc.params)
					if err != nil {
						t.Fatalf("%s: %v", kind, err)
					}
					return rep
				}
				total := count("SELECT count(*) "+base, tc.args...)
				if total == 0 {
					t.Fatal("the case selects no customer")
				}
				rep := run(crm.ReportNewCustomers)
				if got := rep.Total(0); got != total {
					t.Errorf("new customers total %d, SQL %d", got, total)
				}
				for _, row := range rep.Rows {
					month, _ := time.Parse("2006-01", row.Labels[0])
					want := count("SELECT count(*) "+base+" AND c.origin = ? AND c.created_at >= ? AND c.created_at < ?",
						append(append([]any{}, tc.args...), row.Labels[1], month, month.AddDate(0, 1, 0))...)
					if row.Values[0] != want {
						t.Errorf("new customers %v = %d, SQL %d", row.Labels, row.Values[0], want)
					}
				}
				for kind, col := range map[crm.ReportKind]string{crm.ReportLanguages: "language", crm.ReportStatuses: "status"} {
					rep := run(kind)
					if got := rep.Total(0); got != total {
						t.Errorf("%s total %d, SQL %d", kind, got, total)
					}
					for _, row := range rep.Rows {
						if want := count("SELECT count(*) "+base+" AND c."+col+" = ?", append(append([]any{}, tc.args...), row.Labels[0])...); row.Values[0] != want {
							t.Errorf("%s %v = %d, SQL %d", kind, row.Labels, row.Values[0], want)
						}
					}
				}
				rep = run(crm.ReportConsents)
				if len(rep.Rows) == 0 {
					t.Fatal("no consent rows")
				}
				for _, row := range rep.Rows {
					for i, state := range []string{"granted", "withdrawn"} {
						want := count("SELECT count(*) "+base+" AND c.id IN (SELECT cc.customer_id FROM customer_consents AS cc "+
							"JOIN consent_purposes AS p ON p.org_id = cc.org_id AND p.id = cc.purpose_id WHERE cc.org_id = 'rep-a' AND p.key = ? AND cc.state = ?)",
							append(append([]any{}, tc.args...), row.Labels[0], state)...)
						if row.Values[1+i] != want {
							t.Errorf("consents %s %s = %d, SQL %d", row.Labels[0], state, row.Values[1+i], want)
						}
					}
					if row.Values[0] != total || row.Values[3] != total-row.Values[1]-row.Values[2] {
						t.Errorf("consents %s: %v of %d", row.Labels[0], row.Values, total)
					}
				}
				for kind, qk := range map[crm.ReportKind]crm.QualifierKind{crm.ReportTags: crm.KindTag, crm.ReportAttributes: crm.KindAttribute} {
					rep := run(kind)
					want := count("SELECT count(*) FROM qualifiers WHERE org_id = 'rep-a' AND kind = ?", string(qk))
					if int64(len(rep.Rows)) != want {
						t.Errorf("%s: %d rows, %d definitions", kind, len(rep.Rows), want)
					}
					for _, row := range rep.Rows {
						want := count("SELECT count(*) "+base+" AND c.id IN (SELECT customer_id FROM customer_qualifiers WHERE org_id = 'rep-a' AND qualifier_id = ?)",
							append(append([]any{}, tc.args...), row.Labels[0])...)
						if row.Values[0] != want {
							t.Errorf("%s %v = %d, SQL %d", kind, row.Labels, row.Values[0], want)
						}
					}
				}
				rep = run(crm.ReportPoints)
				lots := " FROM point_lots AS pl WHERE pl.org_id = 'rep-a' AND pl.remaining > 0 AND (pl.expires_on IS NULL OR pl.expires_on >= ?)" +
					" AND pl.customer_id IN (SELECT c.id " + base + ")"
				largs := append([]any{today.String()}, tc.args...)
				if got, want := rep.Total(0), count("SELECT sum(pl.remaining)"+lots, largs...); got != want || got == 0 {
					t.Errorf("points outstanding %d, SQL %d", got, want)
				}
				for _, row := range rep.Rows {
					cond, args := " AND pl.expires_on IS NULL", largs
					if row.Labels[0] != "" {
						m, _ := time.Parse("2006-01", row.Labels[0])
						cond, args = " AND pl.expires_on >= ? AND pl.expires_on < ?", append(append([]any{}, largs...), m.Format(time.DateOnly), m.AddDate(0, 1, 0).Format(time.DateOnly))
					}
					// The customer filter's arguments come last in lots.
					q := "SELECT sum(pl.remaining)" + strings.Replace(lots, " AND pl.customer_id", cond+" AND pl.customer_id", 1)
					args = append(append([]any{largs[0]}, args[len(largs):]...), largs[1:]...)
					if want := count(q, args...); row.Values[0] != want {
						t.Errorf("points expiring %q = %d, SQL %d", row.Labels[0], row.Values[0], want)
					}
					if want := count(strings.Replace(q, "sum(pl.remaining)", "count(DISTINCT pl.customer_id)", 1), args...); row.Values[1] != want {
						t.Errorf("point holders %q = %d, SQL %d", row.Labels[0], row.Values[1], want)
					}
				}
			})
		}
	})
}

// placeholders turns ? into $n for PostgreSQL.
func placeholders(st *store.DB, query string) string {
	if st.Dialect() != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
