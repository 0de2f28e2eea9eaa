package report

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/dossiercrm/dossier/crm"
)

// testReport is a report with accented names and n history events.
func testReport(lang string, n int) *crm.CustomerReport {
	at := time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)
	birth := crm.Date{Year: 1984, Month: time.May, Day: 17}
	until := crm.Date{Year: 2026, Month: time.December, Day: 31}
	r := &crm.CustomerReport{
		Organisation: crm.ExportedOrganisation{ID: "acme", Name: "Reisbureau Zoë & Łukasz"},
		Language:     lang,
		GeneratedAt:  at,
		GeneratedBy:  crm.Staff("u-17"),
		Customer: crm.Customer{
			ID: "01950000-0000-7000-8000-000000000001", Number: 1042,
			CustomerFields: crm.CustomerFields{
				FirstName: "Anna", MiddleName: "van der", LastName: "Müller-Dvořák",
				Company: "Łódź Reizen", Address: crm.Address{Street: "Grünstraße", HouseNumber: "7a", PostalCode: "10115", City: "Berlin", Country: "DE"},
				Phones:    []crm.Phone{{Kind: crm.PhoneMobile, Number: "+31612345678"}, {Number: "+4930123456"}},
				BirthDate: &birth, Status: crm.StatusCustomer, FirstContact: &crm.Date{Year: 2019, Month: time.January, Day: 2},
				Email: "anna@example.nl", AltEmails: []string{"a.muller@example.de"}, Language: "de",
				Remarks:             "Prefers a window seat.\nTravels with (her) dog \\ Bello.",
				InternalDescription: "VIP – handle with care. Emoji 😀 and a tab\there.",
			},
		},
		Tags:       []string{"VIP", "Früh bucher"},
		Attributes: []string{"Skiën", "Città d'arte"},
		Labels:     []crm.CustomerLabel{{Label: crm.Label{Name: "Goud"}}, {Label: crm.Label{Name: "Club Élan", Membership: true}, Until: &until}},
		Consents: []crm.CustomerConsent{
			{Purpose: "Newsletter", State: crm.ConsentGranted, At: at.AddDate(0, -2, 0)},
			{Purpose: "SMS", State: crm.ConsentNever, Pending: true},
		},
		Points: &crm.PointBalance{Available: 1250, Pending: 40, Expired: 7},
	}
	for i := range n {
		r.History = append(r.History, crm.HistoryEvent{
			Kind: crm.EventKind("customer.updated"), Actor: crm.Staff("u-" + strconv.Itoa(i)), At: at.Add(-time.Duration(i) * time.Hour),
			Changes: []crm.FieldChange{{Field: "remarks"}, {Field: "email"}},
		})
	}
	return r
}

func render(t *testing.T, p PDF, r *crm.CustomerReport) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Render(&buf, r); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimRight(b, "\r\n"), []byte("%%EOF")) {
		t.Fatalf("not a PDF: starts %q, ends %q", b[:min(len(b), 16)], b[max(0, len(b)-16):])
	}
	return b
}

// pdfString is s as fpdf writes text set in a UTF-8 font: UTF-16BE, with
// the characters special in a PDF string escaped.
func pdfString(s string) []byte {
	var b bytes.Buffer
	for _, u := range utf16.Encode([]rune(s)) {
		for _, c := range []byte{byte(u >> 8), byte(u)} {
			switch c {
			case '\\', '(', ')':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\r':
				b.WriteString(`\r`)
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.Bytes()
}

var pageCount = regexp.MustCompile(`/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)`)

func pages(t *testing.T, b []byte) int {
	t.Helper()
	m := pageCount.FindSubmatch(b)
	if m == nil {
		t.Fatal("no page tree in the PDF")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestRenderLongHistory(t *testing.T) {
	r := testReport("nl", 60)
	b := render(t, PDF{Uncompressed: true}, r)
	if n := pages(t, b); n < 2 {
		t.Errorf("%d pages for 60 history rows, want more than 1", n)
	}
	for _, want := range []string{
		"Reisbureau Zoë & Łukasz",          // the organisation, in the page header
		"Anna van der Müller-Dvořák",       // the customer, in the title
		"Klantrapport",                     // the title in Dutch
		"Recente geschiedenis",             // a heading in Dutch
		"Grünstraße 7a",                    // the address
		"Travels with (her) dog \\ Bello.", // escaped characters survive
		"Club Élan",
		"2026-12-31",           // membership end
		"1250",                 // points
		"2026-03-01 14:05 UTC", // the generation time
		"staff:u-17",
		"staff:u-59",    // the last history row
		"Pagina 2 van ", // the footer
	} {
		if !bytes.Contains(b, pdfString(want)) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	if !bytes.Contains(b, []byte("/CreationDate (D:20260301140500)")) {
		t.Error("the creation date is not the report's GeneratedAt")
	}
	if !bytes.Contains(b, []byte("/FontFile2")) || !bytes.Contains(b, []byte("/BaseFont /utf8dejavusans")) {
		t.Error("the font is not embedded")
	}
	// The emoji cannot be set: it becomes U+FFFD, the tab a space.
	if !bytes.Contains(b, pdfString("Emoji \uFFFD and a tab here.")) {
		t.Error("the emoji or the tab was not replaced")
	}

	compressed := render(t, PDF{}, r)
	if len(compressed) >= len(b) {
		t.Errorf("compressed %d bytes, uncompressed %d", len(compressed), len(b))
	}
	if bytes.Contains(compressed, pdfString("Recente geschiedenis")) {
		t.Error("the compressed PDF has plain page contents")
	}
	if !bytes.Contains(inflateStreams(t, compressed), pdfString("Anna van der Müller-Dvořák")) {
		t.Error("the customer's name is not in the compressed PDF's streams")
	}
	if pages(t, compressed) != pages(t, b) {
		t.Error("compression changed the page count")
	}
}

var streams = regexp.MustCompile(`(?s)\nstream\n(.*?)\nendstream`)

// inflateStreams returns the decompressed contents of every stream of b
// that inflates.
func inflateStreams(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, m := range streams.FindAllSubmatch(b, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(zr)
		out.Write(data)
	}
	return out.Bytes()
}

func TestRenderDeterministic(t *testing.T) {
	a := render(t, PDF{}, testReport("de", 20))
	b := render(t, PDF{}, testReport("de", 20))
	if !bytes.Equal(a, b) {
		t.Error("the same report rendered twice gives different bytes")
	}
}

func TestRenderShort(t *testing.T) {
	r := testReport("pl-PL", 0)
	r.Tags, r.Labels, r.Consents, r.Points = nil, nil, nil, nil
	b := render(t, PDF{Uncompressed: true}, r)
	if n := pages(t, b); n != 1 {
		t.Errorf("%d pages, want 1", n)
	}
	for _, want := range []string{"Raport klienta", "Brak", "Strona 1 z 1"} {
		if !bytes.Contains(b, pdfString(want)) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	if bytes.Contains(b, pdfString("Punkty lojalnościowe")) {
		t.Error("points are shown while they are off")
	}
}

func TestRenderAnonymised(t *testing.T) {
	r := testReport("fr", 3)
	at := r.GeneratedAt.AddDate(0, -1, 0)
	r.Customer = crm.Customer{ID: r.Customer.ID, Number: 7, AnonymisedAt: &at}
	b := render(t, PDF{Uncompressed: true}, r)
	for _, want := range []string{"Rapport client · #7", "Anonymisé"} {
		if !bytes.Contains(b, pdfString(want)) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
}

func TestRenderNil(t *testing.T) {
	var buf bytes.Buffer
	if err := (PDF{}).Render(&buf, nil); err == nil || buf.Len() != 0 {
		t.Errorf("Render(nil): %v, %d bytes", err, buf.Len())
	}
}

func TestLanguages(t *testing.T) {
	for _, lang := range languages {
		w := texts[lang]
		if w == nil {
			t.Errorf("no texts for %s", lang)
			continue
		}
		for i, s := range w {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: text %d is missing", lang, i)
			}
		}
	}
	if len(texts) != len(languages) {
		t.Errorf("%d languages have texts, %d are listed", len(texts), len(languages))
	}
	for lang, want := range map[string]string{"": "en", "en-GB": "en", "nl-BE": "nl", "de": "de", "fr-CA": "fr", "pl": "pl", "es": "en", "bogus!": "en"} {
		if got, _ := textsFor(lang); got != want {
			t.Errorf("textsFor(%q) = %s, want %s", lang, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë Łukasz":         "Zoë Łukasz",
		"a\r\nb":             "a b",
		"x\x00y\tz":          "x y z",
		"🎉 party":            "\uFFFD party",
		string([]byte{0xff}): "\uFFFD",
	} {
		if got := clean(in, false); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := clean("a\r\nb", true); got != "a\nb" {
		t.Errorf("multiline: %q", got)
	}
}

func BenchmarkRender(b *testing.B) {
	r := testReport("en", 20)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := (PDF{}).Render(&buf, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/report")
}

// TestRenderConcurrent renders in parallel: the embedded fonts are shared
// and must not be changed by a rendering (run with -race).
func TestRenderConcurrent(t *testing.T) {
	want := render(t, PDF{}, testReport("en", 5))
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				if got := render(t, PDF{}, testReport("en", 5)); !bytes.Equal(got, want) {
					t.Error("a parallel rendering differs")
				}
			})
		}
	})
}
