package crm

import (
	"context"
	"slices"
	"time"
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
	// ReasonSimilarName: the full names are alike by trigrams (see
	// NameSimilarity, at least SimilarNameThreshold) and the customers
	// share a postal code, or a city and the start or end of the last name.
	ReasonSimilarName DuplicateReason = "similar_name_same_place" // 25
)

var reasonWeight = map[DuplicateReason]int{ReasonSameEmail: 40, ReasonSamePhone: 30, ReasonSameNameBirthDate: 50,
	ReasonMatchConflict: 30, ReasonSimilarName: 25}

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
	// DuplicateKeysSet replaces the place keys of customer id (see
	// DuplicatePlaceKeys) with keys, each stored with name.
	DuplicateKeysSet(ctx context.Context, orgID, id, name string, keys []string) error
	// DuplicateKeysNear returns the other customers stored under any of
	// keys, with the name stored with them; at most limit rows.
	DuplicateKeysNear(ctx context.Context, orgID, id string, keys []string, limit int) ([]DuplicateNear, error)
	// DuplicateKeysDrop removes the place keys and candidate pairs of
	// customer id (an anonymised customer).
	DuplicateKeysDrop(ctx context.Context, orgID, id string) error
	// DuplicatePairsSet makes pairs the candidate pairs of customer id:
	// its stored pairs not among them go, the others are written.
	DuplicatePairsSet(ctx context.Context, orgID, id string, pairs []DuplicatePair) error
	// DuplicatePairList lists the organisation's candidate pairs best
	// first (score descending, then the pair's ids), after the pair after
	// when it is not nil.
	DuplicatePairList(ctx context.Context, orgID string, after *DuplicatePair, limit int) ([]DuplicatePair, error)
	// DuplicateDismiss records that a and b are not the same person (both
	// directions) and removes their candidate pair. It reports false when
	// the pair was dismissed already.
	DuplicateDismiss(ctx context.Context, orgID, a, b string, at time.Time, by Actor) (bool, error)
	// DuplicateDismissed returns the pairs of customer id dismissed as not
	// the same person, from its side (OtherCustomerID is the other).
	DuplicateDismissed(ctx context.Context, orgID, id string) ([]DuplicateDismissal, error)
	// DuplicatePairsOf returns the stored candidate pairs of customer id.
	DuplicatePairsOf(ctx context.Context, orgID, id string) ([]DuplicatePair, error)
}

// PossibleDuplicates lists the customers that may be the same person as
// customer id, best first (by score, then id), without those dismissed as
// not the same person (Dismiss). Each check reads an index, so the cost
// does not grow with the organisation's size.
func (s *MergeService) PossibleDuplicates(ctx context.Context, id string) ([]DuplicateCandidate, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "customer " + id}
	}
	cust, err := s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
	if err != nil {
		return nil, err
	}
	return s.candidatesOf(ctx, s.store, sc, cust)
}

// candidatesOf finds the possible duplicates of cust, best first.
func (s *MergeService) candidatesOf(ctx context.Context, st Store, sc scope, cust *Customer) ([]DuplicateCandidate, error) {
	out := []DuplicateCandidate{}
	if cust.AnonymisedAt != nil {
		return out, nil
	}
	hits, err := st.DuplicateHits(ctx, sc.org, cust.ID, 50)
	if err != nil {
		return nil, err
	}
	name, keys := DuplicatePlaceKeys(&cust.CustomerFields)
	if len(keys) > 0 {
		near, err := st.DuplicateKeysNear(ctx, sc.org, cust.ID, keys, maxNearPerCheck)
		if err != nil {
			return nil, err
		}
		mine := nameTrigrams(name)
		for _, n := range near {
			if trigramSimilarity(mine, nameTrigrams(n.Name)) >= SimilarNameThreshold {
				hits = append(hits, DuplicateHit{CustomerID: n.CustomerID, Reason: ReasonSimilarName})
			}
		}
	}
	ds, err := st.DuplicateDismissed(ctx, sc.org, cust.ID)
	if err != nil {
		return nil, err
	}
	dismissed := make([]string, len(ds))
	for i, d := range ds {
		dismissed[i] = d.OtherCustomerID
	}
	by := map[string]*DuplicateCandidate{}
	var order []string
	for _, h := range hits {
		if slices.Contains(dismissed, h.CustomerID) || h.CustomerID == cust.ID {
			continue
		}
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
		c := by[id]
		slices.Sort(c.Reasons)
		out = append(out, *c)
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
