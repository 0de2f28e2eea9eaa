package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

func TestMerges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a, b := ts.keyA, ts.keyB
		var surv, dup crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"firstName": "Anna", "lastName": "Muller"}).want(t, http.StatusCreated).json(t, &surv)
		ts.do("POST", "/v1/customers", a, map[string]any{"firstName": "Anna", "lastName": "Müller", "company": "Müller GmbH"}).
			want(t, http.StatusCreated).json(t, &dup)

		var cands []crm.DuplicateCandidate
		ts.do("GET", "/v1/customers/"+surv.ID+"/possible-duplicates", a, nil).want(t, http.StatusOK).json(t, &cands)

		// Candidates: checked in the background after the change (here
		// by hand), listed best first; dismissed, never back.
		var twin, twin2 crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Twin", "email": "twin@example.org"}).want(t, http.StatusCreated).json(t, &twin)
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Twin 2", "altEmails": []string{"TWIN@example.org"}}).
			want(t, http.StatusCreated).json(t, &twin2)
		actx := crm.WithActor(crm.WithOrg(context.Background(), "org-a"), crm.System())
		if err := ts.crm.Merges.CheckDuplicates(actx, twin.ID, twin2.ID); err != nil {
			t.Fatal(err)
		}
		var page crm.Page[crm.DuplicatePair]
		ts.do("GET", "/v1/duplicates?limit=10", a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].Score != 40 || page.Items[0].Reasons[0] != crm.ReasonSameEmail {
			t.Fatalf("candidates %+v", page)
		}
		ts.do("GET", "/v1/duplicates", b, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("organisation B's candidates %+v", page)
		}
		ts.do("GET", "/v1/duplicates?cursor=%FF%00", a, nil).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("GET", "/v1/duplicates?limit=0", a, nil).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("GET", "/v1/duplicates?limit=501", a, nil).wantProblem(t, http.StatusUnprocessableEntity)
		dismiss := "/v1/customers/" + twin.ID + "/duplicate-dismissals"
		ts.do("POST", dismiss, b, map[string]any{"otherCustomerId": twin2.ID}).wantProblem(t, http.StatusNotFound)
		ts.do("POST", dismiss, a, map[string]any{"otherCustomerId": twin.ID}).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("POST", dismiss, a, map[string]any{"otherCustomerId": "\u0000"}).wantProblem(t, http.StatusNotFound)
		ts.do("POST", dismiss, a, "{\"otherCustomerId\": \"\xff\"}").wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("POST", dismiss, a, map[string]any{"otherCustomerId": twin2.ID}).want(t, http.StatusNoContent)
		ts.do("POST", dismiss, a, map[string]any{"otherCustomerId": twin2.ID}).want(t, http.StatusNoContent)
		if err := ts.crm.Merges.CheckDuplicates(actx, twin.ID, twin2.ID); err != nil {
			t.Fatal(err)
		}
		ts.do("GET", "/v1/duplicates", a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("candidates after the dismissal %+v", page)
		}
		ts.do("GET", "/v1/customers/%FF/possible-duplicates", a, nil).wantProblem(t, http.StatusNotFound)
		// Bad input and isolation.
		ts.do("GET", "/v1/customers/"+surv.ID+"/merge-preview?duplicate="+dup.ID+"&take=nonsense", a, nil).
			wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("GET", "/v1/customers/"+surv.ID+"/merge-preview?duplicate="+surv.ID, a, nil).wantProblem(t, http.StatusConflict)
		ts.do("GET", "/v1/customers/"+surv.ID+"/merge-preview?duplicate=%FF%00", a, nil).wantProblem(t, http.StatusNotFound)
		ts.do("GET", "/v1/customers/"+surv.ID+"/merge-preview?duplicate="+dup.ID, b, nil).wantProblem(t, http.StatusNotFound)
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", b, map[string]any{"duplicateId": dup.ID, "survivorVersion": 1, "duplicateVersion": 1}).
			wantProblem(t, http.StatusNotFound)
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", a, map[string]any{"duplicateId": dup.ID}).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", a, "{\"duplicateId\": \"\xff\"}").wantProblem(t, http.StatusUnprocessableEntity)

		var p crm.MergePreview
		ts.do("GET", "/v1/customers/"+surv.ID+"/merge-preview?duplicate="+dup.ID+"&take=company", a, nil).want(t, http.StatusOK).json(t, &p)
		if p.Duplicate.Version != dup.Version || p.Blocked != nil || len(p.Fields) == 0 {
			t.Fatalf("preview %+v", p)
		}
		// A stale version is 412.
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", a, map[string]any{"duplicateId": dup.ID,
			"survivorVersion": p.Survivor.Version + 1, "duplicateVersion": p.Duplicate.Version}).wantProblem(t, http.StatusPreconditionFailed)
		var got crm.Customer
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", a, map[string]any{"duplicateId": dup.ID,
			"survivorVersion": p.Survivor.Version, "duplicateVersion": p.Duplicate.Version, "takeFromDuplicate": []string{"company"}}).
			want(t, http.StatusOK).json(t, &got)
		if got.ID != surv.ID || got.Company != "Müller GmbH" {
			t.Fatalf("merged %+v", got)
		}
		// The merged customer's URLs answer 308 to the survivor's.
		ts.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		r := ts.do("GET", "/v1/customers/"+dup.ID, a, nil).want(t, http.StatusPermanentRedirect)
		if loc := r.header.Get("Location"); loc != "/v1/customers/"+surv.ID {
			t.Fatalf("location %q", loc)
		}
		r = ts.do("GET", fmt.Sprintf("/v1/customer-numbers/%d", dup.Number), a, nil).want(t, http.StatusPermanentRedirect)
		if loc := r.header.Get("Location"); loc != "/v1/customers/"+surv.ID {
			t.Fatalf("location %q", loc)
		}
		ts.do("GET", "/v1/customers/"+dup.ID, b, nil).wantProblem(t, http.StatusNotFound)
		// So do its sub-resources, reads and writes.
		for _, sub := range []string{"/bookings", "/history", "/notes", "/labels", "/consents", "/tags", "/possible-duplicates"} {
			r = ts.do("GET", "/v1/customers/"+dup.ID+sub, a, nil).want(t, http.StatusPermanentRedirect)
			if loc := r.header.Get("Location"); loc != "/v1/customers/"+surv.ID+sub {
				t.Fatalf("%s: location %q", sub, loc)
			}
			ts.do("GET", "/v1/customers/"+dup.ID+sub, b, nil).wantProblem(t, http.StatusNotFound)
		}
		r = ts.do("POST", "/v1/customers/"+dup.ID+"/notes", a, map[string]any{"typeId": "phone_call", "text": "hello"}).
			want(t, http.StatusPermanentRedirect)
		if loc := r.header.Get("Location"); loc != "/v1/customers/"+surv.ID+"/notes" {
			t.Fatalf("location %q", loc)
		}
		// Merging it again is a conflict.
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", a, map[string]any{"duplicateId": dup.ID,
			"survivorVersion": got.Version, "duplicateVersion": p.Duplicate.Version}).wantProblem(t, http.StatusConflict)
	})
}
