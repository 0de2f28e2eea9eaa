package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testMatchPresent: the store says which of a batch's keys some customer
// of the organisation has, and nothing of another organisation's.
func testMatchPresent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	a := e.create(e.a, crm.CustomerFields{LastName: "Jansen", Email: "Anna@Example.nl", AltEmails: []string{"anna.werk@example.nl"},
		Phones: []crm.Phone{{Number: "+31611111111"}}})
	login := e.create(e.a, crm.CustomerFields{LastName: "Bakker", LoginEmail: "bert@example.nl"})
	b := e.create(e.b, crm.CustomerFields{LastName: "Other", Email: "b-only@example.nl", Phones: []crm.Phone{{Number: "+31622222222"}}})
	probe := crm.MatchProbe{
		IDs:       []string{a.ID, b.ID, "01900000-0000-7000-8000-000000000000"},
		Numbers:   []int64{a.Number, login.Number, 999},
		EmailKeys: []string{crm.EmailKey("anna@example.nl"), crm.EmailKey("anna.werk@example.nl"), crm.EmailKey("bert@example.nl"), crm.EmailKey("b-only@example.nl"), "nobody@example.nl"},
		Phones:    []string{"+31611111111", "+31622222222", "+31600000000"},
	}
	err := e.store.InTx(e.a, func(tx crm.Store) error {
		got, err := tx.MatchPresent(e.a, orgA, probe)
		if err != nil {
			return err
		}
		for _, s := range [][]string{got.IDs, got.EmailKeys, got.Phones} {
			slices.Sort(s)
		}
		slices.Sort(got.Numbers)
		want := crm.MatchProbe{IDs: []string{a.ID}, Numbers: []int64{a.Number, login.Number},
			EmailKeys: []string{"anna.werk@example.nl", "anna@example.nl", "bert@example.nl"}, Phones: []string{"+31611111111"}}
		if !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Numbers, want.Numbers) || !slices.Equal(got.EmailKeys, want.EmailKeys) || !slices.Equal(got.Phones, want.Phones) {
			t.Errorf("MatchPresent = %+v, want %+v", got, want)
		}
		empty, err := tx.MatchPresent(e.a, orgA, crm.MatchProbe{})
		if err != nil || len(empty.IDs)+len(empty.Numbers)+len(empty.EmailKeys)+len(empty.Phones) != 0 {
			t.Errorf("empty probe: %+v, %v", empty, err)
		}
		// Locking many keys at once (one statement on PostgreSQL).
		return tx.MatchLock(e.a, orgA, crm.MatchKeys{EmailKeys: probe.EmailKeys, Phones: probe.Phones})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testImportBatchMatching: an import matches a batch's rows at once, and
// still finds what the batch's own earlier rows made or changed: a row
// with a phone number an earlier row of the same batch gave an existing
// customer updates that customer, a row naming a customer the batch made
// (by e-mail) updates it, and rows of people nobody knows are created.
func testImportBatchMatching(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	anna := e.create(e.a, crm.CustomerFields{LastName: "Jansen", Email: "anna@example.nl"})
	file := "Voornaam;Achternaam;E-mailadres;Telefoon\n" +
		"Anna;Jansen;anna@example.nl;06 1111 1111\n" + // updates Anna, adds the phone
		"Nieuw;Een;een@example.nl;\n" + // created
		";Jansen;;06 1111 1111\n" + // Anna again, by the phone the first row gave her
		"Nieuw;Twee;twee@example.nl;06 3333 3333\n" + // created
		"Twee;;TWEE@example.nl;\n" // the customer row 5 made
	im := e.runImport(e.a, file, crm.NewImport{Mode: crm.ImportUpsert})
	got := outcomes(e.report(e.a, im.ID, false))
	want := []string{"2 updated ", "3 created ", "4 skipped nothing to change", "5 created ", "6 updated "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("outcomes %q, want %q", got, want)
	}
	if all := e.list(e.a, crm.CustomerFilter{}); len(all) != 3 {
		t.Fatalf("%d customers, want 3", len(all))
	}
	a, err := e.crm.Customers.Get(e.a, anna.ID)
	if err != nil || len(a.Phones) != 1 || a.Phones[0].Number != "+31611111111" {
		t.Fatalf("Anna %+v, %v", a, err)
	}
	// Another organisation's customers are not matched.
	im = e.runImport(e.b, file, crm.NewImport{Mode: crm.ImportAdd})
	if im.Created != 3 || im.Skipped != 2 {
		t.Fatalf("B: %+v", im)
	}
}

// testImportAnonymise: anonymising a customer an import made or changed
// empties the cells of its rows in the import's report; other rows keep
// theirs, and the report still counts every row.
func testImportAnonymise(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	bert := e.create(e.a, crm.CustomerFields{LastName: "Bakker", Email: "bert@example.nl"})
	// Filler rows first: the three are in the import's second batch.
	var b strings.Builder
	b.WriteString("Voornaam;Achternaam;E-mailadres\n")
	for i := range testImportBatch + 20 {
		fmt.Fprintf(&b, "F%d;L%d;f%d@example.nl\n", i, i, i)
	}
	b.WriteString("Anna;Jansen;anna@example.nl\n" +
		"Bert;Bakker;bert@example.nl\n" +
		"Cees;Visser;cees@example.nl\n")
	im := e.runImport(e.a, b.String(), crm.NewImport{Mode: crm.ImportUpsert})
	recs := e.report(e.a, im.ID, false)
	if n := len(recs); n != testImportBatch+24 || recs[n-3][1] != "created" || recs[n-2][2] != bert.ID {
		t.Fatalf("report %q", recs[n-3:])
	}
	recs = recs[len(recs)-4:] // the header's place: the last filler row
	anna := recs[1][2]
	for _, id := range []string{anna, bert.ID} {
		if _, err := e.crm.Privacy.Anonymise(e.a, id); err != nil {
			t.Fatal(err)
		}
	}
	recs = e.report(e.a, im.ID, false)
	if len(recs) != testImportBatch+24 || recs[1][4] != "F0" {
		t.Fatalf("report after anonymising: %q", recs[:2])
	}
	recs = recs[len(recs)-4:]
	for i, want := range []string{"", "", "Cees;Visser;cees@example.nl"} {
		if got := strings.Join(recs[i+1][4:], ";"); got != want && !(want == "" && strings.Trim(got, ";") == "") {
			t.Errorf("row %d cells %q, want %q", i+2, got, want)
		}
	}
	if recs[1][2] != anna || recs[2][2] != bert.ID || recs[1][1] != "created" || recs[2][1] != "updated" {
		t.Errorf("line, outcome and customer should stay: %q", recs)
	}
}

// testExportBookingCounts: the "bookings" column counts each customer's
// bookings that are neither cancelled nor deleted, in the organisation's
// language, and sees no other organisation's bookings.
func testExportBookingCounts(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	anna := e.create(e.a, crm.CustomerFields{LastName: "Jansen"})
	bert := e.create(e.a, crm.CustomerFields{LastName: "Bakker"})
	other := e.create(e.b, crm.CustomerFields{LastName: "Other"})
	e.upsert(e.a, trip("B-1", anna, "2027-06-01", 1000))
	e.upsert(e.a, trip("B-2", anna, "2027-07-01", 1000))
	cancelled := trip("B-3", anna, "2027-08-01", 1000)
	cancelled.Status = "cancelled"
	e.upsert(e.a, cancelled)
	e.upsert(e.b, trip("B-4", other, "2027-06-01", 1000))
	var buf bytes.Buffer
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Columns: []string{"lastName", "bookings"}, Language: "nl"}, &buf); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	want := [][]string{{"Achternaam", "Boekingen"}, {"Jansen", "2"}, {"Bakker", "0"}}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Fatalf("export %q, want %q (bert %s)", recs, want, bert.ID)
	}
	// The default columns include it.
	buf.Reset()
	if _, err := e.crm.Exports.Export(e.b, crm.ExportParams{Format: crm.FormatJSONLines}, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"bookings":1`) {
		t.Fatalf("B's export: %s", buf.String())
	}
}
