package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestExportAndAnonymise exports a customer as JSON and zip for staff and
// for the customer, then anonymises it: no old name, address or phone
// finds it again, and it can no longer be changed.
func TestExportAndAnonymise(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		var c crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"firstName": "Zoë", "lastName": "Vermeulen", "loginEmail": "zoe@example.nl",
			"altEmails": []string{"zoe.werk@example.nl"}, "phones": []map[string]any{{"number": "06 1234 5678"}},
			"internalDescription": "Always late", "assignedTo": "u-17"}).want(t, http.StatusCreated).json(t, &c)
		var tags struct{ Items []crm.Qualifier }
		ts.do("GET", "/v1/tags", key, nil).want(t, http.StatusOK).json(t, &tags)
		ts.do("POST", "/v1/customers/"+c.ID+"/tags", key, map[string]any{"ids": []string{tags.Items[0].ID}}).want(t, http.StatusOK)
		ts.do("POST", "/v1/customers/"+c.ID+"/consents", key, map[string]any{"purpose": "newsletter", "state": "granted", "source": "staff",
			"ip": "192.0.2.7", "userAgent": "Firefox"}).want(t, http.StatusCreated)

		export := func(query string) (crm.CustomerExport, response) {
			t.Helper()
			res := ts.do("GET", "/v1/customers/"+c.ID+"/export"+query, key, nil).want(t, http.StatusOK)
			if res.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("export without Cache-Control: no-store: %v", res.header)
			}
			var e crm.CustomerExport
			if strings.Contains(query, "format=zip") {
				return e, res
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" || res.header.Get("Content-Disposition") != "" {
				t.Fatalf("JSON export headers %v", res.header)
			}
			res.json(t, &e)
			return e, res
		}

		// JSON for staff: everything.
		staff, res := export("")
		if staff.Audience != crm.ExportStaff || staff.Customer.ID != c.ID || staff.Customer.InternalDescription != "Always late" ||
			staff.Organisation.Name != "Reisbureau A" || len(staff.Tags) != 1 || len(staff.ConsentLog) != 1 ||
			staff.ConsentLog[0].IP != "192.0.2.7" || len(staff.Consents) != 6 || len(staff.History) < 3 ||
			staff.History[0].Kind != crm.EventCustomerCreated || staff.History[0].Actor != crm.Staff("staff-org-a") {
			t.Fatalf("staff export %s", res.body)
		}
		// JSON for the customer: without what only staff see.
		own, res := export("?audience=customer&format=json")
		if own.Audience != crm.ExportCustomer || own.Customer.InternalDescription != "" || own.Customer.AssignedTo != "" ||
			own.History[0].Actor != (crm.Actor{Kind: crm.ActorStaff}) || own.ConsentLog[0].Actor.ID != "" ||
			strings.Contains(string(res.body), "Always late") || strings.Contains(string(res.body), "staff-org-a") {
			t.Fatalf("customer export %s", res.body)
		}

		// Zip: one CSV per section and the document, as an attachment named by number.
		_, res = export("?format=zip&audience=staff")
		if ct := res.header.Get("Content-Type"); ct != "application/zip" {
			t.Fatalf("zip content type %q", ct)
		}
		if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, `filename="customer-1-`) {
			t.Fatalf("zip disposition %q", cd)
		}
		zr, err := zip.NewReader(bytes.NewReader(res.body), int64(len(res.body)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"customer.csv", "phones.csv", "alt_emails.csv", "tags.csv", "consents.csv", "consent_log.csv", "history.csv", "export.json"} {
			if _, ok := files[name]; !ok {
				t.Fatalf("zip without %s: %v", name, slices.Sorted(maps.Keys(files)))
			}
		}
		rows, err := csv.NewReader(bytes.NewReader(files["customer.csv"])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rows, func(r []string) bool { return r[0] == "lastName" && r[1] == "Vermeulen" }) ||
			!slices.ContainsFunc(rows, func(r []string) bool { return r[0] == "internalDescription" && r[1] == "Always late" }) {
			t.Fatalf("customer.csv %q", rows)
		}
		logRows, err := csv.NewReader(bytes.NewReader(files["consent_log.csv"])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(logRows) != 2 || logRows[1][1] != "newsletter" || logRows[1][8] != "192.0.2.7" {
			t.Fatalf("consent_log.csv %q", logRows)
		}
		var inZip crm.CustomerExport
		if err := json.Unmarshal(files["export.json"], &inZip); err != nil || inZip.Customer.ID != c.ID || inZip.Audience != crm.ExportStaff {
			t.Fatalf("export.json %v %s", err, files["export.json"])
		}

		// Anonymise: the shell keeps id and number; twice changes nothing.
		res = ts.do("POST", "/v1/customers/"+c.ID+"/anonymise", key, nil).want(t, http.StatusOK)
		var shell crm.Customer
		res.json(t, &shell)
		if shell.ID != c.ID || shell.Number != c.Number || shell.AnonymisedAt == nil || shell.LastName != "" || shell.FirstName != "" ||
			shell.LoginEmail != "" || len(shell.Phones) != 0 || len(shell.AltEmails) != 0 || shell.InternalDescription != "" ||
			res.header.Get("ETag") != etagOf(shell.Version) {
			t.Fatalf("anonymised %s (ETag %s)", res.body, res.header.Get("ETag"))
		}
		var again crm.Customer
		ts.do("POST", "/v1/customers/"+c.ID+"/anonymise", key, nil).want(t, http.StatusOK).json(t, &again)
		if again.Version != shell.Version || !again.AnonymisedAt.Equal(*shell.AnonymisedAt) {
			t.Fatalf("anonymising again changed %+v into %+v", shell, again)
		}
		for _, q := range []string{"name=vermeulen", "name=zoe", "nameContains=meul", "email=zoe%40example.nl", "email=zoe.werk%40example.nl",
			"phone=" + url.QueryEscape("+31612345678")} {
			var page crm.Page[crm.Customer]
			ts.do("GET", "/v1/customers?"+q, key, nil).want(t, http.StatusOK).json(t, &page)
			if len(page.Items) != 0 {
				t.Fatalf("?%s still finds the anonymised customer", q)
			}
		}
		ts.do("PATCH", "/v1/customers/"+c.ID, key, map[string]any{"lastName": "Vermeulen"}, "If-Match", etagOf(shell.Version)).
			wantProblem(t, http.StatusConflict)
		ts.do("POST", "/v1/customers/"+c.ID+"/consents", key, map[string]any{"purpose": "newsletter", "state": "withdrawn", "source": "staff"}).
			wantProblem(t, http.StatusConflict)

		// The export of the shell: the consent log adds up, without its evidence.
		after, res := export("")
		if after.Customer.AnonymisedAt == nil || len(after.ConsentLog) != 1 || after.ConsentLog[0].IP != "" || after.ConsentLog[0].UserAgent != "" ||
			strings.Contains(string(res.body), "Vermeulen") || strings.Contains(string(res.body), "zoe") {
			t.Fatalf("export after anonymising %s", res.body)
		}
	})
}

// etagOf is the ETag of a version.
func etagOf(version int) string { return `"` + strconv.Itoa(version) + `"` }

// TestRetention sets a retention policy and dry-runs it: the idle customer
// is selected, the one with an excluded consent and the active one are not,
// and nobody is anonymised.
func TestRetention(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		var policy crm.RetentionPolicy
		res := ts.do("GET", "/v1/retention", key, nil).want(t, http.StatusOK)
		res.json(t, &policy)
		if policy.Enabled || policy.InactiveDays != 0 || !strings.Contains(string(res.body), `"excludePurposes":[]`) {
			t.Fatalf("default policy %s", res.body)
		}

		// Two customers idle for 100 days (one with the newsletter granted), one active.
		then, err := crm.New(ts.db, crm.Config{Clock: func() time.Time { return time.Now().AddDate(0, 0, -100) }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.Staff("staff-org-a"))
		idle, err := then.Customers.Create(ctx, crm.CustomerFields{LastName: "Idle"})
		if err != nil {
			t.Fatal(err)
		}
		subscriber, err := then.Customers.Create(ctx, crm.CustomerFields{LastName: "Subscriber"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := then.Consents.Give(ctx, subscriber.ID, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Active"}).want(t, http.StatusCreated)

		// A disabled policy selects nobody.
		var report crm.RetentionReport
		ts.do("POST", "/v1/retention/dry-run", key, nil).want(t, http.StatusOK).json(t, &report)
		if report.Enabled || !report.DryRun || len(report.Customers) != 0 || report.Organisation != "org-a" {
			t.Fatalf("dry run without a policy %+v", report)
		}

		ts.do("PUT", "/v1/retention", key, map[string]any{"enabled": true, "inactiveDays": 30, "excludePurposes": []string{"newsletter", "newsletter"}}).
			want(t, http.StatusOK).json(t, &policy)
		if !policy.Enabled || policy.InactiveDays != 30 || !slices.Equal(policy.ExcludePurposes, []string{"newsletter"}) || policy.UpdatedAt.IsZero() {
			t.Fatalf("stored policy %+v", policy)
		}
		var read crm.RetentionPolicy
		ts.do("GET", "/v1/retention", key, nil).want(t, http.StatusOK).json(t, &read)
		if !read.UpdatedAt.Equal(policy.UpdatedAt) || read.InactiveDays != 30 || !slices.Equal(read.ExcludePurposes, policy.ExcludePurposes) {
			t.Fatalf("read policy %+v, stored %+v", read, policy)
		}

		ts.do("POST", "/v1/retention/dry-run", key, nil).want(t, http.StatusOK).json(t, &report)
		if !report.Enabled || !report.DryRun || report.Anonymised != 0 || len(report.Customers) != 1 || report.Customers[0].ID != idle.ID ||
			report.Customers[0].Number != idle.Number || time.Since(report.InactiveBefore) < 29*24*time.Hour {
			t.Fatalf("dry run %+v", report)
		}
		var still crm.Customer
		ts.do("GET", "/v1/customers/"+idle.ID, key, nil).want(t, http.StatusOK).json(t, &still)
		if still.AnonymisedAt != nil || still.LastName != "Idle" {
			t.Fatalf("a dry run anonymised %+v", still)
		}

		// Without the exclusion the subscriber is selected too.
		ts.do("PUT", "/v1/retention", key, map[string]any{"enabled": true, "inactiveDays": 30}).want(t, http.StatusOK)
		ts.do("POST", "/v1/retention/dry-run", key, nil).want(t, http.StatusOK).json(t, &report)
		if len(report.Customers) != 2 || report.Customers[0].ID != idle.ID || report.Customers[1].ID != subscriber.ID {
			t.Fatalf("dry run without exclusions %+v", report)
		}
	})
}
