package crm

import "context"

// Anonymise irreversibly removes the customer's personal data (GDPR Art.
// 17; see PrivacyStore.CustomerAnonymise for what that covers) and writes
// a "customer.anonymised" event. The customer keeps its id and number, so
// bookings and the consent log still add up, but it can no longer be found
// by any old name, e-mail or phone. Anonymising an anonymised customer
// changes nothing. The organisation's Permissions say whether the actor
// may (else a *ForbiddenError).
func (s *PrivacyService) Anonymise(ctx context.Context, customerID string) (*Customer, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var out *Customer
	var released []string
	err = s.store.InTx(ctx, func(tx Store) error {
		org, err := s.organisation(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := allowed(ctx, org, ActionAnonymise, customerID); err != nil {
			return err
		}
		released = released[:0]
		out, _, err = s.anonymise(ctx, tx, sc, customerID, "request", nil, &released)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.removeBlobs(ctx, sc.org, released)
}

// anonymise runs in tx. With keep set, a customer keep approves of (still
// inactive, no excluded consent) is left alone; done says it was anonymised now.
// The SHA-256s of document contents nothing uses any more are added to
// released, for removeBlobs after the commit.
func (s *PrivacyService) anonymise(ctx context.Context, tx Store, sc scope, id, reason string, keep func(*Customer) (bool, error), released *[]string) (*Customer, bool, error) {
	now := s.now()
	// Locks the row first: a concurrent change waits, then finds the shell.
	if err := tx.CustomerLock(ctx, sc.org, id); err != nil {
		return nil, false, err
	}
	cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
	if err != nil {
		return nil, false, err
	}
	if cust.AnonymisedAt != nil {
		return cust, false, nil
	}
	if keep != nil {
		if k, err := keep(cust); err != nil || k {
			return cust, false, err
		}
	}
	// The rows of import reports that name the customer keep no cells
	// (read before the import changes go with the customer's data).
	if err := s.forgetImportRows(ctx, tx, sc.org, cust); err != nil {
		return nil, false, err
	}
	if err := tx.CustomerAnonymise(ctx, sc.org, id, now); err != nil {
		return nil, false, err
	}
	if err := tx.InteractionsAnonymise(ctx, sc.org, id); err != nil {
		return nil, false, err
	}
	// Kept answers of idempotent creates (crm.Idempotent) may show the
	// customer's values: they go too.
	if err := tx.IdempotencyForget(ctx, sc.org, id); err != nil {
		return nil, false, err
	}
	if err := s.dropFiles(ctx, tx, sc.org, id, released); err != nil {
		return nil, false, err
	}

	if err := tx.HistoryAppend(ctx, s.event(sc, id, EventCustomerAnonymised, now, []FieldChange{{Field: "reason", New: reason}})); err != nil {
		return nil, false, err
	}
	cust, err = tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
	return cust, true, err
}
