package crm

import (
	"context"
	"slices"
)

// DuplicateReason says why two customers may be one person.
type DuplicateReason string

// The reasons a customer is a possible duplicate, with their weights in
// DuplicateCandidate.Score.
const (
	ReasonSameEmail         DuplicateReason = "same_email"           // 40: an address of one is an address of the other
	ReasonSamePhone         DuplicateReason = "same_phone"           // 30
	ReasonSameNameBirthDate DuplicateReason = "same_name_birth_date" // 50: first and last name (case-insensitive) and birth date
	ReasonMatchConflict     DuplicateReason = "match_conflict"       // 30: an interaction's data matched both
)

var reasonWeight = map[DuplicateReason]int{ReasonSameEmail: 40, ReasonSamePhone: 30, ReasonSameNameBirthDate: 50, ReasonMatchConflict: 30}

// DuplicateCandidate is another customer that may be the same person.
type DuplicateCandidate struct {
	CustomerID string            `json:"customerId"`
	Score      int               `json:"score"`
	Reasons    []DuplicateReason `json:"reasons"`
}

// DuplicateHit is one reason the store found for one other customer.
type DuplicateHit struct {
	CustomerID string
	Reason     DuplicateReason
}

// DuplicateStore finds possible duplicates of one customer by its indexes.
type DuplicateStore interface {
	// DuplicateHits returns, for customer id, the other customers of the
	// organisation that share an e-mail address, a phone number, name and
	// birth date, or a match conflict with it; at most limit per reason.
	DuplicateHits(ctx context.Context, orgID, id string, limit int) ([]DuplicateHit, error)
}

// PossibleDuplicates lists the customers that may be the same person as
// customer id, best first (by score, then id). Each check reads an index,
// so the cost does not grow with the organisation's size.
func (s *MergeService) PossibleDuplicates(ctx context.Context, id string) ([]DuplicateCandidate, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, id); err != nil {
		return nil, err
	}
	hits, err := s.store.DuplicateHits(ctx, sc.org, id, 50)
	if err != nil {
		return nil, err
	}
	by := map[string]*DuplicateCandidate{}
	out := []DuplicateCandidate{}
	var order []string
	for _, h := range hits {
		c, ok := by[h.CustomerID]
		if !ok {
			c = &DuplicateCandidate{CustomerID: h.CustomerID}
			by[h.CustomerID] = c
			order = append(order, h.CustomerID)
		}
		if !slices.Contains(c.Reasons, h.Reason) {
			c.Reasons = append(c.Reasons, h.Reason)
			c.Score += reasonWeight[h.Reason]
		}
	}
	for _, id := range order {
		out = append(out, *by[id])
	}
	slices.SortFunc(out, func(a, b DuplicateCandidate) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		if a.CustomerID < b.CustomerID {
			return -1
		}
		return 1
	})
	return out, nil
}
