package httpapi_test

import (
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
		// Merging it again is a conflict.
		ts.do("POST", "/v1/customers/"+surv.ID+"/merge", a, map[string]any{"duplicateId": dup.ID,
			"survivorVersion": got.Version, "duplicateVersion": p.Duplicate.Version}).wantProblem(t, http.StatusConflict)
	})
}
