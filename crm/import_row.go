package crm

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// importRow is one row of a file read into customer fields.
type importRow struct {
	fields CustomerFields
	// given names the fields the row has a value for.
	given       map[string]bool
	tags, attrs []string
	id          string
	number      int64
	// person caches personKeys.
	person *MatchKeys
	// asNew is the row as a new customer's fields, worked out by the
	// reader ahead of the batch (see readAhead); nil where it did not.
	asNew *newFields
}

// splitList splits a list cell: values separated by ";" (as exports write
// them) or by line breaks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' }) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// dateLayouts are the date forms an import reads: ISO first, then the
// day-first forms of the five languages' countries.
var dateLayouts = []string{"2006-01-02", "02-01-2006", "2-1-2006", "02.01.2006", "2.1.2006", "02/01/2006", "2/1/2006"}

func parseImportDate(s string) (*Date, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			d := DateOf(t)
			return &d, true
		}
	}
	return nil, false
}

// parseBool reads yes and no in the five languages.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "x", "ja", "j", "oui", "o", "tak", "t", "wahr", "vrai", "waar":
		return true, true
	case "0", "false", "no", "n", "nee", "nein", "non", "nie", "falsch", "faux", "onwaar", "-":
		return false, true
	}
	return false, false
}

// textFieldOf returns the plain text field of f that an import column
// key names, nil for other keys: a switch, where a map literal made a
// map of fourteen pointers for every cell of every row.
func textFieldOf(f *CustomerFields, key string) *string {
	switch key {
	case "firstName":
		return &f.FirstName
	case "middleName":
		return &f.MiddleName
	case "lastName":
		return &f.LastName
	case "company":
		return &f.Company
	case "street":
		return &f.Address.Street
	case "houseNumber":
		return &f.Address.HouseNumber
	case "postalCode":
		return &f.Address.PostalCode
	case "city":
		return &f.Address.City
	case "email":
		return &f.Email
	case "loginEmail":
		return &f.LoginEmail
	case "origin":
		return &f.Origin
	case "assignedTo":
		return &f.AssignedTo
	case "remarks":
		return &f.Remarks
	case "internalDescription":
		return &f.InternalDescription
	}
	return nil
}

// parseRow reads a row's cells into fields; reason says why it cannot be.
func (s *ImportService) parseRow(run *importRun, cells []string) (*importRow, string) {
	row := &importRow{given: map[string]bool{}}
	f := &row.fields
	var problems []string
	bad := func(col ImportColumn, what string) {
		problems = append(problems, col.Header+": "+what)
	}
	for _, col := range run.im.Mapping {
		if col.Key == "" || col.Index >= len(cells) {
			continue
		}
		val := strings.TrimSpace(cells[col.Index])
		if val == "" {
			continue
		}
		row.given[col.Key] = true
		if p := textFieldOf(f, col.Key); p != nil {
			if (col.Key == "email" || col.Key == "loginEmail") && !validEmail(val) {
				bad(col, "not an e-mail address")
				continue
			}
			*p = val
			continue
		}
		switch col.Key {
		case "id":
			row.id = val
		case "number":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				bad(col, "not a customer number")
			}
			row.number = n
		case "country":
			f.Address.Country = strings.ToUpper(val)
		case "language":
			f.Language = val
		case "status":
			f.Status = CustomerStatus(strings.ToLower(val))
		case "phone", "phones":
			for _, n := range splitList(val) {
				e164, ok := parsePhone(n, run.org.DefaultCountry)
				if !ok {
					bad(col, "not a phone number")
					continue
				}
				f.Phones = append(f.Phones, Phone{Number: e164})
			}
		case "altEmails":
			for _, a := range splitList(val) {
				if !validEmail(a) {
					bad(col, "not an e-mail address")
					continue
				}
				f.AltEmails = append(f.AltEmails, a)
			}
		case "birthDate", "passportExpiry", "firstContact":
			d, ok := parseImportDate(val)
			if !ok {
				bad(col, "not a date (YYYY-MM-DD or DD-MM-YYYY)")
				continue
			}
			switch col.Key {
			case "birthDate":
				f.BirthDate = d
			case "passportExpiry":
				f.PassportExpiry = d
			default:
				f.FirstContact = d
			}
		case "noPost", "noMailings":
			b, ok := parseBool(val)
			if !ok {
				bad(col, "not yes or no")
				continue
			}
			if col.Key == "noPost" {
				f.NoPost = b
			} else {
				f.NoMailings = b
			}
		case "tags":
			row.tags = append(row.tags, splitList(val)...)
		case "attributes":
			row.attrs = append(row.attrs, splitList(val)...)
		default:
			key, ok := strings.CutPrefix(col.Key, "custom.")
			if !ok {
				continue
			}
			j := slices.IndexFunc(run.defs, func(d CustomFieldDefinition) bool { return d.Key == key })
			if j < 0 {
				continue
			}
			if f.CustomFields == nil {
				f.CustomFields = map[string]any{}
			}
			switch run.defs[j].Type {
			case FieldNumber:
				n, err := strconv.ParseFloat(strings.Replace(val, ",", ".", 1), 64)
				if err != nil {
					bad(col, "not a number")
					continue
				}
				f.CustomFields[key] = n
			case FieldBool:
				b, ok := parseBool(val)
				if !ok {
					bad(col, "not yes or no")
					continue
				}
				f.CustomFields[key] = b
			case FieldDate:
				d, ok := parseImportDate(val)
				if !ok {
					bad(col, "not a date (YYYY-MM-DD or DD-MM-YYYY)")
					continue
				}
				f.CustomFields[key] = d.String()
			default:
				f.CustomFields[key] = val
			}
		}
	}
	if len(problems) > 0 {
		return nil, strings.Join(problems, "; ")
	}
	if len(row.given) == 0 {
		return nil, "the row is empty"
	}
	return row, ""
}

// matchKeys are the keys a batch remembers of a customer it will create,
// to find a later row of the same person in the batch.
func (r *importRow) matchKeys(region string) []string {
	var keys []string
	if r.id != "" {
		keys = append(keys, "i:"+r.id)
	}
	if r.number > 0 {
		keys = append(keys, "n:"+strconv.FormatInt(r.number, 10))
	}
	for _, e := range append([]string{r.fields.LoginEmail, r.fields.Email}, r.fields.AltEmails...) {
		if k := EmailKey(e); k != "" {
			keys = append(keys, "e:"+k)
		}
	}
	for _, p := range r.fields.Phones {
		if e164, ok := parsePhone(p.Number, region); ok {
			keys = append(keys, "p:"+e164)
		}
	}
	return keys
}

// incoming returns the row's values as a record to merge into old: what
// the row gives, and old's values where it gives nothing (so that the
// record passes the customer's checks on its own: required custom fields,
// a name).
func (r *importRow) incoming(old *Customer) CustomerFields {
	in := r.fields
	if in.Status == "" {
		in.Status = old.Status
	}
	if in.Language == "" {
		in.Language = old.Language
	}
	if in.FirstName == "" && in.LastName == "" && in.Company == "" && in.LoginEmail == "" && in.Email == "" {
		in.FirstName, in.LastName, in.Company = old.FirstName, old.LastName, old.Company
	}
	cf := maps.Clone(old.CustomFields)
	if cf == nil {
		cf = map[string]any{}
	}
	maps.Copy(cf, in.CustomFields)
	in.CustomFields = cf
	return in
}

// match finds the customer a row names: by its id or number column, then
// the way interactions match (login e-mail, other e-mail, phone).
func (s *ImportService) match(ctx context.Context, tx Store, run *importRun, row *importRow) (*Customer, error) {
	org := run.sc.org
	switch {
	case row.id != "":
		if !validID(row.id) {
			return nil, nil
		}
		return orNil(tx.CustomerGet(ctx, CustomerGetParams{OrgID: org, ID: row.id}))
	case row.number > 0:
		return orNil(tx.CustomerGet(ctx, CustomerGetParams{OrgID: org, Number: row.number}))
	}
	return s.matchPerson(ctx, tx, run, row)
}

// orNil turns ErrNotFound into no customer.
func orNil(c *Customer, err error) (*Customer, error) {
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return c, nil
}
