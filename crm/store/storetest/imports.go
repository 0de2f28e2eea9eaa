package storetest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/dossiercrm/dossier/crm"
)

// testImportBatch is the batch size of the suite's imports: small, so
// that a few hundred rows make several batches.
const testImportBatch = 100

// readCSV parses a CSV file an export or a report wrote (UTF-8 with a byte
// order mark).
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v\n%s", err, b)
	}
	return recs
}

// runImport starts an import of file and runs it to its end.
func (e *env) runImport(ctx context.Context, file string, in crm.NewImport) *crm.FileImport {
	e.t.Helper()
	im, err := e.crm.Imports.Start(ctx, strings.NewReader(file), in)
	if err != nil {
		e.t.Fatalf("start import: %v", err)
	}
	done, err := e.crm.Imports.Run(ctx, im.ID, 0, nil)
	if err != nil {
		e.t.Fatalf("run import: %v", err)
	}
	if done.Status != crm.ImportDone {
		e.t.Fatalf("import ended %s (%s)", done.Status, done.Message)
	}
	return done
}

// report returns an import's row report (or error file) as records.
func (e *env) report(ctx context.Context, id string, errorsOnly bool) [][]string {
	e.t.Helper()
	var buf bytes.Buffer
	if err := e.crm.Imports.Report(ctx, id, crm.ImportReportParams{Errors: errorsOnly}, &buf); err != nil {
		e.t.Fatalf("report: %v", err)
	}
	return readCSV(e.t, buf.Bytes())
}

// outcomes lists the line, outcome and reason of every row of a report.
func outcomes(recs [][]string) []string {
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[0]+" "+r[1]+" "+r[3])
	}
	return out
}

func testExportSegment(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "diet", Label: "Dieet", Type: crm.FieldText}); err != nil {
		t.Fatal(err)
	}
	tags, _ := e.crm.Tags.List(e.a)
	vip := tags[len(tags)-1]
	for i := range 30 {
		c := e.create(e.a, crm.CustomerFields{FirstName: fmt.Sprintf("Kl%02d", i), LastName: "Łukasiewicz", Email: fmt.Sprintf("k%d@example.nl", i),
			Phones: []crm.Phone{{Number: fmt.Sprintf("06 1234 %04d", i)}}, CustomFields: map[string]any{"diet": "vegan, \"strict\""}})
		if i%3 == 0 {
			if _, err := e.crm.Tags.Add(e.a, c.ID, vip.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.create(e.b, crm.CustomerFields{LastName: "Other organisation"})
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "VIPs", Filter: crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{vip.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.crm.Segments.Count(e.a, seg.ID)
	if err != nil || want != 10 {
		t.Fatalf("segment count %d, %v", want, err)
	}
	var buf bytes.Buffer
	rec, err := e.crm.Exports.Export(e.a, crm.ExportParams{SegmentID: seg.ID}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	if int64(len(recs)-1) != want || rec.Rows != want {
		t.Fatalf("export of the segment has %d rows (record %d), want %d", len(recs)-1, rec.Rows, want)
	}
	// Headers in the organisation's language (Dutch), custom field by label.
	if recs[0][0] != "Klantnummer" || !slices.Contains(recs[0], "Dieet") || !slices.Contains(recs[0], "Tags") {
		t.Fatalf("headers %v", recs[0])
	}
	col := slices.Index(recs[0], "Dieet")
	tagCol := slices.Index(recs[0], "Tags")
	for _, r := range recs[1:] {
		if r[col] != `vegan, "strict"` || r[tagCol] != vip.Name {
			t.Fatalf("row %v", r)
		}
	}
	// JSON Lines with chosen columns and the whole base.
	buf.Reset()
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Format: crm.FormatJSONLines,
		Columns: []string{"number", "lastName", "phones", "tags", "custom.diet", "consent.newsletter"}}, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 30 {
		t.Fatalf("%d JSON lines, want 30", len(lines))
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["lastName"] != "Łukasiewicz" || first["consent.newsletter"] != "never" || first["number"] != float64(1) ||
		first["phones"].([]any)[0] != "+31612340000" || first["custom.diet"] != `vegan, "strict"` {
		t.Fatalf("first line %v", first)
	}
	// XLSX is written too (its reading is tested with imports).
	buf.Reset()
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Format: crm.FormatXLSX, Filter: crm.CustomerFilter{Name: "kl0"}}, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("PK")) {
		t.Fatal("the XLSX export is not a zip file")
	}
	// Bad columns, formats and ids are named.
	_, err = e.crm.Exports.Export(e.a, crm.ExportParams{Format: "pdf", Columns: []string{"number", "custom.nope", "number"}, SegmentID: "x"}, &buf)
	ve := wantInvalid(t, err, "format", "oneof")
	if !ve.Has("columns[1]", "unknown") || !ve.Has("columns[2]", "duplicate") || !ve.Has("segmentId", "unknown") {
		t.Fatalf("errors %v", ve.Fields)
	}
	// Another organisation's segment is unknown, and its export holds its own customers only.
	_, err = e.crm.Exports.Export(e.b, crm.ExportParams{SegmentID: seg.ID}, &buf)
	wantInvalid(t, err, "segmentId", "unknown")
	buf.Reset()
	if r, err := e.crm.Exports.Export(e.b, crm.ExportParams{}, &buf); err != nil || r.Rows != 1 {
		t.Fatalf("export of B: %+v, %v", r, err)
	}
	// Every export is on record, with who and what.
	page, err := e.crm.Exports.Records(e.a, crm.PageRequest{})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("records %+v, %v", page.Items, err)
	}
	last := page.Items[2]
	if last.Actor != crm.Staff("staff-a") || last.SegmentID != seg.ID || last.Rows != want || last.FinishedAt == nil || last.Format != crm.FormatCSV {
		t.Fatalf("record %+v", last)
	}
	if page, _ := e.crm.Exports.Records(e.b, crm.PageRequest{}); len(page.Items) != 1 {
		t.Fatalf("B sees %d records", len(page.Items))
	}
}

const modesFile = "Voornaam;Achternaam;E-mailadres;Telefoon;Tags\n" +
	"Anna;Jansen;anna@example.nl;06 1111 1111;VIP\n" +
	"Bert;Bakker;bert@example.nl;;\n" +
	"Cees;;;;\n" + // matches nobody, a new customer
	";;niet-een-adres;;\n" + // refused: not an e-mail address
	"Dirk;de Vries;;06 2222 2222;Nieuw label\n"

func testImportModes(t *testing.T, open func(t *testing.T) crm.Store) {
	for _, mode := range []crm.ImportMode{crm.ImportAdd, crm.ImportUpdate, crm.ImportUpsert} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, open)
			anna := e.create(e.a, crm.CustomerFields{FirstName: "Anne", LastName: "Jansen", Email: "ANNA@example.nl", Remarks: "staff note"})
			dirk := e.create(e.a, crm.CustomerFields{LastName: "Vries", Phones: []crm.Phone{{Number: "+31622222222"}}})
			im := e.runImport(e.a, modesFile, crm.NewImport{FileName: "klanten.csv", Mode: mode})
			got := outcomes(e.report(e.a, im.ID, false))
			want := map[crm.ImportMode][]string{
				crm.ImportAdd:    {"2 skipped matches customer 1", "3 created ", "4 created ", "5 refused", "6 skipped matches customer 2"},
				crm.ImportUpdate: {"2 updated ", "3 skipped no customer matches", "4 skipped no customer matches", "5 refused", "6 updated "},
				crm.ImportUpsert: {"2 updated ", "3 created ", "4 created ", "5 refused", "6 updated "},
			}[mode]
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Fatalf("outcomes %q, want %q", got, want)
				}
			}
			a, _ := e.crm.Customers.Get(e.a, anna.ID)
			d, _ := e.crm.Customers.Get(e.a, dirk.ID)
			all := e.list(e.a, crm.CustomerFilter{})
			switch mode {
			case crm.ImportAdd:
				if a.FirstName != "Anne" || len(all) != 4 || im.Created != 2 || im.Skipped != 2 || im.Refused != 1 {
					t.Fatalf("add: %+v, %d customers, %+v", a, len(all), im)
				}
			case crm.ImportUpdate, crm.ImportUpsert:
				// The field-origin rule: what staff typed stays, empty fields fill, lists grow.
				if a.FirstName != "Anne" || a.Remarks != "staff note" || len(a.Phones) != 1 || d.FirstName != "Dirk" || d.LastName != "Vries" {
					t.Fatalf("updated %+v / %+v", a, d)
				}
				tags, _ := e.crm.Tags.Of(e.a, anna.ID)
				if len(tags) != 1 || tags[0].Name != "VIP" {
					t.Fatalf("tags %+v", tags)
				}
				dtags, _ := e.crm.Tags.Of(e.a, dirk.ID)
				if len(dtags) != 1 || dtags[0].Name != "Nieuw label" {
					t.Fatalf("new tag %+v", dtags)
				}
				// The import acts on the timeline.
				if h := e.history(e.a, anna.ID); h[len(h)-1].Actor.Kind != crm.ActorStaff || !slices.ContainsFunc(h, func(ev crm.HistoryEvent) bool {
					return ev.Actor == crm.Import(im.ID) && ev.Kind == crm.EventCustomerUpdated
				}) {
					t.Fatalf("history %+v", h)
				}
			}
			if mode == crm.ImportUpsert && (len(all) != 4 || im.Created != 2 || im.Updated != 2) {
				t.Fatalf("upsert: %d customers, %+v", len(all), im)
			}
			// Another organisation sees nothing of it.
			if _, err := e.crm.Imports.Get(e.b, im.ID); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("B reads A's import: %v", err)
			}
			if err := e.crm.Imports.Report(e.b, im.ID, crm.ImportReportParams{}, &bytes.Buffer{}); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("B reads A's report: %v", err)
			}
			if _, err := e.crm.Imports.Revert(e.b, im.ID); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("B reverts A's import: %v", err)
			}
			if got := e.list(e.b, crm.CustomerFilter{}); len(got) != 0 {
				t.Fatalf("B has %d customers", len(got))
			}
		})
	}
}

// bigFile is a file of n rows, more than a batch.
func bigFile(n int, extra func(i int) string) string {
	var b strings.Builder
	b.WriteString("First name,Last name,Email,Phone\n")
	for i := range n {
		fmt.Fprintf(&b, "F%d,L%d,p%d@example.org,%s\n", i, i, i, extra(i))
	}
	return b.String()
}

func testImportDryRun(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	e.create(e.a, crm.CustomerFields{LastName: "Existing", Email: "p5@example.org"})
	// Rows 150 and 152 name one person: the second updates the first.
	file := bigFile(260, func(i int) string {
		switch i {
		case 7:
			return "not a phone"
		case 152:
			return "+31 6 5555 0000"
		case 150:
			return "06 5555 0000"
		}
		return ""
	})
	dry := e.runImport(e.a, file, crm.NewImport{DryRun: true})
	if n := len(e.list(e.a, crm.CustomerFilter{})); n != 1 {
		t.Fatalf("the dry run wrote: %d customers", n)
	}
	real := e.runImport(e.a, file, crm.NewImport{})
	dr, rr := e.report(e.a, dry.ID, false), e.report(e.a, real.ID, false)
	if !slices.Equal(outcomes(dr), outcomes(rr)) || dry.Created != real.Created || dry.Updated != real.Updated ||
		dry.Refused != real.Refused || dry.Skipped != real.Skipped || dry.Rows != 260 {
		t.Fatalf("dry run %+v\nreal run %+v", dry, real)
	}
	if real.Created != 257 || real.Updated != 2 || real.Refused != 1 {
		t.Fatalf("real run %+v", real)
	}
	if _, err := e.crm.Imports.Revert(e.a, dry.ID); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("revert of a dry run: %v", err)
	}
	// The error file: the refused row as it was, and why.
	errs := e.report(e.a, real.ID, true)
	if len(errs) != 2 || errs[0][4] != "Reason" || errs[1][0] != "F7" || errs[1][3] != "not a phone" || !strings.Contains(errs[1][4], "phone") {
		t.Fatalf("error file %q", errs)
	}
}

func testImportResume(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	file := bigFile(250, func(int) string { return "" })
	im, err := e.crm.Imports.Start(e.a, strings.NewReader(file), crm.NewImport{})
	if err != nil {
		t.Fatal(err)
	}
	// A crash during the second batch: its transaction never commits.
	ctx, cancel := context.WithCancel(e.a)
	_, err = e.crm.Imports.Run(ctx, im.ID, 0, func(im *crm.FileImport) {
		if im.Batches == 1 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("the run went on after its context ended")
	}
	mid, _ := e.crm.Imports.Get(e.a, im.ID)
	if mid.Status != crm.ImportRunning || mid.Rows != testImportBatch || mid.Created != testImportBatch {
		t.Fatalf("after the crash %+v", mid)
	}
	// A short budget returns after a batch; the next run resumes.
	step, err := e.crm.Imports.Run(e.a, im.ID, 1, nil)
	if err != nil || step.Status != crm.ImportRunning || step.Rows != 2*testImportBatch {
		t.Fatalf("step %+v, %v", step, err)
	}
	done, err := e.crm.Imports.Run(e.a, im.ID, 0, nil)
	if err != nil || done.Status != crm.ImportDone || done.Created != 250 || done.Rows != 250 {
		t.Fatalf("done %+v, %v", done, err)
	}
	if n, _ := e.crm.Customers.Count(e.a, crm.CustomerFilter{}); n != 250 {
		t.Fatalf("%d customers after resuming, want 250", n)
	}
	if recs := e.report(e.a, im.ID, false); len(recs) != 251 {
		t.Fatalf("report has %d rows", len(recs)-1)
	}
	// A run of an ended import does nothing.
	if again, err := e.crm.Imports.Run(e.a, im.ID, 0, nil); err != nil || again.Created != 250 {
		t.Fatalf("again %+v, %v", again, err)
	}
	// Cancel: a queued import stops before its first batch.
	other, err := e.crm.Imports.Start(e.a, strings.NewReader(file), crm.NewImport{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := e.crm.Imports.Cancel(e.a, other.ID); err != nil || c.Status != crm.ImportCancelled {
		t.Fatalf("cancel %+v, %v", c, err)
	}
	if r, err := e.crm.Imports.Run(e.a, other.ID, 0, nil); err != nil || r.Rows != 0 {
		t.Fatalf("run after cancel %+v, %v", r, err)
	}
	if _, err := e.crm.Imports.Cancel(e.a, other.ID); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("second cancel: %v", err)
	}
}

func testImportRevert(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	kept := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Kept", Email: "kept@example.nl"})
	restored := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Restored", Email: "restored@example.nl"})
	file := "Email,First name,City\nkept@example.nl,New,Utrecht\nrestored@example.nl,New,Delft\nnew1@example.nl,N1,Ede\nnew2@example.nl,N2,Ede\n"
	im := e.runImport(e.a, file, crm.NewImport{})
	if im.Created != 2 || im.Updated != 2 {
		t.Fatalf("import %+v", im)
	}
	// Staff change one changed and one created customer afterwards.
	e.now = e.now.Add(time.Second)
	k, _ := e.crm.Customers.Get(e.a, kept.ID)
	if _, err := e.crm.Customers.Update(e.a, k.ID, k.Version, crm.CustomerPatch{Remarks: ptr("called")}); err != nil {
		t.Fatal(err)
	}
	n2 := e.list(e.a, crm.CustomerFilter{Email: "new2@example.nl"})[0]
	if _, err := e.crm.Customers.Update(e.a, n2.ID, n2.Version, crm.CustomerPatch{Remarks: ptr("booked")}); err != nil {
		t.Fatal(err)
	}
	res, err := e.crm.Imports.Revert(e.a, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 1 || res.Restored != 1 || len(res.Kept) != 2 || res.Import.Status != crm.ImportReverted {
		t.Fatalf("revert %+v", res)
	}
	r, _ := e.crm.Customers.Get(e.a, restored.ID)
	if r.FirstName != "Old" || r.Address.City != "" {
		t.Fatalf("restored %+v", r)
	}
	k, _ = e.crm.Customers.Get(e.a, kept.ID)
	if k.FirstName != "Old" || k.Address.City != "Utrecht" || k.Remarks != "called" {
		t.Fatalf("kept %+v", k)
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "new1@example.nl"}); len(got) != 0 {
		t.Fatal("a created customer is still there")
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "new2@example.nl"}); len(got) != 1 {
		t.Fatal("a created customer staff changed since was removed")
	}
	if _, err := e.crm.Imports.Revert(e.a, im.ID); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("second revert: %v", err)
	}
}

// languageHeaders are the same columns as five languages name them.
var languageHeaders = map[string]string{
	"en": "First name;Last name;E-mail;Phone;Postal code;City;Date of birth",
	"nl": "Voornaam;Achternaam;E-mailadres;Telefoon;Postcode;Woonplaats;Geboortedatum",
	"de": "Vorname;Nachname;E-Mail-Adresse;Telefonnummer;PLZ;Ort;Geburtsdatum",
	"fr": "Prénom;Nom;Adresse e-mail;Téléphone;Code postal;Ville;Date de naissance",
	"pl": "Imię;Nazwisko;Adres e-mail;Numer telefonu;Kod pocztowy;Miejscowość;Data urodzenia",
}

func testImportEncodingsAndLanguages(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	wantKeys := []string{"firstName", "lastName", "email", "phone", "postalCode", "city", "birthDate"}
	// Each name is written in the encodings that have its letters.
	people := []struct {
		first, last string
		encodings   []string
	}{
		{"Zoë", "Müller", []string{"utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1252"}},
		{"Łucja", "Wąsowska-Źródło", []string{"utf-8", "utf-16le", "iso-8859-2"}},
	}
	encode := func(enc, s string) []byte {
		switch enc {
		case "utf-8":
			return []byte(s)
		case "utf-8-bom":
			return append([]byte("\uFEFF"), s...)
		case "utf-16le":
			b, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
			return b
		case "utf-16be":
			b, _ := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
			return b
		case "windows-1252":
			b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			return b
		case "iso-8859-2":
			b, err := charmap.ISO8859_2.NewEncoder().Bytes([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		t.Fatalf("encoding %s", enc)
		return nil
	}
	n := 0
	for lang, header := range languageHeaders {
		for _, p := range people {
			for _, enc := range p.encodings {
				n++
				// Latin-1 cannot hold ł: the Polish header goes with the Polish encodings.
				h := header
				if enc == "windows-1252" && lang == "pl" {
					continue
				}
				email := fmt.Sprintf("p%d@example.pl", n)
				file := h + "\n" + p.first + ";" + p.last + ";" + email + ";06 1234 " + fmt.Sprintf("%04d", n) + ";1234 AB;Kraków;31-12-1980\n"
				if enc == "windows-1252" {
					file = strings.ReplaceAll(file, "Kraków", "Krakow")
				}
				data := encode(enc, file)
				pv, err := e.crm.Imports.Preview(e.a, bytes.NewReader(data), crm.NewImport{})
				if err != nil {
					t.Fatalf("%s %s: preview: %v", lang, enc, err)
				}
				for i, c := range pv.Mapping {
					if c.Key != wantKeys[i] {
						t.Fatalf("%s %s: header %q mapped to %q, want %q", lang, enc, c.Header, c.Key, wantKeys[i])
					}
				}
				detected := strings.TrimSuffix(enc, "-bom")
				if pv.Options.Encoding != detected || pv.Options.Delimiter != ";" {
					t.Fatalf("%s %s: detected %+v", lang, enc, pv.Options)
				}
				im, err := e.crm.Imports.Start(e.a, bytes.NewReader(data), crm.NewImport{})
				if err != nil {
					t.Fatal(err)
				}
				done, err := e.crm.Imports.Run(e.a, im.ID, 0, nil)
				if err != nil || done.Created != 1 {
					t.Fatalf("%s %s: %+v, %v %q", lang, enc, done, err, e.report(e.a, im.ID, false))
				}
				c := e.list(e.a, crm.CustomerFilter{Email: email})[0]
				if c.FirstName != p.first || c.LastName != p.last || c.Phones[0].Number != fmt.Sprintf("+3161234%04d", n) || c.BirthDate.String() != "1980-12-31" {
					t.Fatalf("%s %s: imported %+v", lang, enc, c.CustomerFields)
				}
			}
		}
	}
	// Given instead of detected, and an explicit mapping.
	data := encode("windows-1252", "Naam\tMail\nBjörk\tb@example.is\n")
	pv, err := e.crm.Imports.Preview(e.a, bytes.NewReader(data), crm.NewImport{Options: crm.TableOptions{Encoding: "windows-1252", Delimiter: "\t"},
		Mapping: map[string]string{"Mail": "email", "Naam": "firstName"}})
	if err != nil || pv.Mapping[0].Key != "firstName" || pv.Mapping[1].Key != "email" || pv.Rows[0][0] != "Björk" {
		t.Fatalf("preview %+v, %v", pv, err)
	}
	_, err = e.crm.Imports.Preview(e.a, bytes.NewReader(data), crm.NewImport{Mode: "merge", Options: crm.TableOptions{Encoding: "ebcdic"},
		Mapping: map[string]string{"Mail": "shoeSize", "Nope": "email"}})
	ve := wantInvalid(t, err, "mode", "oneof")
	if !ve.Has("options.encoding", "oneof") {
		t.Fatalf("errors %v", ve.Fields)
	}
	_, err = e.crm.Imports.Preview(e.a, bytes.NewReader(data), crm.NewImport{Mapping: map[string]string{"Mail": "shoeSize", "Nope": "email"}})
	ve = wantInvalid(t, err, "mapping.Mail", "unknown")
	if !ve.Has("mapping.Nope", "unknown") {
		t.Fatalf("errors %v", ve.Fields)
	}
	_, err = e.crm.Imports.Start(e.a, strings.NewReader(""), crm.NewImport{})
	wantInvalid(t, err, "file", "invalid")
	// XLSX, as an export writes it.
	var buf bytes.Buffer
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Format: crm.FormatXLSX, Columns: []string{"firstName", "lastName", "email"}}, &buf); err != nil {
		t.Fatal(err)
	}
	pv, err = e.crm.Imports.Preview(e.a, bytes.NewReader(buf.Bytes()), crm.NewImport{})
	if err != nil || pv.Options.Format != crm.FormatXLSX || pv.Mapping[2].Key != "email" || len(pv.Rows) == 0 || pv.Rows[0][0] != "Zoë" {
		t.Fatalf("xlsx preview %+v, %v", pv, err)
	}
}

func testImportRoundTrip(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	for _, ctx := range []context.Context{e.a, e.b} {
		for _, d := range []crm.NewCustomField{{Key: "diet", Label: "Diet", Type: crm.FieldText}, {Key: "visits", Label: "Visits", Type: crm.FieldNumber},
			{Key: "member", Label: "Member", Type: crm.FieldBool}} {
			if _, err := e.crm.CustomFields.Define(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	attr, err := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "Golf"})
	if err != nil {
		t.Fatal(err)
	}
	tags, _ := e.crm.Tags.List(e.a)
	// More customers, tags and attributes than a bulk write sends as
	// arrays on PostgreSQL (history events, field origins, tag links).
	for i := range roundTripCustomers {
		c := e.create(e.a, crm.CustomerFields{FirstName: fmt.Sprintf("Ré%d", i), LastName: "Ørsted, \"jr\"", Email: fmt.Sprintf("r%d@example.dk", i),
			Phones: []crm.Phone{{Number: fmt.Sprintf("+31 6 12%06d", i)}}, Address: crm.Address{City: "Århus", Country: "DK"},
			CustomFields: map[string]any{"diet": "fish\nonly", "visits": float64(i) + 0.5, "member": i%2 == 0}})
		if i%2 == 0 {
			if _, err := e.crm.Tags.Add(e.a, c.ID, tags[i%len(tags)].ID, tags[(i+1)%len(tags)].ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.crm.Attributes.Add(e.a, c.ID, attr.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	cols := append(slices.Clone(crm.ExportColumns), "tags", "attributes", "custom.diet", "custom.visits", "custom.member")
	cols = slices.DeleteFunc(cols, func(k string) bool { return k == "id" || k == "number" })
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Columns: cols}, &buf); err != nil {
		t.Fatal(err)
	}
	// Into organisation B, which has no customers.
	im := e.runImport(e.b, buf.String(), crm.NewImport{Mode: crm.ImportAdd})
	if im.Created != roundTripCustomers || im.Refused != 0 {
		t.Fatalf("import %+v %q", im, e.report(e.b, im.ID, true))
	}
	signature := func(ctx context.Context) []string {
		var out []string
		for _, c := range e.list(ctx, crm.CustomerFilter{}) {
			tq, _ := e.crm.Tags.Of(ctx, c.ID)
			aq, _ := e.crm.Attributes.Of(ctx, c.ID)
			var names []string
			for _, q := range append(tq, aq...) {
				names = append(names, q.Name)
			}
			slices.Sort(names)
			cf, _ := json.Marshal(c.CustomFields)
			out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s|%v|%s|%s", c.FirstName, c.LastName, c.Email, c.Address.City, c.Phones[0].Number, names, cf, c.FirstContact))
		}
		slices.Sort(out)
		return out
	}
	if a, b := signature(e.a), signature(e.b); !slices.Equal(a, b) {
		t.Fatalf("round trip differs:\n%q\n%q", a, b)
	}
	// Every imported customer's fields came from the import, at its time.
	for _, c := range e.list(e.b, crm.CustomerFilter{}) {
		byField := e.originsIn(e.b, c.ID)
		for _, f := range []string{"firstName", "lastName", "email", "address.city", "phones"} {
			if o := byField[f]; o.Kind != crm.OriginImport || o.Source != im.ID || !o.At.Equal(c.CreatedAt) {
				t.Fatalf("customer %d, origin of %s: %+v, want the import %s at %v (all: %+v)", c.Number, f, o, im.ID, c.CreatedAt, byField)
			}
		}
	}
}

// roundTripCustomers is how many customers testImportRoundTrip exports
// and imports.
const roundTripCustomers = 140
