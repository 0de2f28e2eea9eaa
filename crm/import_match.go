package crm

import (
	"context"
	"errors"
	"slices"
)

// matchPerson finds the customer of a row by its e-mail addresses and
// phone numbers the way interactions do (MatchCustomer: the login e-mail,
// then another address, then a phone number; conflicts are recorded, not
// guessed past).
func (s *ImportService) matchPerson(ctx context.Context, tx Store, run *importRun, row *importRow) (*Customer, error) {
	keys := row.personKeys(run.org.DefaultCountry)
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

// presentKeys are the keys of a batch's rows that some customer has.
type presentKeys struct {
	ids, emails, phones map[string]bool
	numbers             map[int64]bool
}

// personKeys are the keys by which matchPerson finds a row's customer.
func (r *importRow) personKeys(region string) MatchKeys {
	if r.person != nil {
		return *r.person
	}
	f := &r.fields
	emails := append([]string{f.LoginEmail, f.Email}, f.AltEmails...)
	phones := make([]string, len(f.Phones))
	for i, p := range f.Phones {
		phones[i] = p.Number
	}
	k := NewMatchKeys("", "", emails, phones, region)
	r.person = &k
	return k
}

// probe locks the person keys of the batch's rows (MatchLock, as
// matching each row would) and asks the store at once which of the rows'
// keys exist.
func (s *ImportService) probe(ctx context.Context, tx Store, run *importRun, rows func(yield func(*importRow) bool)) (*presentKeys, error) {
	var p MatchProbe
	var lock MatchKeys
	region := run.org.DefaultCountry
	for row := range rows {
		switch {
		case row.id != "":
			if validID(row.id) {
				p.IDs = append(p.IDs, row.id)
			}
		case row.number > 0:
			p.Numbers = append(p.Numbers, row.number)
		default:
			k := row.personKeys(region)
			lock.EmailKeys = append(lock.EmailKeys, k.EmailKeys...)
			lock.Phones = append(lock.Phones, k.Phones...)
		}
	}
	slices.Sort(lock.EmailKeys)
	slices.Sort(lock.Phones)
	lock.EmailKeys, lock.Phones = slices.Compact(lock.EmailKeys), slices.Compact(lock.Phones)
	p.EmailKeys, p.Phones = lock.EmailKeys, lock.Phones
	if !lock.Empty() {
		if err := tx.MatchLock(ctx, run.sc.org, lock); err != nil {
			return nil, err
		}
	}
	got, err := tx.MatchPresent(ctx, run.sc.org, p)
	if err != nil {
		return nil, err
	}
	out := &presentKeys{ids: map[string]bool{}, emails: map[string]bool{}, phones: map[string]bool{}, numbers: map[int64]bool{}}
	for _, v := range got.IDs {
		out.ids[v] = true
	}
	for _, v := range got.EmailKeys {
		out.emails[v] = true
	}
	for _, v := range got.Phones {
		out.phones[v] = true
	}
	for _, v := range got.Numbers {
		out.numbers[v] = true
	}
	return out, nil
}

// isNew reports whether the row certainly matches no customer, as match
// would find: none of its keys exists (present), none is a key of an
// earlier row of the batch (seen: such a row may have made or changed
// the customer it names), and a number column names none of the
// customers the batch wrote (flushed).
func (p *presentKeys) isNew(row *importRow, rk []string, seen map[string]bool, flushed [][2]int64, region string) bool {
	if slices.ContainsFunc(rk, func(k string) bool { return seen[k] }) {
		return false
	}
	switch {
	case row.id != "":
		return !validID(row.id) || !p.ids[row.id]
	case row.number > 0:
		for _, f := range flushed {
			if row.number >= f[0] && row.number <= f[1] {
				return false
			}
		}
		return !p.numbers[row.number]
	}
	k := row.personKeys(region)
	return !slices.ContainsFunc(k.EmailKeys, func(e string) bool { return p.emails[e] }) &&
		!slices.ContainsFunc(k.Phones, func(n string) bool { return p.phones[n] })
}
