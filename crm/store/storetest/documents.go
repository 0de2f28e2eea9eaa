package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testMaxDocument is the suite's upload limit, small enough to exceed cheaply.
const testMaxDocument = 64 << 10

// pdfBytes looks like a PDF to a content sniffer.
var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// textReports renders reports as plain text, so the suite needs no PDF
// library; crm/report has the PDF renderer and its own tests.
type textReports struct{}

func (textReports) Render(w *bytes.Buffer, r *crm.CustomerReport) error {
	fmt.Fprintf(w, "Report of %s (%d) for %s\n", r.Customer.DisplayName(), r.Customer.Number, r.Organisation.Name)
	for _, ev := range r.History {
		fmt.Fprintf(w, "%s %s\n", ev.At.Format("2006-01-02"), ev.Kind)
	}
	return nil
}
func (textReports) ContentType() string { return "text/plain" }
func (textReports) Extension() string   { return ".txt" }

func (e *env) upload(ctx context.Context, customerID string, in crm.NewDocument, data []byte) *crm.Document {
	e.t.Helper()
	d, err := e.crm.Documents.Add(ctx, customerID, in, bytes.NewReader(data))
	if err != nil {
		e.t.Fatalf("upload %s: %v", in.FileName, err)
	}
	return d
}

func (e *env) contents(ctx context.Context, id string) []byte {
	e.t.Helper()
	_, rc, err := e.crm.Documents.Open(ctx, id)
	if err != nil {
		e.t.Fatalf("open document %s: %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func testDocuments(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Doc", LastName: "Holder"})
	vouchers, err := e.crm.Documents.DefineAttribute(e.a, "Travel vouchers")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Documents.DefineAttribute(e.a, "travel VOUCHERS")
	wantErr(t, err, crm.ErrConflict)

	// The content type is sniffed: a PDF named .txt is a PDF.
	d := e.upload(e.a, c.ID, crm.NewDocument{FileName: `C:\Users\anna\voucher.txt`, Visibility: crm.VisibilityPortal,
		AttributeID: vouchers.ID}, pdfBytes)
	if d.ContentType != "application/pdf" || d.FileName != "voucher.txt" || d.Title != "voucher.txt" || d.Size != int64(len(pdfBytes)) ||
		len(d.SHA256) != 64 || d.Origin != crm.OriginUpload || d.AddedBy != crm.Staff("staff-a") || d.SentAt != nil {
		t.Fatalf("uploaded document: %+v", d)
	}
	if got := e.contents(e.a, d.ID); !bytes.Equal(got, pdfBytes) {
		t.Fatal("contents differ from the upload")
	}
	note := e.upload(e.a, c.ID, crm.NewDocument{Title: "Call notes", FileName: "notes.txt"}, []byte("called about the invoice"))
	if note.Visibility != crm.VisibilityInternal || !strings.HasPrefix(note.ContentType, "text/plain") {
		t.Fatalf("internal note: %+v", note)
	}
	all, err := e.crm.Documents.List(e.a, c.ID, false)
	if err != nil || len(all) != 2 || all[0].ID != note.ID {
		t.Fatalf("list: %+v, %v", all, err)
	}
	portal, err := e.crm.Documents.List(e.a, c.ID, true)
	if err != nil || len(portal) != 1 || portal[0].ID != d.ID {
		t.Fatalf("portal list: %+v, %v", portal, err)
	}

	// Bad uploads write nothing.
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "empty.txt"}, bytes.NewReader(nil))
	wantInvalid(t, err, "file", "empty")
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "big.bin"}, bytes.NewReader(make([]byte, testMaxDocument+1)))
	wantInvalid(t, err, "file", "maxBytes")
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "x.txt", AttributeID: "01900000-0000-7000-8000-000000000000"}, strings.NewReader("x"))
	wantInvalid(t, err, "attributeId", "unknown")
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "  "}, strings.NewReader("x"))
	wantInvalid(t, err, "fileName", "required")
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "x.txt", Visibility: "public"}, strings.NewReader("x"))
	wantInvalid(t, err, "visibility", "oneof")
	if all, _ := e.crm.Documents.List(e.a, c.ID, false); len(all) != 2 {
		t.Fatalf("refused uploads were stored: %d documents", len(all))
	}

	// Exactly the limit is fine.
	e.upload(e.a, c.ID, crm.NewDocument{FileName: "limit.bin"}, bytes.Repeat([]byte{7}, testMaxDocument))

	changed, err := e.crm.Documents.Update(e.a, note.ID, crm.DocumentPatch{Title: ptr("Call notes 2026"), Visibility: ptr(crm.VisibilityPortal)})
	if err != nil || changed.Title != "Call notes 2026" || changed.Visibility != crm.VisibilityPortal {
		t.Fatalf("update: %+v, %v", changed, err)
	}
	if err := e.crm.Documents.Delete(e.a, note.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Documents.Get(e.a, note.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, _, err = e.crm.Documents.Open(e.a, note.ID)
	wantErr(t, err, crm.ErrNotFound)

	var kinds []crm.EventKind
	for _, ev := range e.history(e.a, c.ID) {
		if strings.HasPrefix(string(ev.Kind), "document.") {
			kinds = append(kinds, ev.Kind)
		}
	}
	if len(kinds) != 5 || kinds[0] != crm.EventDocumentDeleted || kinds[1] != crm.EventDocumentChanged {
		t.Fatalf("document events: %v", kinds)
	}

	// Organisation B sees and changes none of it.
	_, err = e.crm.Documents.Get(e.b, d.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, _, err = e.crm.Documents.Open(e.b, d.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Documents.List(e.b, c.ID, false)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Documents.Update(e.b, d.ID, crm.DocumentPatch{Title: ptr("mine")})
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.crm.Documents.Delete(e.b, d.ID), crm.ErrNotFound)
	_, err = e.crm.Documents.Add(e.b, c.ID, crm.NewDocument{FileName: "x.txt"}, strings.NewReader("x"))
	wantErr(t, err, crm.ErrNotFound)
	other := e.create(e.b, crm.CustomerFields{FirstName: "B"})
	_, err = e.crm.Documents.Add(e.b, other.ID, crm.NewDocument{FileName: "x.txt", AttributeID: vouchers.ID}, strings.NewReader("x"))
	wantInvalid(t, err, "attributeId", "unknown")
	if attrs, _ := e.crm.Documents.Attributes(e.b); len(attrs) != 0 {
		t.Fatalf("B sees A's document attributes: %+v", attrs)
	}
}

// testDocumentContentsShared: equal contents are kept once per
// organisation and removed with the last document that uses them, also
// when uploads and deletions of the same contents race.
func testDocumentContentsShared(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Shared"})
	data := []byte("the same brochure, twice")
	first := e.upload(e.a, c.ID, crm.NewDocument{FileName: "a.txt"}, data)
	second := e.upload(e.a, c.ID, crm.NewDocument{FileName: "b.txt"}, data)
	if first.SHA256 != second.SHA256 {
		t.Fatal("equal contents, different hashes")
	}
	if err := e.crm.Documents.Delete(e.a, first.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.contents(e.a, second.ID); !bytes.Equal(got, data) {
		t.Fatal("deleting one document removed contents another uses")
	}
	// The same contents in organisation B are B's own.
	other := e.create(e.b, crm.CustomerFields{FirstName: "B"})
	inB := e.upload(e.b, other.ID, crm.NewDocument{FileName: "b.txt"}, data)
	if err := e.crm.Documents.Delete(e.a, second.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.contents(e.b, inB.ID); !bytes.Equal(got, data) {
		t.Fatal("A's last deletion removed B's contents")
	}

	// Racing uploads and deletions of one content: afterwards every
	// document that exists can be read.
	race := []byte("racing contents")
	var wg sync.WaitGroup
	ids := make(chan string, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				d, err := e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: fmt.Sprintf("r%d-%d.txt", w, i)}, bytes.NewReader(race))
				if err != nil {
					t.Errorf("upload: %v", err)
					return
				}
				if i%2 == 0 {
					if err := e.crm.Documents.Delete(e.a, d.ID); err != nil {
						t.Errorf("delete: %v", err)
					}
					continue
				}
				ids <- d.ID
			}
		}()
	}
	wg.Wait()
	close(ids)
	n := 0
	for id := range ids {
		n++
		if got := e.contents(e.a, id); !bytes.Equal(got, race) {
			t.Fatalf("document %s lost its contents in the race", id)
		}
	}
	if n != 12 {
		t.Fatalf("%d documents kept, want 12", n)
	}
}

func testDocumentReport(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Rapport", LastName: "Klant"})
	e.give(e.a, c.ID, crm.PurposeSMS)
	d, err := e.crm.Documents.FileReport(e.a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Origin != crm.OriginReport || d.Visibility != crm.VisibilityInternal || !strings.HasPrefix(d.FileName, "report-1-") ||
		!strings.HasPrefix(d.ContentType, "text/plain") {
		t.Fatalf("filed report: %+v", d)
	}
	body := string(e.contents(e.a, d.ID))
	if !strings.Contains(body, "Rapport Klant") || !strings.Contains(body, string(crm.EventConsentGranted)) {
		t.Fatalf("report contents: %q", body)
	}
	r, err := e.crm.Documents.Report(e.a, c.ID)
	if err != nil || len(r.Consents) == 0 || r.Language != "nl" || r.Points != nil {
		t.Fatalf("report data: %+v, %v", r, err)
	}
	_, err = e.crm.Documents.FileReport(e.b, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	if !errors.Is(err, crm.ErrNotFound) {
		t.Fatal("B filed a report on A's customer")
	}
}
