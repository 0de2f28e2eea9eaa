package crm

import (
	"context"
	"errors"
)

// matchPerson finds the customer of a row by its e-mail addresses and
// phone numbers the way interactions do (MatchCustomer: the login e-mail,
// then another address, then a phone number; conflicts are recorded, not
// guessed past).
func (s *ImportService) matchPerson(ctx context.Context, tx Store, run *importRun, row *importRow) (*Customer, error) {
	f := &row.fields
	emails := append([]string{f.LoginEmail, f.Email}, f.AltEmails...)
	phones := make([]string, len(f.Phones))
	for i, p := range f.Phones {
		phones[i] = p.Number
	}
	keys := NewMatchKeys("", "", emails, phones, run.org.DefaultCountry)
	m, err := MatchCustomer(ctx, tx, run.sc.org, keys)
	if err != nil || m.CustomerID == "" {
		return nil, err
	}
	c, err := orNil(tx.CustomerGet(ctx, CustomerGetParams{OrgID: run.sc.org, ID: m.CustomerID}))
	if err != nil || c == nil {
		return nil, err
	}
	// Conflicts (a phone pointing at another customer) are kept for the
	// duplicates work; a dry run's go with its transaction.
	if err := RecordMatch(ctx, tx, run.sc.org, keys, m, c.ID, "", s.now()); err != nil {
		return nil, err
	}
	return c, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
