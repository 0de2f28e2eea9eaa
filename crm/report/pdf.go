// Package report renders customer reports (crm.CustomerReport, C6) as PDF,
// and reports over the customer base (crm.Report, C17) as bar charts in
// SVG or PNG (Chart, drawn with gonum.org/v1/plot). PDF is the
// crm.ReportRenderer the reference server gives crm.Config.Reports, which
// Documents.FileReport files as a document.
//
// A report shows the customer's record, tags, attributes, labels,
// consents, points balance and recent history. Reports are internal
// documents: they include the internal description. Headings are in the
// report's language (English, Dutch, German, French or Polish; English
// for any other). Text is set in DejaVu Sans, embedded in this package
// (see fonts/LICENSE), so names in Latin, Greek and Cyrillic scripts print
// as they are ("Łukasz Dvořák", "Zoë Müller"); a PDF carries only the
// glyphs it uses.
package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/dossiercrm/dossier/crm"
)

// The embedded fonts: DejaVu Sans 2.37, under the Bitstream Vera license
// (fonts/LICENSE), which allows embedding and redistribution.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

const family = "DejaVuSans"

// Page layout, in millimetres on A4 (210 x 297).
const (
	marginLeft   = 18.0
	marginRight  = 18.0
	marginTop    = 14.0
	marginBottom = 18.0
	pageWidth    = 210.0
	contentWidth = pageWidth - marginLeft - marginRight
	labelWidth   = 46.0
	lineHeight   = 5.0
	rowGap       = 0.8 // between the rows of the customer record
)

// Colours, as grey levels.
const (
	black     = 0
	grey      = 100
	lightGrey = 200
	fillGrey  = 238
)

// PDF renders customer reports as A4 PDF documents. The zero value is
// ready to use; it is safe for concurrent use.
//
// The output depends only on the report: the document's creation date is
// the report's GeneratedAt, so rendering one report twice gives the same
// bytes.
type PDF struct {
	// Uncompressed writes the page contents without compression, so that
	// their text can be found in the file; for tests. Zero: compressed.
	Uncompressed bool
}

var _ crm.ReportRenderer = PDF{}

// ContentType is "application/pdf".
func (PDF) ContentType() string { return "application/pdf" }

// Extension is ".pdf".
func (PDF) Extension() string { return ".pdf" }

// Render writes r to w as a PDF document. On error w is left as it was.
func (p PDF) Render(w *bytes.Buffer, r *crm.CustomerReport) error {
	if r == nil {
		return errors.New("report: no report to render")
	}
	lang, t := textsFor(r.Language)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(!p.Uncompressed)
	// Same input, same bytes: a fixed order of resources and fixed dates.
	pdf.SetCatalogSort(true)
	at := r.GeneratedAt.UTC()
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetLang(lang)
	pdf.SetCreator("Dossier", false)
	pdf.SetProducer("Dossier (go-pdf/fpdf)", false)
	pdf.SetAuthor(clean(r.Organisation.Name, false), true)
	pdf.SetTitle(fmt.Sprintf("%s %d", t[msgTitle], r.Customer.Number), true)
	// Before the fonts: with an alias, fpdf keeps the digits out of the
	// font subset until they are used, and the last page's number uses
	// every digit of the page count.
	pdf.AliasNbPages("{nb}")
	pdf.AddUTF8FontFromBytes(family, "", fontRegular)
	pdf.AddUTF8FontFromBytes(family, "B", fontBold)
	pdf.SetMargins(marginLeft, marginTop, marginRight)
	pdf.SetAutoPageBreak(true, marginBottom)

	d := &doc{pdf: pdf, t: t, r: r}
	pdf.SetHeaderFunc(d.pageHeader)
	pdf.SetFooterFunc(d.pageFooter)
	pdf.AddPage()
	d.title()
	d.record()
	d.list(t[msgTags], r.Tags)
	d.list(t[msgAttributes], r.Attributes)
	d.labels()
	d.consents()
	d.points()
	d.history()

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	n := w.Len()
	if err := pdf.Output(w); err != nil {
		w.Truncate(n)
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// doc is one report being rendered.
type doc struct {
	pdf *fpdf.Fpdf
	t   *words
	r   *crm.CustomerReport
}

func (d *doc) font(style string, size float64, grey int) {
	d.pdf.SetFont(family, style, size)
	d.pdf.SetTextColor(grey, grey, grey)
}

// customerName is the customer's name for headings: the person, else the
// company, else (anonymised) the number alone.
func (d *doc) customerName() string {
	name := clean(d.r.Customer.DisplayName(), false)
	num := strconv.FormatInt(d.r.Customer.Number, 10)
	if name == "" {
		return "#" + num
	}
	return name + " (#" + num + ")"
}

// pageHeader is the line at the top of every page: the organisation, the
// report and the customer.
func (d *doc) pageHeader() {
	pdf := d.pdf
	half := contentWidth / 2
	d.font("B", 9, grey)
	pdf.CellFormat(half, lineHeight, fit(pdf, clean(d.r.Organisation.Name, false), half), "", 0, "L", false, 0, "")
	d.font("", 9, grey)
	pdf.CellFormat(half, lineHeight, fit(pdf, d.t[msgTitle]+" · "+d.customerName(), half), "", 1, "R", false, 0, "")
	y := pdf.GetY() + 1
	pdf.SetDrawColor(lightGrey, lightGrey, lightGrey)
	pdf.SetLineWidth(0.2)
	pdf.Line(marginLeft, y, pageWidth-marginRight, y)
	pdf.SetY(y + 5)
	d.font("", 10, black)
}

// pageFooter is the line at the bottom of every page.
func (d *doc) pageFooter() {
	pdf := d.pdf
	half := contentWidth / 2
	pdf.SetY(-12)
	d.font("", 8, grey)
	pdf.CellFormat(half, 4, d.t[msgInternal], "", 0, "L", false, 0, "")
	pdf.CellFormat(half, 4, fmt.Sprintf("%s %d %s {nb}", d.t[msgPage], pdf.PageNo(), d.t[msgOf]), "", 0, "R", false, 0, "")
}

// title is the top of the first page: what the document is, whom it is
// about, and when and by whom it was made.
func (d *doc) title() {
	pdf := d.pdf
	d.font("B", 18, black)
	pdf.MultiCell(contentWidth, 9, d.t[msgTitle], "", "L", false)
	d.font("B", 13, black)
	pdf.MultiCell(contentWidth, 7, d.customerName(), "", "L", false)
	d.font("", 9, grey)
	pdf.MultiCell(contentWidth, lineHeight, fmt.Sprintf("%s %s %s %s · %s",
		d.t[msgGenerated], formatTime(d.r.GeneratedAt), d.t[msgBy], clean(d.r.GeneratedBy.String(), false),
		clean(d.r.Organisation.Name, false)), "", "L", false)
	pdf.Ln(3)
}

// section starts a section with a heading, on a new page when fewer than
// room millimetres (besides the heading) are left on this one.
func (d *doc) section(heading string, room float64) {
	pdf := d.pdf
	d.ensure(10 + room)
	pdf.Ln(3)
	d.font("B", 12, black)
	pdf.CellFormat(contentWidth, 7, heading, "", 1, "L", false, 0, "")
	y := pdf.GetY()
	pdf.SetDrawColor(lightGrey, lightGrey, lightGrey)
	pdf.SetLineWidth(0.2)
	pdf.Line(marginLeft, y, pageWidth-marginRight, y)
	pdf.SetY(y + 1.5)
	d.font("", 10, black)
}

// ensure starts a new page when less than h millimetres are left on this
// one, unless h is more than a whole page could hold.
func (d *doc) ensure(h float64) {
	_, pageH := d.pdf.GetPageSize()
	limit := pageH - marginBottom
	if d.pdf.GetY()+h > limit && h < limit-marginTop-15 {
		d.pdf.AddPage()
	}
}

// field is one line of the customer record; empty values are left out.
type field struct {
	label, value string
}

// record is the customer's record, one field a row.
func (d *doc) record() {
	c, t := &d.r.Customer, d.t
	name := strings.Join(strings.Fields(c.FirstName+" "+c.MiddleName+" "+c.LastName), " ")
	fields := []field{
		{t[msgName], name},
		{t[msgNumber], strconv.FormatInt(c.Number, 10)},
		{t[msgCompany], c.Company},
		{t[msgAddress], address(c.Address)},
	}
	var phones []string
	for _, ph := range c.Phones {
		if k := t.phone(ph.Kind); k != "" {
			phones = append(phones, ph.Number+" ("+k+")")
		} else {
			phones = append(phones, ph.Number)
		}
	}
	fields = append(fields,
		field{t[msgPhones], strings.Join(phones, "\n")},
		field{t[msgEmails], strings.Join(append(nonEmpty(c.Email), c.AltEmails...), "\n")},
		field{t[msgLogin], c.LoginEmail},
		field{t[msgBirthDate], formatDate(c.BirthDate)},
		field{t[msgLanguage], c.Language},
		field{t[msgStatus], t.status(c.Status)},
		field{t[msgFirstContact], formatDate(c.FirstContact)},
		field{t[msgRemarks], c.Remarks},
		field{t[msgInternalDescription], c.InternalDescription},
	)
	if c.AnonymisedAt != nil {
		fields = append(fields, field{t[msgAnonymised], formatTime(*c.AnonymisedAt)})
	}
	d.section(t[msgCustomer], 2*lineHeight)
	d.fields(fields)
}

// fields writes label and value rows, leaving out empty values.
func (d *doc) fields(fields []field) {
	pdf := d.pdf
	valueWidth := contentWidth - labelWidth
	for _, f := range fields {
		value := clean(f.value, true)
		if strings.TrimSpace(value) == "" {
			continue
		}
		d.font("", 10, black)
		d.ensure(float64(len(pdf.SplitText(value, valueWidth))) * lineHeight)
		y := pdf.GetY()
		d.font("", 9, grey)
		pdf.CellFormat(labelWidth, lineHeight, fit(pdf, f.label, labelWidth), "", 0, "L", false, 0, "")
		d.font("", 10, black)
		pdf.SetXY(marginLeft+labelWidth, y)
		pdf.MultiCell(valueWidth, lineHeight, value, "", "L", false)
		pdf.Ln(rowGap)
	}
}

// list is a section whose contents are a list of names, or "None".
func (d *doc) list(heading string, names []string) {
	d.section(heading, lineHeight)
	text := d.t[msgNone]
	if len(names) > 0 {
		text = clean(strings.Join(names, ", "), false)
	}
	d.pdf.MultiCell(contentWidth, lineHeight, text, "", "L", false)
}

// none writes "None" under a section without entries.
func (d *doc) none() {
	d.font("", 10, grey)
	d.pdf.MultiCell(contentWidth, lineHeight, d.t[msgNone], "", "L", false)
	d.font("", 10, black)
}

func (d *doc) labels() {
	t := d.t
	d.section(t[msgLabels], 2*lineHeight)
	if len(d.r.Labels) == 0 {
		d.none()
		return
	}
	rows := make([][]string, len(d.r.Labels))
	for i, l := range d.r.Labels {
		rows[i] = []string{l.Name, formatDate(l.Until)}
	}
	d.table([]column{{t[msgLabel], 0.65}, {t[msgMemberUntil], 0.35}}, rows)
}

func (d *doc) consents() {
	t := d.t
	d.section(t[msgConsents], 2*lineHeight)
	if len(d.r.Consents) == 0 {
		d.none()
		return
	}
	rows := make([][]string, len(d.r.Consents))
	for i, c := range d.r.Consents {
		state := t.consent(c.State)
		if c.Pending {
			state += ", " + t[msgAwaitingConfirmation]
		}
		since := ""
		if !c.At.IsZero() {
			since = formatTime(c.At)
		}
		rows[i] = []string{c.Purpose, state, since}
	}
	d.table([]column{{t[msgPurpose], 0.4}, {t[msgState], 0.32}, {t[msgSince], 0.28}}, rows)
}

func (d *doc) points() {
	if d.r.Points == nil {
		return // points are off in the organisation
	}
	t, b := d.t, d.r.Points
	d.section(t[msgPoints], 3*(lineHeight+rowGap)) // the three rows stay together
	d.fields([]field{
		{t[msgAvailable], strconv.FormatInt(b.Available, 10)},
		{t[msgPending], strconv.FormatInt(b.Pending, 10)},
		{t[msgExpired], strconv.FormatInt(b.Expired, 10)},
	})
}

func (d *doc) history() {
	t := d.t
	d.section(t[msgHistory], 2*lineHeight)
	if len(d.r.History) == 0 {
		d.none()
		return
	}
	rows := make([][]string, len(d.r.History))
	for i, e := range d.r.History {
		changed := make([]string, len(e.Changes))
		for j, c := range e.Changes {
			changed[j] = c.Field
		}
		rows[i] = []string{formatTime(e.At), string(e.Kind), e.Actor.String(), strings.Join(changed, ", ")}
	}
	d.table([]column{{t[msgDate], 0.25}, {t[msgEvent], 0.27}, {t[msgActor], 0.18}, {t[msgFields], 0.3}}, rows)
}

// column is a table column: its heading and its share of the width.
type column struct {
	title string
	share float64
}

// table writes rows under a heading row, which is repeated at the top of
// every page the table continues on.
func (d *doc) table(cols []column, rows [][]string) {
	pdf := d.pdf
	widths := make([]float64, len(cols))
	for i, c := range cols {
		widths[i] = c.share * contentWidth
	}
	head := func() {
		d.font("B", 9, black)
		pdf.SetFillColor(fillGrey, fillGrey, fillGrey)
		for i, c := range cols {
			pdf.CellFormat(widths[i], 6, fit(pdf, c.title, widths[i]), "", 0, "L", true, 0, "")
		}
		pdf.Ln(-1)
	}
	_, pageH := pdf.GetPageSize()
	limit := pageH - marginBottom
	d.ensure(6 + lineHeight)
	head()
	pdf.SetDrawColor(lightGrey, lightGrey, lightGrey)
	for _, row := range rows {
		d.font("", 9, black)
		lines := 1
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = clean(v, true)
			if n := len(pdf.SplitText(cells[i], widths[i])); n > lines {
				lines = n
			}
		}
		h := float64(lines)*lineHeight + 1
		if pdf.GetY()+h > limit {
			pdf.AddPage()
			head()
			d.font("", 9, black)
		}
		y, x := pdf.GetY(), marginLeft
		// The automatic break is off inside a row: its cells stay together.
		pdf.SetAutoPageBreak(false, marginBottom)
		for i, v := range cells {
			pdf.SetXY(x, y+0.5)
			pdf.MultiCell(widths[i], lineHeight, v, "", "L", false)
			x += widths[i]
		}
		pdf.SetAutoPageBreak(true, marginBottom)
		pdf.SetY(y + h)
		pdf.Line(marginLeft, y+h, pageWidth-marginRight, y+h)
	}
}

// fit shortens s with an ellipsis until it fits in width w on one line.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	avail := w - 2*pdf.GetCellMargin()
	if pdf.GetStringWidth(s) <= avail {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && pdf.GetStringWidth(string(r)+"…") > avail {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// clean makes s safe to set in the embedded font. Characters outside the
// Basic Multilingual Plane (emoji, rare scripts), which fpdf's UTF-8
// support cannot set, become U+FFFD; other control characters become
// spaces, and so do line breaks unless multiline. Characters the font has
// no glyph for print as its empty box.
func clean(s string, multiline bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s {
		switch {
		case c == '\n' && multiline:
			b.WriteRune(c)
		case c > 0xFFFF || c == utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		case unicode.IsControl(c):
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// address formats a postal address over up to three lines.
func address(a crm.Address) string {
	lines := []string{
		strings.TrimSpace(a.Street + " " + a.HouseNumber),
		strings.TrimSpace(a.PostalCode + " " + a.City),
		a.Country,
	}
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// formatDate writes a date as ISO 8601, which reads the same in every
// language; nil is "".
func formatDate(d *crm.Date) string {
	if d == nil || d.IsZero() {
		return ""
	}
	return d.String()
}

// formatTime writes a time in UTC to the minute.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}
