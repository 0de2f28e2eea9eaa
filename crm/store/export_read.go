package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// The read path of bulk exports (issue 18): one statement per page that
// selects only the columns the export's columns need, scanned with
// database/sql into the fields of reused customers, without bun's
// reflective model scan; JSON columns are decoded only when asked for, the
// phone and e-mail lists with a decoder for their one shape.

// exportField is how a customer field is read for an export: its select
// expression per database, where it is scanned to, and what turns the
// scanned value into the customer's field.
type exportField struct {
	sqlite, pg string
	// packed is the expression that goes into the row's one JSON array
	// on SQLite (see ExportCustomerPage); empty: a column of its own.
	packed string
	// dest returns the scan destination for row c (a field of c or of the
	// scratch values).
	dest func(c *crm.Customer, x *exportScratch) any
	// set, when not nil, moves the scratch value into c after the scan.
	set func(c *crm.Customer, x *exportScratch) error
}

// exportScratch holds the values of a row that need converting.
type exportScratch struct {
	birth, passport, firstContact sql.NullString
	phones, altEmails, custom     sql.RawBytes
	created, updated              time.Time
}

// text reads a NOT NULL text column as is, and a nullable one as "" when NULL.
func textField(col string, get func(c *crm.Customer) *string) exportField {
	return exportField{sqlite: col, pg: col, packed: col, dest: func(c *crm.Customer, _ *exportScratch) any { return get(c) }}
}

// dateField reads a DATE column as 'YYYY-MM-DD' text.
func dateField(col string, tmp func(x *exportScratch) *sql.NullString, get func(c *crm.Customer) **crm.Date) exportField {
	return exportField{
		sqlite: "substr(" + col + ", 1, 10)", pg: "to_char(" + col + ", 'YYYY-MM-DD')", packed: "substr(" + col + ", 1, 10)",
		dest: func(_ *crm.Customer, x *exportScratch) any { return tmp(x) },
		set: func(c *crm.Customer, x *exportScratch) error {
			v, p := tmp(x), get(c)
			if !v.Valid {
				*p = nil
				return nil
			}
			d, err := parseExportDate(v.String)
			if err != nil {
				return err
			}
			if *p == nil {
				*p = new(crm.Date)
			}
			**p = d
			return nil
		},
	}
}

// jsonPacked puts a JSON column into the row's array as a string (which
// SQLite only escapes; json() would parse and validate it first).
func jsonPacked(col string) string { return col }

// exportFields are the fields an export may read, by the key of their
// export column ("customFields": the custom field values).
var exportFields = map[string]exportField{
	"id":                  textField("id", func(c *crm.Customer) *string { return &c.ID }),
	"firstName":           textField("first_name", func(c *crm.Customer) *string { return &c.FirstName }),
	"middleName":          textField("middle_name", func(c *crm.Customer) *string { return &c.MiddleName }),
	"lastName":            textField("last_name", func(c *crm.Customer) *string { return &c.LastName }),
	"company":             textField("company", func(c *crm.Customer) *string { return &c.Company }),
	"street":              textField("street", func(c *crm.Customer) *string { return &c.Address.Street }),
	"houseNumber":         textField("house_number", func(c *crm.Customer) *string { return &c.Address.HouseNumber }),
	"postalCode":          textField("postal_code", func(c *crm.Customer) *string { return &c.Address.PostalCode }),
	"city":                textField("city", func(c *crm.Customer) *string { return &c.Address.City }),
	"country":             textField("country", func(c *crm.Customer) *string { return &c.Address.Country }),
	"email":               textField("COALESCE(email, '')", func(c *crm.Customer) *string { return &c.Email }),
	"loginEmail":          textField("COALESCE(login_email, '')", func(c *crm.Customer) *string { return &c.LoginEmail }),
	"origin":              textField("origin", func(c *crm.Customer) *string { return &c.Origin }),
	"language":            textField("language", func(c *crm.Customer) *string { return &c.Language }),
	"assignedTo":          textField("assigned_to", func(c *crm.Customer) *string { return &c.AssignedTo }),
	"remarks":             textField("remarks", func(c *crm.Customer) *string { return &c.Remarks }),
	"internalDescription": textField("internal_description", func(c *crm.Customer) *string { return &c.InternalDescription }),
	"status": {sqlite: "status", pg: "status", packed: "status",
		dest: func(c *crm.Customer, _ *exportScratch) any { return (*string)(&c.Status) }},
	"noPost": {sqlite: "no_post", pg: "no_post", packed: "no_post",
		dest: func(c *crm.Customer, _ *exportScratch) any { return &c.NoPost }},
	"noMailings": {sqlite: "no_mailings", pg: "no_mailings", packed: "no_mailings",
		dest: func(c *crm.Customer, _ *exportScratch) any { return &c.NoMailings }},
	"birthDate": dateField("birth_date", func(x *exportScratch) *sql.NullString { return &x.birth },
		func(c *crm.Customer) **crm.Date { return &c.BirthDate }),
	"passportExpiry": dateField("passport_expiry", func(x *exportScratch) *sql.NullString { return &x.passport },
		func(c *crm.Customer) **crm.Date { return &c.PassportExpiry }),
	"firstContact": dateField("first_contact", func(x *exportScratch) *sql.NullString { return &x.firstContact },
		func(c *crm.Customer) **crm.Date { return &c.FirstContact }),
	"phones": {sqlite: "phones", pg: "phones", packed: jsonPacked("phones"),
		dest: func(_ *crm.Customer, x *exportScratch) any { return &x.phones },
		set: func(c *crm.Customer, x *exportScratch) (err error) {
			c.Phones, err = decodePhones(x.phones, c.Phones[:0])
			return err
		}},
	"altEmails": {sqlite: "alt_emails", pg: "alt_emails", packed: jsonPacked("alt_emails"),
		dest: func(_ *crm.Customer, x *exportScratch) any { return &x.altEmails },
		set: func(c *crm.Customer, x *exportScratch) (err error) {
			c.AltEmails, err = decodeStrings(x.altEmails, c.AltEmails[:0])
			return err
		}},
	"customFields": {sqlite: "custom_fields", pg: "custom_fields", packed: jsonPacked("custom_fields"),
		dest: func(_ *crm.Customer, x *exportScratch) any { return &x.custom },
		set: func(c *crm.Customer, x *exportScratch) error {
			c.CustomFields = nil
			if len(x.custom) == 0 {
				return nil
			}
			return json.Unmarshal(x.custom, &c.CustomFields)
		}},
	"createdAt": {sqlite: "created_at", pg: "created_at",
		dest: func(_ *crm.Customer, x *exportScratch) any { return &x.created },
		set: func(c *crm.Customer, x *exportScratch) error {
			c.CreatedAt = utc(x.created)
			return nil
		}},
	"updatedAt": {sqlite: "updated_at", pg: "updated_at",
		dest: func(_ *crm.Customer, x *exportScratch) any { return &x.updated },
		set: func(c *crm.Customer, x *exportScratch) error {
			c.UpdatedAt = utc(x.updated)
			return nil
		}},
}

// ExportCustomerPage implements crm.ExportStore: the page's numbers are
// found as CustomerList finds them (the same filter, drivers and plans),
// and the rows are read in the same statement.
func (s *DB) ExportCustomerPage(ctx context.Context, p crm.CustomerListParams, fields []string, rows []crm.Customer) ([]crm.Customer, error) {
	pg := s.dialect.name == postgresDialect.name
	cols := make([]string, 0, len(fields)+1)
	cols = append(cols, "number")
	// On SQLite the fields that can go into one JSON array do: the driver
	// then reads two or three columns a row instead of up to thirty, each
	// of which costs it calls into SQLite under its mutex and a copy.
	var packed, plain []exportField
	for _, key := range fields {
		if key == "number" {
			continue
		}
		f, ok := exportFields[key]
		if !ok {
			return nil, fmt.Errorf("store: an export cannot read the field %q", key)
		}
		if !pg && f.packed != "" {
			packed = append(packed, f)
		} else {
			plain = append(plain, f)
		}
	}
	if len(packed) > 0 {
		exprs := make([]string, len(packed))
		for i, f := range packed {
			exprs[i] = f.packed
		}
		cols = append(cols, "json_array("+strings.Join(exprs, ", ")+")")
	}
	for _, f := range plain {
		if pg {
			cols = append(cols, f.pg)
		} else {
			cols = append(cols, f.sqlite)
		}
	}
	use := append(slices.Clip(packed), plain...)
	p.Sort = crm.SortNumber
	var (
		q   *bun.SelectQuery
		led bool
	)
	if plainPage(p) {
		// The whole base: one range of the (org, number) index.
		q = s.db.NewSelect().TableExpr("customers").ColumnExpr(strings.Join(cols, ", ")).Where("org_id = ?", p.OrgID)
		if p.AfterNumber > 0 {
			q = q.Where("number > ?", p.AfterNumber)
		}
		q = q.OrderExpr("number").Limit(int64(p.Limit))
	} else {
		keys, _, l, err := s.pageNumbers(ctx, p)
		if err != nil {
			return nil, err
		}
		led = l
		// On PostgreSQL the numbers go in as an array computed once: with
		// IN (subquery) the planner chose a hash join over every customer
		// of the organisation (176 ms a page at 100,000 customers, 9 ms so).
		in := "number IN (?)"
		if pg {
			in = "number = ANY(ARRAY(?))"
		}
		q = s.db.NewSelect().TableExpr("customers").ColumnExpr(strings.Join(cols, ", ")).Where("org_id = ?", p.OrgID).
			Where(in, keys).OrderExpr("number")
	}
	b, err := q.AppendQuery(s.bun.QueryGen(), nil)
	if err != nil {
		return nil, err
	}
	rows = rows[:0]
	var (
		x      exportScratch
		array  sql.RawBytes
		values []jsonValue
	)
	dest := make([]any, len(cols))
	scan := func(r *sql.Rows) error {
		for r.Next() {
			if len(rows) < cap(rows) {
				rows = rows[:len(rows)+1]
			} else {
				rows = append(rows, crm.Customer{})
			}
			c := &rows[len(rows)-1]
			c.OrgID = p.OrgID
			dest[0] = &c.Number
			k := 1
			if len(packed) > 0 {
				dest[1] = &array
				k = 2
			}
			for i, f := range plain {
				dest[k+i] = f.dest(c, &x)
			}
			if err := r.Scan(dest...); err != nil {
				return err
			}
			if len(packed) > 0 {
				var err error
				if values, err = splitJSONArray(array, values[:0]); err == nil && len(values) != len(packed) {
					err = fmt.Errorf("%d values for %d fields", len(values), len(packed))
				}
				for i := 0; err == nil && i < len(packed); i++ {
					err = values[i].assign(packed[i].dest(c, &x))
				}
				if err != nil {
					return fmt.Errorf("customer %d: %w", c.Number, err)
				}
			}
			for _, f := range use {
				if f.set != nil {
					if err := f.set(c, &x); err != nil {
						return fmt.Errorf("customer %d: %w", c.Number, err)
					}
				}
			}
		}
		return r.Err()
	}
	if err := s.queryPage(ctx, string(b), led || p.NameContains != "", scan); err != nil {
		return nil, interpretError(err)
	}
	return rows, nil
}

// plainPage reports whether p selects every customer of its organisation.
func plainPage(p crm.CustomerListParams) bool {
	if p.MembershipLabel == "" {
		p.MembershipDay = crm.Date{} // the day matters only with a label
	}
	p.OrgID, p.Sort, p.AfterNumber, p.Limit = "", "", 0, 0
	return reflect.ValueOf(p).IsZero()
}

// queryPage runs a page query (its text, arguments in it) and scans its
// rows, with the dialect's page settings when settings says the plan needs
// them (see CustomerList).
func (s *DB) queryPage(ctx context.Context, query string, settings bool, scan func(*sql.Rows) error) error {
	run := func(q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}, query string) error {
		r, err := q.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer r.Close()
		return scan(r)
	}
	tx, inTx := s.db.(bun.Tx)
	switch {
	case len(s.dialect.pageSettings) == 0 || !settings:
		if inTx {
			return run(tx.Tx, query)
		}
		return run(s.bun.DB, query)
	case !inTx:
		// The settings and the query in one simple query (see CustomerList).
		return run(s.bun.DB, strings.Join(s.dialect.pageSettings, "; ")+"; "+query)
	default:
		for _, stmt := range s.dialect.pageSettings {
			if _, err := tx.Tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return run(tx.Tx, query)
	}
}

// exportRangeQualifiers is the most tags and attributes for which
// ExportQualifierLinks reads the links of a page's range of numbers, one
// range of the (org, qualifier, kind, number) index per tag or attribute;
// an organisation with more has its links read by customer instead.
const exportRangeQualifiers = 200

// ExportQualifierLinks implements crm.ExportStore. With up to
// exportRangeQualifiers qualifiers, it reads the links whose number lies
// between the page's first and last, one index range per qualifier: the
// pages of an export never overlap, so the export reads each link of the
// organisation at most once whatever its filter, and a page costs no
// lookup per customer. With more, it reads the links of the page's
// customers by their primary key.
func (s *DB) ExportQualifierLinks(ctx context.Context, orgID string, kind crm.QualifierKind, qualifierIDs []string, numbers []int64, links []crm.ExportLink) ([]crm.ExportLink, error) {
	if len(numbers) == 0 || len(qualifierIDs) == 0 {
		return links, nil
	}
	kinds := []string{string(kind)}
	if kind == "" {
		kinds = []string{string(crm.KindAttribute), string(crm.KindTag)}
	}
	table := "customer_qualifiers AS cq"
	if len(qualifierIDs) <= exportRangeQualifiers && s.dialect.name == sqliteDialect.name {
		// Without fresh statistics (right after a bulk import, before the
		// background analysis) SQLite reads every link of the organisation
		// by the primary key for each page, which made a million-customer
		// export quadratic (12,000 rows/s instead of 70,000): the
		// qualifier index is the right plan for this shape whatever the
		// statistics say.
		table += " INDEXED BY customer_qualifiers_qualifier_idx"
	}
	q := s.db.NewSelect().TableExpr(table).ColumnExpr("cq.number, cq.kind, cq.qualifier_id").
		Where("cq.org_id = ?", orgID).Where("cq.kind IN (?)", bun.List(kinds))
	if len(qualifierIDs) <= exportRangeQualifiers {
		q = q.Where("cq.qualifier_id IN (?)", bun.List(qualifierIDs)).
			Where("cq.number >= ?", numbers[0]).Where("cq.number <= ?", numbers[len(numbers)-1])
	} else {
		q = q.Where("cq.customer_id IN (?)", s.numbersIn(s.db.NewSelect().TableExpr("customers").Column("id").Where("org_id = ?", orgID), "number", numbers))
	}
	b, err := q.OrderExpr("cq.number, cq.kind, cq.slot, cq.qualifier_id").AppendQuery(s.bun.QueryGen(), nil)
	if err != nil {
		return nil, err
	}
	err = s.queryPage(ctx, string(b), false, func(r *sql.Rows) error {
		var l crm.ExportLink
		for r.Next() {
			if err := r.Scan(&l.Number, (*string)(&l.Kind), &l.QualifierID); err != nil {
				return err
			}
			links = append(links, l)
		}
		return r.Err()
	})
	return links, interpretError(err)
}

// numbersIn adds "col is one of numbers" to q as one argument (a JSON
// array on SQLite, an array on PostgreSQL): the statement's text stays
// short and the planner does not weigh each number.
func (s *DB) numbersIn(q *bun.SelectQuery, col string, numbers []int64) *bun.SelectQuery {
	b := make([]byte, 0, len(numbers)*8)
	b = append(b, '[')
	for i, n := range numbers {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ']')
	if s.dialect.name == postgresDialect.name {
		b[0], b[len(b)-1] = '{', '}'
		return q.Where(col+" = ANY(CAST(? AS bigint[]))", string(b))
	}
	return q.Where(col+" IN (SELECT value FROM json_each(?))", string(b))
}

// idsIn adds "col is one of ids" to q as one argument, as numbersIn does
// for numbers: an export asks for the consents of a page's 2,000
// customers, and 2,000 ids written into the statement made SQLite parse
// and plan a statement of some 80 kB for every page.
func (s *DB) idsIn(q *bun.SelectQuery, col string, ids []string) *bun.SelectQuery {
	if s.dialect.name == postgresDialect.name {
		b := make([]byte, 0, len(ids)*39+2)
		b = append(b, '{')
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendArrayElement(b, id)
		}
		b = append(b, '}')
		return q.Where(col+" = ANY(CAST(? AS uuid[]))", string(b))
	}
	b, _ := json.Marshal(ids) // a []string always marshals
	return q.Where(col+" IN (SELECT value FROM json_each(?))", string(b))
}

// appendArrayElement appends v as a double-quoted element of a
// PostgreSQL array literal.
func appendArrayElement(b []byte, v string) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}

// parseExportDate reads 'YYYY-MM-DD' (the first ten characters of what the
// database holds, as date.Scan does) without going through time.Parse
// when the text is plainly digits.
func parseExportDate(s string) (crm.Date, error) {
	if len(s) > 10 {
		s = s[:10]
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		if ok1 && ok2 && ok3 && y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= 28 {
			return crm.Date{Year: y, Month: time.Month(m), Day: d}, nil
		}
	}
	return crm.ParseDate(s)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// decodePhones decodes the phones column (a JSON array of {"kind",
// "number"} objects) into out: plain text without escapes is read by
// hand, anything else by encoding/json.
func decodePhones(b []byte, out []crm.Phone) ([]crm.Phone, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := jsonScan{b: b}
	if d.null() {
		return nil, nil
	}
	if !d.byte('[') {
		return slowPhones(b)
	}
	if d.byte(']') {
		return endJSON(&d, out, b, slowPhones)
	}
	for {
		if !d.byte('{') {
			return slowPhones(b)
		}
		var ph crm.Phone
		for !d.byte('}') {
			key, ok := d.str()
			if !ok || !d.byte(':') {
				return slowPhones(b)
			}
			val, ok := d.str()
			if !ok {
				return slowPhones(b)
			}
			switch string(key) {
			case "kind":
				ph.Kind = crm.PhoneKind(val)
			case "number":
				ph.Number = string(val)
			default:
				return slowPhones(b)
			}
			if !d.byte(',') && d.peek() != '}' {
				return slowPhones(b)
			}
		}
		out = append(out, ph)
		if d.byte(']') {
			return endJSON(&d, out, b, slowPhones)
		}
		if !d.byte(',') {
			return slowPhones(b)
		}
	}
}

func slowPhones(b []byte) ([]crm.Phone, error) {
	var out []crm.Phone
	err := json.Unmarshal(b, &out)
	return out, err
}

// decodeStrings decodes a JSON array of strings into out, as decodePhones.
func decodeStrings(b []byte, out []string) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := jsonScan{b: b}
	if d.null() {
		return nil, nil
	}
	if !d.byte('[') {
		return slowStrings(b)
	}
	if d.byte(']') {
		return endJSON(&d, out, b, slowStrings)
	}
	for {
		v, ok := d.str()
		if !ok {
			return slowStrings(b)
		}
		out = append(out, string(v))
		if d.byte(']') {
			return endJSON(&d, out, b, slowStrings)
		}
		if !d.byte(',') {
			return slowStrings(b)
		}
	}
}

func slowStrings(b []byte) ([]string, error) {
	var out []string
	err := json.Unmarshal(b, &out)
	return out, err
}

// jsonScan reads the plain JSON the export decodes by hand: whitespace,
// punctuation and strings without escapes.
type jsonScan struct {
	b []byte
	i int
}

func (d *jsonScan) skip() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\n' || d.b[d.i] == '\t' || d.b[d.i] == '\r') {
		d.i++
	}
}

func (d *jsonScan) peek() byte {
	d.skip()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// byte consumes c when it comes next.
func (d *jsonScan) byte(c byte) bool {
	if d.peek() == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonScan) null() bool {
	d.skip()
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		d.skip()
		return d.i == len(d.b)
	}
	return false
}

// str reads a string without escapes or control characters (ok false
// otherwise: the caller falls back to encoding/json).
func (d *jsonScan) str() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			v := d.b[start:d.i]
			d.i++
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// end checks that nothing but whitespace follows.
func (d *jsonScan) endOK() bool {
	d.skip()
	return d.i == len(d.b)
}

// endJSON returns out when nothing but whitespace follows, else what the
// slow decoder makes of b.
func endJSON[T any](d *jsonScan, out T, b []byte, slow func([]byte) (T, error)) (T, error) {
	if d.endOK() {
		return out, nil
	}
	return slow(b)
}

// jsonValue is one element of a JSON array, as splitJSONArray found it.
type jsonValue struct {
	kind byte // '"' string, '0' number, 'n' null, 't' true, 'f' false, '[' or '{' nested
	// raw is the string's content between the quotes, else the value's text.
	raw     []byte
	escaped bool // the string has escapes
}

// splitJSONArray splits a JSON array of scalars and nested values (such as
// SQLite's json_array writes) into its elements, appended to out.
func splitJSONArray(b []byte, out []jsonValue) ([]jsonValue, error) {
	d := jsonScan{b: b}
	bad := func() ([]jsonValue, error) { return nil, fmt.Errorf("store: malformed JSON array %.80q", b) }
	if !d.byte('[') {
		return bad()
	}
	if d.byte(']') {
		if !d.endOK() {
			return bad()
		}
		return out, nil
	}
	for {
		c := d.peek()
		start := d.i
		var v jsonValue
		switch {
		case c == '"':
			d.i++
			v.kind = '"'
			for ; d.i < len(d.b) && d.b[d.i] != '"'; d.i++ {
				if d.b[d.i] == '\\' {
					v.escaped = true
					d.i++
				}
			}
			if d.i >= len(d.b) {
				return bad()
			}
			v.raw = d.b[start+1 : d.i]
			d.i++
		case c == '[' || c == '{':
			v.kind = c
			depth := 0
			for ; d.i < len(d.b); d.i++ {
				switch d.b[d.i] {
				case '"':
					for d.i++; d.i < len(d.b) && d.b[d.i] != '"'; d.i++ {
						if d.b[d.i] == '\\' {
							d.i++
						}
					}
				case '[', '{':
					depth++
				case ']', '}':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			if d.i >= len(d.b) {
				return bad()
			}
			d.i++
			v.raw = d.b[start:d.i]
		default:
			for d.i < len(d.b) && d.b[d.i] != ',' && d.b[d.i] != ']' && d.b[d.i] != ' ' {
				d.i++
			}
			v.raw = d.b[start:d.i]
			switch string(v.raw) {
			case "null":
				v.kind = 'n'
			case "true":
				v.kind = 't'
			case "false":
				v.kind = 'f'
			case "":
				return bad()
			default:
				v.kind = '0'
			}
		}
		out = append(out, v)
		if d.byte(']') {
			if !d.endOK() {
				return bad()
			}
			return out, nil
		}
		if !d.byte(',') {
			return bad()
		}
	}
}

// text returns a string element's text.
func (v jsonValue) text() (string, error) {
	if !v.escaped {
		return string(v.raw), nil
	}
	b, err := v.unescape(nil)
	return string(b), err
}

// unescape appends a string element's text to b: the one-letter escapes
// by hand, \u escapes through encoding/json.
func (v jsonValue) unescape(b []byte) ([]byte, error) {
	for i := 0; i < len(v.raw); i++ {
		c := v.raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		if i++; i == len(v.raw) {
			return nil, fmt.Errorf("store: malformed JSON string %.40q", v.raw)
		}
		switch v.raw[i] {
		case '"', '\\', '/':
			b = append(b, v.raw[i])
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		default:
			var s string
			if err := json.Unmarshal(append(append([]byte{'"'}, v.raw...), '"'), &s); err != nil {
				return nil, err
			}
			return append(b[:0], s...), nil
		}
	}
	return b, nil
}

// assign stores v into dest as database/sql's Scan would store the column.
func (v jsonValue) assign(dest any) error {
	switch d := dest.(type) {
	case *string:
		switch v.kind {
		case '"':
			s, err := v.text()
			*d = s
			return err
		case 'n':
			*d = ""
			return nil
		case '0':
			*d = string(v.raw)
			return nil
		}
	case *sql.NullString:
		switch v.kind {
		case '"':
			s, err := v.text()
			*d = sql.NullString{String: s, Valid: err == nil}
			return err
		case 'n':
			*d = sql.NullString{}
			return nil
		}
	case *bool:
		switch v.kind {
		case '0':
			*d = string(v.raw) != "0"
			return nil
		case 't', 'f':
			*d = v.kind == 't'
			return nil
		}
	case *sql.RawBytes:
		switch v.kind {
		case 'n':
			*d = nil
			return nil
		case '[', '{':
			*d = append((*d)[:0], v.raw...)
			return nil
		case '"':
			// A JSON column's text, as a string: copied into d's own
			// buffer, never aliasing the row's array, which the next row
			// overwrites.
			if !v.escaped {
				*d = append((*d)[:0], v.raw...)
				return nil
			}
			b, err := v.unescape((*d)[:0])
			*d = b
			return err
		}
	}
	return fmt.Errorf("store: cannot read JSON %c %.40q into %T", v.kind, v.raw, dest)
}
