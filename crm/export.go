package crm

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// ExportColumns are the standard columns of a customer export, by key, in
// their default order. Besides these an export takes "tags",
// "attributes", "custom.KEY" (a custom field), "consent.KEY" (the
// current state on a consent purpose), "bookings" (how many bookings,
// neither cancelled nor deleted, the customer has) and the columns of
// further ExportColumnSources.
var ExportColumns = []string{
	"number", "id", "firstName", "middleName", "lastName", "company", "street", "houseNumber",
	"postalCode", "city", "country", "phones", "email", "loginEmail", "altEmails", "birthDate",
	"passportExpiry", "status", "origin", "firstContact", "language", "assignedTo", "noPost",
	"noMailings", "remarks", "internalDescription", "createdAt", "updatedAt",
}

// ExportParams says what to export: a segment, or a filter (zero: the
// whole base), in a format, with a choice of columns.
type ExportParams struct {
	// SegmentID names a saved segment; when empty, Filter selects.
	SegmentID string `json:"segmentId,omitempty"`
	// Filter selects the customers when SegmentID is empty; its Sort is
	// ignored (exports run in customer-number order).
	Filter CustomerFilter `json:"filter,omitzero"`
	// Format: csv (default), xlsx or jsonl.
	Format TableFormat `json:"format,omitempty"`
	// Columns are the column keys in order. Empty: ExportColumns, then
	// tags, attributes, every custom field that is not archived and every
	// consent purpose.
	Columns []string `json:"columns,omitempty"`
	// Language of the headers; the organisation's default when empty.
	Language string `json:"language,omitempty"`
}

// ExportRecord is the trace an export leaves: who exported what, when, and
// how many customers (C5: a privacy auditor asks for it).
type ExportRecord struct {
	ID    string `json:"id"`
	OrgID string `json:"-"`
	Actor Actor  `json:"actor"`
	// At is when the export began; FinishedAt when its last row was
	// written (nil: it stopped early, e.g. the client went away).
	At         time.Time      `json:"at"`
	FinishedAt *time.Time     `json:"finishedAt,omitempty"`
	Format     TableFormat    `json:"format"`
	SegmentID  string         `json:"segmentId,omitempty"`
	Filter     CustomerFilter `json:"filter"`
	Columns    []string       `json:"columns"`
	// Rows is the number of customers written.
	Rows int64 `json:"rows"`
}

// ExportStore keeps the export records and reads what an export adds to a
// page of customers.
type ExportStore interface {
	// ExportRecordInsert stores a new export record.
	ExportRecordInsert(ctx context.Context, r *ExportRecord) error
	// ExportRecordFinish sets the finish time and row count of a record.
	ExportRecordFinish(ctx context.Context, orgID, id string, at time.Time, rows int64) error
	// ExportRecordList returns the organisation's export records, newest
	// first, up to limit, older than the record before (all when empty).
	ExportRecordList(ctx context.Context, orgID, before string, limit int) ([]ExportRecord, error)
	// ConsentStateListMany returns the current consent states (purpose
	// by id) of the customers, keyed by customer id.
	ConsentStateListMany(ctx context.Context, orgID string, customerIDs []string) (map[string][]CustomerConsent, error)
	// BookingCountMany returns how many bookings, neither cancelled nor
	// deleted, the customers (by number) have; customers without are left
	// out.
	BookingCountMany(ctx context.Context, orgID string, numbers []int64) (map[int64]int64, error)
	// ExportCustomerPage reads a page of the customers p selects, as
	// CustomerList with SortNumber would (the same filter): in number order
	// after p.AfterNumber, at most p.Limit. It reads only the number and
	// the fields named (keys of ExportColumns other than "phone", and
	// "customFields"), into the elements of rows, which it reuses (their
	// lists are refilled, other fields left as they were), and returns
	// the page: rows resliced, grown when needed.
	ExportCustomerPage(ctx context.Context, p CustomerListParams, fields []string, rows []Customer) ([]Customer, error)
	// ExportQualifierLinks appends to links the links to the tags and
	// attributes qualifierIDs (of kind, or both kinds when empty) of the
	// customers with the numbers (ascending), in customer number, kind,
	// slot and qualifier id order. It may add links of customers whose
	// numbers lie between the first and the last number but are not
	// among them.
	ExportQualifierLinks(ctx context.Context, orgID string, kind QualifierKind, qualifierIDs []string, numbers []int64, links []ExportLink) ([]ExportLink, error)
}

// ExportLink is a customer's link to a tag or an attribute as an export
// reads it: the customer by number.
type ExportLink struct {
	Number      int64
	Kind        QualifierKind
	QualifierID string
}

// ExportColumnSource adds columns to exports from another area (bookings
// add booking counts): Columns says which keys it serves with their
// headers, Fill reads the values of a page of customers at once. An
// export calls ExportFill from a goroutine of its own (see
// export_stages.go), one page at a time, while it reads the next page and
// writes the one before.
type ExportColumnSource interface {
	// ExportColumns returns the keys the source serves and their headers in lang.
	ExportColumns(ctx context.Context, orgID, lang string) (keys, labels []string, err error)
	// ExportFill returns, for each customer (by id) of the page, the
	// values of the columns asked for, by key. The customers carry their
	// id and number; other fields only as far as the export's own columns
	// read them.
	ExportFill(ctx context.Context, orgID string, columns []string, customers []Customer) (map[string]map[string]any, error)
}

// ExportService writes customers to files: the whole base, a segment or a
// filter, streamed a page at a time so memory stays the same for any
// number of customers. Every export is recorded (ExportRecord).
type ExportService struct {
	*core
	customers *CustomerService
	segments  *SegmentService
	// sources serve further columns; areas append theirs in New.
	sources []ExportColumnSource
}

// exportPage is how many customers an export reads at a time.
const exportPage = 2000

// exportColumn is one resolved column: how to get its value.
type exportColumn struct {
	key, label string
	value      func(c *Customer, x *exportExtras) any
	// text, when set, is the value's text as TableCellText gives it,
	// taken without an interface for a TableTextWriter.
	text   func(c *Customer, x *exportExtras) string
	source ExportColumnSource
}

// cellText is the text of column c's value for customer cust.
func (c *exportColumn) cellText(cust *Customer, x *exportExtras) string {
	if c.text != nil {
		return c.text(cust, x)
	}
	return TableCellText(c.value(cust, x))
}

// exportExtras are a page's linked data; row is the index in the page of
// the customer whose values are being taken.
type exportExtras struct {
	row              int
	tags, attributes [][]string
	consents         map[string][]CustomerConsent
	sourced          map[ExportColumnSource]map[string]map[string]any
}

// Export writes the customers p selects to w in p's format, and returns
// the export's record. The record is stored before the first row is
// written, and finished after the last: an export cut off midway is on
// record too. It needs Config.Tables.
func (s *ExportService) Export(ctx context.Context, p ExportParams, w io.Writer) (*ExportRecord, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.Tables == nil {
		return nil, errors.New("crm: exports need Config.Tables (crm/tabular)")
	}
	// Taking customers' data out in bulk is exporting customer data: the
	// organisation's switch for staff governs it as it does one
	// customer's export, and a customer may never export others.
	org, err := s.organisation(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	if err := allowed(ctx, org, ActionExport, ""); err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	switch p.Format {
	case "":
		p.Format = FormatCSV
	case FormatCSV, FormatXLSX, FormatJSONLines:
	default:
		v.add("format", "oneof", "csv, xlsx, jsonl")
	}
	f := p.Filter
	if p.SegmentID != "" {
		seg, err := s.segments.Get(ctx, p.SegmentID)
		if errors.Is(err, ErrNotFound) {
			v.add("segmentId", "unknown", "")
		} else if err != nil {
			return nil, err
		} else {
			f = seg.Filter
		}
	}
	f.Sort = SortNumber
	lp, err := s.customers.compileFilter(ctx, sc, v, f)
	if err != nil {
		return nil, err
	}
	org, err = s.organisation(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	lang := org.DefaultLanguage
	if p.Language != "" {
		lang = checkLanguage(v, "language", p.Language)
	}
	cols, err := s.columns(ctx, sc, v, lang, p.Columns)
	if err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	tw, err := s.cfg.Tables.NewWriter(w, p.Format)
	if err != nil {
		return nil, err
	}
	rec := &ExportRecord{ID: newID(), OrgID: sc.org, Actor: sc.actor, At: s.now(), Format: p.Format,
		SegmentID: p.SegmentID, Filter: p.Filter, Columns: make([]string, len(cols))}
	keys, labels := make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		keys[i], labels[i], rec.Columns[i] = c.key, c.label, c.key
	}
	if err := s.store.ExportRecordInsert(ctx, rec); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(keys, labels); err != nil {
		return rec, err
	}
	needs := map[string]bool{}
	bySource := map[ExportColumnSource][]string{}
	for _, c := range cols {
		switch {
		case c.source != nil:
			bySource[c.source] = append(bySource[c.source], c.key)
		case c.key == "tags" || c.key == "attributes":
			needs[c.key] = true
		case strings.HasPrefix(c.key, "consent."):
			needs["consent"] = true
		}
	}
	fields := exportFields(cols, len(bySource) > 0 || needs["consent"])
	tagNames, attrNames, err := s.qualifierNames(ctx, sc, needs)
	if err != nil {
		return rec, err
	}
	qualifierIDs := make([]string, 0, len(tagNames)+len(attrNames))
	for id := range tagNames {
		qualifierIDs = append(qualifierIDs, id)
	}
	for id := range attrNames {
		qualifierIDs = append(qualifierIDs, id)
	}
	slices.Sort(qualifierIDs)
	var linkKind QualifierKind
	switch {
	case needs["tags"] && !needs["attributes"]:
		linkKind = KindTag
	case needs["attributes"] && !needs["tags"]:
		linkKind = KindAttribute
	}
	lp.Limit = exportPage
	links := exportLinking{needs: needs, bySource: bySource, tagNames: tagNames, attrNames: attrNames,
		qualifierIDs: qualifierIDs, kind: linkKind}
	read := func(ctx context.Context, b *exportBatch) (more bool, err error) {
		if b.page, err = s.store.ExportCustomerPage(ctx, lp, fields, b.page); err != nil {
			return false, err
		}
		if len(b.page) < exportPage {
			return false, nil
		}
		lp.AfterNumber = b.page[len(b.page)-1].Number
		return true, nil
	}
	link := func(ctx context.Context, b *exportBatch) error { return s.link(ctx, sc, &links, b) }
	row := make([]any, len(cols))
	textWriter, _ := tw.(TableTextWriter)
	cells := make([]string, len(cols))
	write := func(b *exportBatch) error {
		if textWriter != nil {
			for i := range b.page {
				b.x.row = i
				for j := range cols {
					if c := &cols[j]; c.source != nil {
						cells[j] = TableCellText(b.x.sourced[c.source][b.page[i].ID][c.key])
					} else {
						cells[j] = c.cellText(&b.page[i], &b.x)
					}
				}
				if err := textWriter.WriteTextRow(cells); err != nil {
					return err
				}
			}
			rec.Rows += int64(len(b.page))
			return nil
		}
		for i := range b.page {
			b.x.row = i
			for j, c := range cols {
				if c.source != nil {
					row[j] = b.x.sourced[c.source][b.page[i].ID][c.key]
					continue
				}
				row[j] = c.value(&b.page[i], &b.x)
			}
			if err := tw.WriteRow(row); err != nil {
				return err
			}
		}
		rec.Rows += int64(len(b.page))
		return nil
	}
	if err := runExportStages(ctx, inCallTx(ctx), read, link, write); err != nil {
		return rec, err
	}
	if err := tw.Close(); err != nil {
		return rec, err
	}
	at := s.now()
	rec.FinishedAt = &at
	if err := s.store.ExportRecordFinish(ctx, sc.org, rec.ID, at, rec.Rows); err != nil {
		return rec, err
	}
	return rec, nil
}

// exportFields returns the customer fields the columns read (see
// ExportStore.ExportCustomerPage); withID adds the id, which linked data
// and column sources key their values by.
func exportFields(cols []exportColumn, withID bool) []string {
	var fields []string
	add := func(f string) {
		if !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	if withID {
		add("id")
	}
	for _, c := range cols {
		switch {
		case c.source != nil:
		case c.key == "phone":
			add("phones")
		case strings.HasPrefix(c.key, "custom."):
			add("customFields")
		case slices.Contains(ExportColumns, c.key):
			add(c.key)
		}
	}
	return fields
}

// resizeLists returns lists with n empty lists when want, nil otherwise.
func resizeLists(lists [][]string, n int, want bool) [][]string {
	if !want {
		return nil
	}
	if cap(lists) < n {
		lists = make([][]string, n)
	}
	lists = lists[:n]
	clear(lists)
	return lists
}

// Records returns the organisation's export records, newest first: a page
// of up to page.Limit after page.Cursor.
func (s *ExportService) Records(ctx context.Context, page PageRequest) (Page[ExportRecord], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[ExportRecord]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && !validID(cur.ID)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[ExportRecord]{}, err
	}
	items, err := s.store.ExportRecordList(ctx, sc.org, cur.ID, limit+1)
	if err != nil {
		return Page[ExportRecord]{}, err
	}
	out := Page[ExportRecord]{Items: items}
	if out.Items == nil {
		out.Items = []ExportRecord{}
	}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = cursor{ID: items[limit-1].ID}.encode()
	}
	return out, nil
}

// qualifierNames loads the names of the tags and attributes (by id) when
// the columns need them.
func (s *ExportService) qualifierNames(ctx context.Context, sc scope, needs map[string]bool) (tags, attrs map[string]string, err error) {
	load := func(kind QualifierKind) (map[string]string, error) {
		qs, err := s.store.QualifierList(ctx, sc.org, kind)
		if err != nil {
			return nil, err
		}
		m := make(map[string]string, len(qs))
		for _, q := range qs {
			m[q.ID] = q.Name
		}
		return m, nil
	}
	if needs["tags"] {
		if tags, err = load(KindTag); err != nil {
			return nil, nil, err
		}
	}
	if needs["attributes"] {
		if attrs, err = load(KindAttribute); err != nil {
			return nil, nil, err
		}
	}
	return tags, attrs, nil
}

// columns resolves the column keys asked for (or the default set).
func (s *ExportService) columns(ctx context.Context, sc scope, v *validation, lang string, keys []string) ([]exportColumn, error) {
	defs, err := s.store.CustomFieldList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	purposes, err := s.store.ConsentPurposeList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	type sourced struct {
		src   ExportColumnSource
		label string
	}
	extra := map[string]sourced{}
	var extraKeys []string
	for _, src := range s.sources {
		ks, ls, err := src.ExportColumns(ctx, sc.org, lang)
		if err != nil {
			return nil, err
		}
		for i, k := range ks {
			extra[k] = sourced{src, ls[i]}
			extraKeys = append(extraKeys, k)
		}
	}
	if len(keys) == 0 {
		keys = append(slices.Clone(ExportColumns), "tags", "attributes")
		for _, d := range defs {
			if !d.Archived() {
				keys = append(keys, "custom."+d.Key)
			}
		}
		for _, p := range purposes {
			keys = append(keys, "consent."+p.Key)
		}
		keys = append(keys, extraKeys...)
	}
	if len(keys) > 500 {
		v.add("columns", "maxItems", "500")
		return nil, nil
	}
	cols := make([]exportColumn, 0, len(keys))
	seen := map[string]bool{}
	for i, key := range keys {
		field := "columns[" + strconv.Itoa(i) + "]"
		if seen[key] {
			v.add(field, "duplicate", "")
			continue
		}
		seen[key] = true
		if x, ok := extra[key]; ok {
			cols = append(cols, exportColumn{key: key, label: x.label, source: x.src})
			continue
		}
		col, ok := standardColumn(key)
		switch {
		case ok:
			col.label = i18n.ColumnLabel(lang, key)
		case strings.HasPrefix(key, "custom."):
			ck := strings.TrimPrefix(key, "custom.")
			j := slices.IndexFunc(defs, func(d CustomFieldDefinition) bool { return d.Key == ck })
			if j < 0 {
				v.add(field, "unknown", "")
				continue
			}
			col = exportColumn{key: key, label: defs[j].Label, value: func(c *Customer, _ *exportExtras) any {
				return exportValue(c.CustomFields[ck])
			}}
		case strings.HasPrefix(key, "consent."):
			pk := strings.TrimPrefix(key, "consent.")
			j := slices.IndexFunc(purposes, func(p ConsentPurpose) bool { return p.Key == pk })
			if j < 0 {
				v.add(field, "unknown", "")
				continue
			}
			pid := purposes[j].ID
			col = exportColumn{key: key, label: i18n.ColumnLabel(lang, "consent") + ": " + purposes[j].Name,
				value: func(c *Customer, x *exportExtras) any {
					for _, cc := range x.consents[c.ID] {
						if cc.PurposeID == pid {
							return string(cc.State)
						}
					}
					return string(ConsentNever)
				}}
		case key == "tags" || key == "attributes":
			col = qualifierColumn(key)
			col.label = i18n.ColumnLabel(lang, key)
		default:
			v.add(field, "unknown", "")
			continue
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// qualifierColumn is the column of a customer's tags or (key
// "attributes") attributes: the names of a page's linked ones.
func qualifierColumn(key string) exportColumn {
	names := func(x *exportExtras) []string {
		if key == "tags" {
			return x.tags[x.row]
		}
		return x.attributes[x.row]
	}
	return exportColumn{key: key, value: func(_ *Customer, x *exportExtras) any { return names(x) },
		text: func(_ *Customer, x *exportExtras) string { return strings.Join(names(x), "; ") }}
}

// exportValue turns a custom field value into a table value.
func exportValue(val any) any {
	switch x := val.(type) {
	case nil:
		return nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool, string:
		return x
	default:
		return nil
	}
}

// standardColumn returns the column of a standard key.
func standardColumn(key string) (exportColumn, bool) {
	str := func(get func(c *Customer) string) exportColumn {
		return exportColumn{key: key, value: func(c *Customer, _ *exportExtras) any { return get(c) },
			text: func(c *Customer, _ *exportExtras) string { return get(c) }}
	}
	date := func(get func(c *Customer) *Date) exportColumn {
		text := func(c *Customer, _ *exportExtras) string {
			if d := get(c); d != nil {
				return d.String()
			}
			return ""
		}
		return exportColumn{key: key, value: func(c *Customer, x *exportExtras) any {
			if get(c) == nil {
				return nil
			}
			return text(c, x)
		}, text: text}
	}
	at := func(get func(c *Customer) time.Time) exportColumn {
		text := func(c *Customer, _ *exportExtras) string { return get(c).Format(time.RFC3339) }
		return exportColumn{key: key, value: func(c *Customer, x *exportExtras) any { return text(c, x) }, text: text}
	}
	switch key {
	case "number":
		return exportColumn{key: key, value: func(c *Customer, _ *exportExtras) any { return c.Number },
			text: func(c *Customer, _ *exportExtras) string { return strconv.FormatInt(c.Number, 10) }}, true
	case "id":
		return str(func(c *Customer) string { return c.ID }), true
	case "firstName":
		return str(func(c *Customer) string { return c.FirstName }), true
	case "middleName":
		return str(func(c *Customer) string { return c.MiddleName }), true
	case "lastName":
		return str(func(c *Customer) string { return c.LastName }), true
	case "company":
		return str(func(c *Customer) string { return c.Company }), true
	case "street":
		return str(func(c *Customer) string { return c.Address.Street }), true
	case "houseNumber":
		return str(func(c *Customer) string { return c.Address.HouseNumber }), true
	case "postalCode":
		return str(func(c *Customer) string { return c.Address.PostalCode }), true
	case "city":
		return str(func(c *Customer) string { return c.Address.City }), true
	case "country":
		return str(func(c *Customer) string { return c.Address.Country }), true
	case "phone":
		return str(func(c *Customer) string {
			if len(c.Phones) > 0 {
				return c.Phones[0].Number
			}
			return ""
		}), true
	case "phones":
		return exportColumn{key: key, value: func(c *Customer, _ *exportExtras) any {
			out := make([]string, len(c.Phones))
			for i, p := range c.Phones {
				out[i] = p.Number
			}
			return out
		}, text: func(c *Customer, _ *exportExtras) string {
			switch len(c.Phones) {
			case 0:
				return ""
			case 1:
				return c.Phones[0].Number
			}
			var b strings.Builder
			for i, p := range c.Phones {
				if i > 0 {
					b.WriteString("; ")
				}
				b.WriteString(p.Number)
			}
			return b.String()
		}}, true
	case "email":
		return str(func(c *Customer) string { return c.Email }), true
	case "loginEmail":
		return str(func(c *Customer) string { return c.LoginEmail }), true
	case "altEmails":
		return exportColumn{key: key, value: func(c *Customer, _ *exportExtras) any { return c.AltEmails },
			text: func(c *Customer, _ *exportExtras) string { return strings.Join(c.AltEmails, "; ") }}, true
	case "birthDate":
		return date(func(c *Customer) *Date { return c.BirthDate }), true
	case "passportExpiry":
		return date(func(c *Customer) *Date { return c.PassportExpiry }), true
	case "firstContact":
		return date(func(c *Customer) *Date { return c.FirstContact }), true
	case "status":
		return str(func(c *Customer) string { return string(c.Status) }), true
	case "origin":
		return str(func(c *Customer) string { return c.Origin }), true
	case "language":
		return str(func(c *Customer) string { return c.Language }), true
	case "assignedTo":
		return str(func(c *Customer) string { return c.AssignedTo }), true
	case "noPost":
		return exportColumn{key: key, value: func(c *Customer, _ *exportExtras) any { return c.NoPost },
			text: func(c *Customer, _ *exportExtras) string { return strconv.FormatBool(c.NoPost) }}, true
	case "noMailings":
		return exportColumn{key: key, value: func(c *Customer, _ *exportExtras) any { return c.NoMailings },
			text: func(c *Customer, _ *exportExtras) string { return strconv.FormatBool(c.NoMailings) }}, true
	case "remarks":
		return str(func(c *Customer) string { return c.Remarks }), true
	case "internalDescription":
		return str(func(c *Customer) string { return c.InternalDescription }), true
	case "createdAt":
		return at(func(c *Customer) time.Time { return c.CreatedAt }), true
	case "updatedAt":
		return at(func(c *Customer) time.Time { return c.UpdatedAt }), true
	}
	return exportColumn{}, false
}
