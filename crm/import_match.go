package crm

import (
	"context"
	"errors"
)

// matchPerson finds the customer of a row by its e-mail addresses and
// phone numbers, strongest key first: the login e-mail, then another
// address, then a phone number.
//
// It is the seam to the interactions' matching (issue 18): until that
// lands it looks the keys up with the customer store's own indexes.
func (s *ImportService) matchPerson(ctx context.Context, tx Store, run *importRun, row *importRow) (*Customer, error) {
	org := run.sc.org
	if k := EmailKey(row.fields.LoginEmail); k != "" {
		c, err := orNil(tx.CustomerGet(ctx, CustomerGetParams{OrgID: org, LoginEmailKey: k}))
		if c != nil || err != nil {
			return c, err
		}
	}
	var emails []string
	for _, e := range append([]string{row.fields.Email, row.fields.LoginEmail}, row.fields.AltEmails...) {
		if k := EmailKey(e); k != "" {
			emails = append(emails, k)
		}
	}
	for _, k := range emails {
		c, err := s.first(ctx, tx, CustomerListParams{OrgID: org, EmailKey: k})
		if c != nil || err != nil {
			return c, err
		}
	}
	for _, p := range row.fields.Phones {
		if e164, ok := parsePhone(p.Number, run.org.DefaultCountry); ok {
			c, err := s.first(ctx, tx, CustomerListParams{OrgID: org, Phone: e164})
			if c != nil || err != nil {
				return c, err
			}
		}
	}
	return nil, nil
}

// first returns the oldest customer matching p, or nil.
func (s *ImportService) first(ctx context.Context, tx Store, p CustomerListParams) (*Customer, error) {
	p.Sort, p.Limit = SortNumber, 1
	cs, err := tx.CustomerList(ctx, p)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
