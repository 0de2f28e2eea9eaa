package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestFiles walks an import and an export over HTTP: a preview shows the
// mapping, the upload starts a job, its progress and error file are
// read, and the customers come back out as CSV.
func TestFiles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		data := []byte("Voornaam;Achternaam;E-mailadres\nAnna;Jansen;anna@example.nl\nBert;Bakker;geen-adres\n")
		var pv crm.ImportPreview
		ts.upload("/v1/imports/preview", a, file("klanten.csv", data)).want(t, http.StatusOK).json(t, &pv)
		if pv.Options.Delimiter != ";" || pv.Mapping[2].Key != "email" || len(pv.Rows) != 2 {
			t.Fatalf("preview %+v", pv)
		}
		res := ts.upload("/v1/imports", a, field("mode", "add"), file("klanten.csv", data)).want(t, http.StatusCreated)
		var im crm.FileImport
		res.json(t, &im)
		if im.Status != crm.ImportQueued || res.header.Get("Location") != "/v1/imports/"+im.ID {
			t.Fatalf("started %+v, Location %q", im, res.header.Get("Location"))
		}
		// The background work runs the job; here the test does.
		if _, err := ts.crm.Imports.Run(crm.WithOrg(t.Context(), "org-a"), im.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		ts.do("GET", "/v1/imports/"+im.ID, a, nil).want(t, http.StatusOK).json(t, &im)
		if im.Status != crm.ImportDone || im.Created != 1 || im.Refused != 1 || im.Rows != 2 {
			t.Fatalf("import %+v", im)
		}
		errs := ts.do("GET", "/v1/imports/"+im.ID+"/report?errors=true", a, nil).want(t, http.StatusOK)
		if !strings.HasPrefix(errs.header.Get("Content-Type"), "text/csv") || !bytes.Contains(errs.body, []byte("Bert;Bakker")) &&
			!bytes.Contains(errs.body, []byte("Bert,Bakker,geen-adres")) {
			t.Fatalf("error file %q", errs.body)
		}
		ts.do("POST", "/v1/imports/"+im.ID+"/cancel", a, nil).wantProblem(t, http.StatusConflict)
		out := ts.do("POST", "/v1/exports", a, map[string]any{"columns": []string{"number", "firstName", "email"}}).want(t, http.StatusOK)
		if got := strings.TrimPrefix(string(out.body), "\uFEFF"); got != "Klantnummer,Voornaam,E-mailadres\n1,Anna,anna@example.nl\n" ||
			!strings.Contains(out.header.Get("Content-Disposition"), "customers.csv") {
			t.Fatalf("export %q %v", got, out.header)
		}
		var recs crm.Page[crm.ExportRecord]
		ts.do("GET", "/v1/exports", a, nil).want(t, http.StatusOK).json(t, &recs)
		if len(recs.Items) != 1 || recs.Items[0].Rows != 1 || recs.Items[0].Actor != crm.Staff("staff-org-a") {
			t.Fatalf("records %+v", recs.Items)
		}
		var rev crm.ImportRevertResult
		ts.do("POST", "/v1/imports/"+im.ID+"/revert", a, nil).want(t, http.StatusOK).json(t, &rev)
		if rev.Removed != 1 {
			t.Fatalf("revert %+v", rev)
		}
	})
}
