package crm

import (
	"context"
	"slices"
	"strings"
	"time"
)

// MatchBy names the key by which an incoming record (an interaction, an
// import row) found its customer. The constants are in matching order:
// a key earlier in the list wins over a later one.
type MatchBy string

// The match keys, strongest first.
const (
	// MatchSourceID: the platform's own customer id for the record's source.
	MatchSourceID MatchBy = "sourceId"
	// MatchLoginEmail: the customer's portal login e-mail.
	MatchLoginEmail MatchBy = "loginEmail"
	// MatchEmail: the customer's correspondence or an alternative e-mail.
	MatchEmail MatchBy = "email"
	// MatchPhone: one of the customer's phone numbers (E.164).
	MatchPhone MatchBy = "phone"
)

// matchRank orders the keys: lower is stronger.
func (b MatchBy) rank() int {
	switch b {
	case MatchSourceID:
		return 0
	case MatchLoginEmail:
		return 1
	case MatchEmail:
		return 2
	case MatchPhone:
		return 3
	}
	return 4
}

// MatchKeys are what identifies the person of an incoming record. Build
// them with NewMatchKeys, which normalises them the way search does.
type MatchKeys struct {
	// Source names where the record comes from ("resengo", "website"); with
	// SourceID it is the platform's own id of the person.
	Source   string
	SourceID string
	// EmailKeys are e-mail addresses as EmailKey gives them.
	EmailKeys []string
	// Phones are phone numbers in E.164.
	Phones []string
}

// NewMatchKeys builds the keys of a record: the e-mail addresses compared
// as EmailKey gives them, the phone numbers read with the organisation's
// country (region, ISO 3166-1 alpha-2) and kept in E.164. Duplicates and
// addresses or numbers that do not parse are left out: they cannot match.
func NewMatchKeys(source, sourceID string, emails, phones []string, region string) MatchKeys {
	k := MatchKeys{Source: strings.TrimSpace(source), SourceID: strings.TrimSpace(sourceID)}
	for _, e := range emails {
		if key := EmailKey(e); key != "" && validEmail(strings.TrimSpace(e)) && !slices.Contains(k.EmailKeys, key) {
			k.EmailKeys = append(k.EmailKeys, key)
		}
	}
	for _, p := range phones {
		if e164, ok := parsePhone(p, region); ok && !slices.Contains(k.Phones, e164) {
			k.Phones = append(k.Phones, e164)
		}
	}
	return k
}

// Empty reports whether the keys cannot match anything.
func (k MatchKeys) Empty() bool {
	return (k.Source == "" || k.SourceID == "") && len(k.EmailKeys) == 0 && len(k.Phones) == 0
}

// MatchLockNames are the names under which a store locks the keys of
// orgID (MatchStore.MatchLock), sorted so that every transaction takes
// them in the same order.
func MatchLockNames(orgID string, k MatchKeys) []string {
	var names []string
	if k.Source != "" && k.SourceID != "" {
		names = append(names, "s:"+k.Source+" "+k.SourceID)
	}
	for _, e := range k.EmailKeys {
		names = append(names, "e:"+e)
	}
	for _, p := range k.Phones {
		names = append(names, "p:"+p)
	}
	for i := range names {
		names[i] = orgID + " " + names[i]
	}
	slices.Sort(names)
	return names
}

// MatchCandidate is one customer a key of an incoming record points at.
type MatchCandidate struct {
	CustomerID string
	By         MatchBy
	// Value is the key's value: the source id, the e-mail key or the number.
	Value string
}

// MatchConflict records that the keys of one incoming record pointed at
// more than one customer: the record went to CustomerID (the strongest
// key's customer, see Match), while the key By with Value pointed at
// OtherCustomerID. The duplicates work reads these.
type MatchConflict struct {
	ID              string  `json:"id"`
	OrgID           string  `json:"-"`
	CustomerID      string  `json:"customerId"`
	OtherCustomerID string  `json:"otherCustomerId"`
	By              MatchBy `json:"by"`
	Value           string  `json:"value"`
	// InteractionID is the interaction that found the conflict; empty for
	// other records (an import row).
	InteractionID string    `json:"interactionId,omitempty"`
	At            time.Time `json:"at"`
}

// Match is the outcome of matching an incoming record's keys.
type Match struct {
	// CustomerID is the matched customer; empty when nothing matched and a
	// new customer is to be made.
	CustomerID string
	// By is the key that chose the customer.
	By MatchBy
	// Conflicts are the other customers some key pointed at (CustomerID and
	// At are left for the caller, who records them).
	Conflicts []MatchConflict
}

// ChooseMatch applies the matching rule to the candidates a store found:
// the strongest key with a candidate decides (source id, then login
// e-mail, then correspondence or alternative e-mail, then phone). When
// that key points at several customers (two customers may share an
// e-mail address), the one that more of the other keys also point at
// wins, then the oldest (the smallest id, ids being time-ordered). Every
// other customer some key pointed at is a conflict: the rule never merges
// and never guesses past the strongest key.
func ChooseMatch(cands []MatchCandidate) Match {
	if len(cands) == 0 {
		return Match{}
	}
	best := slices.MinFunc(cands, func(a, b MatchCandidate) int { return a.By.rank() - b.By.rank() }).By
	votes := map[string]int{}
	for _, c := range cands {
		votes[c.CustomerID]++
	}
	chosen := ""
	for _, c := range cands {
		if c.By != best {
			continue
		}
		if chosen == "" || votes[c.CustomerID] > votes[chosen] ||
			(votes[c.CustomerID] == votes[chosen] && c.CustomerID < chosen) {
			chosen = c.CustomerID
		}
	}
	m := Match{CustomerID: chosen, By: best}
	seen := map[string]bool{}
	for _, c := range cands {
		if c.CustomerID == chosen || seen[c.CustomerID+"\x00"+string(c.By)+"\x00"+c.Value] {
			continue
		}
		seen[c.CustomerID+"\x00"+string(c.By)+"\x00"+c.Value] = true
		m.Conflicts = append(m.Conflicts, MatchConflict{OtherCustomerID: c.CustomerID, By: c.By, Value: c.Value})
	}
	slices.SortFunc(m.Conflicts, func(a, b MatchConflict) int {
		if r := a.By.rank() - b.By.rank(); r != 0 {
			return r
		}
		return strings.Compare(a.OtherCustomerID+a.Value, b.OtherCustomerID+b.Value)
	})
	return m
}

// MatchStore finds customers by the keys of incoming records and keeps
// what matching learns: the platforms' own ids and the conflicts.
type MatchStore interface {
	// MatchLock makes concurrent transactions that match overlapping keys
	// of one organisation run one after the other, until the transaction
	// ends, so that two records of the same new person make one customer.
	// PostgreSQL takes a transaction-level advisory lock per key; SQLite
	// has one writer at a time and needs none.
	MatchLock(ctx context.Context, orgID string, keys MatchKeys) error
	// MatchCandidates returns the customers the keys point at (at most a
	// few per key), each with the key that points there.
	MatchCandidates(ctx context.Context, orgID string, keys MatchKeys) ([]MatchCandidate, error)
	// MatchPresent returns the keys of the probe that some customer of
	// orgID has (an id, a number, a login, correspondence or alternative
	// e-mail key, a phone number), in one statement: an import asks it
	// for a whole batch of rows, and matches one by one only the rows
	// whose keys are present.
	MatchPresent(ctx context.Context, orgID string, probe MatchProbe) (MatchProbe, error)
	// SourceIDSet links the platform id (source, sourceID) to the customer,
	// replacing a link to another customer.
	SourceIDSet(ctx context.Context, orgID string, link SourceID) error
	// SourceIDList returns the platform ids linked to the customer.
	SourceIDList(ctx context.Context, orgID, customerID string) ([]SourceID, error)
	// MatchConflictInsert records conflicts.
	MatchConflictInsert(ctx context.Context, conflicts ...MatchConflict) error
	// MatchConflictList returns the conflicts that name the customer on
	// either side, oldest first.
	MatchConflictList(ctx context.Context, orgID, customerID string) ([]MatchConflict, error)
}

// MatchProbe is a set of keys asked about at once (MatchStore.MatchPresent).
type MatchProbe struct {
	// IDs and Numbers are customers' ids and numbers.
	IDs     []string
	Numbers []int64
	// EmailKeys are e-mail addresses as EmailKey gives them.
	EmailKeys []string
	// Phones are phone numbers in E.164.
	Phones []string
}

// SourceID is a platform's own id of a customer: a booking platform's
// guest id, a newsletter tool's subscriber id.
type SourceID struct {
	OrgID      string    `json:"-"`
	Source     string    `json:"source"`
	SourceID   string    `json:"sourceId"`
	CustomerID string    `json:"customerId"`
	At         time.Time `json:"at"`
}

// MatchCustomer finds the customer of an incoming record in st (a Store
// bound to the caller's transaction): it locks the keys (MatchLock), reads
// the candidates and applies ChooseMatch. Run it in the transaction that
// then creates or updates the customer, so that a concurrent record of
// the same person waits and then finds what this one made. Imports use it
// for their matching; Interactions.Record does.
func MatchCustomer(ctx context.Context, st MatchStore, orgID string, keys MatchKeys) (Match, error) {
	if keys.Empty() {
		return Match{}, nil
	}
	if err := st.MatchLock(ctx, orgID, keys); err != nil {
		return Match{}, err
	}
	cands, err := st.MatchCandidates(ctx, orgID, keys)
	if err != nil {
		return Match{}, err
	}
	return ChooseMatch(cands), nil
}

// RecordMatch keeps what a match learnt, in st (bound to the caller's
// transaction): the platform id now points at customerID (new or
// matched), and the match's conflicts are recorded against it, with
// interactionID when an interaction found them.
func RecordMatch(ctx context.Context, st MatchStore, orgID string, keys MatchKeys, m Match, customerID, interactionID string, at time.Time) error {
	if keys.Source != "" && keys.SourceID != "" && !(m.By == MatchSourceID && m.CustomerID == customerID) {
		if err := st.SourceIDSet(ctx, orgID, SourceID{OrgID: orgID, Source: keys.Source, SourceID: keys.SourceID, CustomerID: customerID, At: at}); err != nil {
			return err
		}
	}
	if len(m.Conflicts) == 0 {
		return nil
	}
	conflicts := make([]MatchConflict, 0, len(m.Conflicts))
	for _, c := range m.Conflicts {
		if c.OtherCustomerID == customerID {
			continue
		}
		c.ID, c.OrgID, c.CustomerID, c.InteractionID, c.At = newID(), orgID, customerID, interactionID, at
		conflicts = append(conflicts, c)
	}
	if len(conflicts) == 0 {
		return nil
	}
	return st.MatchConflictInsert(ctx, conflicts...)
}
