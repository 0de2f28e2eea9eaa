package crm

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// SimilarNameThreshold is the least NameSimilarity of two full names for
// ReasonSimilarName.
const SimilarNameThreshold = 0.5

// maxNearPerCheck bounds the place-key rows one check reads: a block of
// customers with one postal code, or one city and name start, is compared
// whole up to this size.
const maxNearPerCheck = 1000

// EventDuplicateDismissed is written on both customers of a pair that
// staff dismissed as not the same person: its change names the other
// customer (field "notDuplicateOf"); the actor is who dismissed it.
const EventDuplicateDismissed EventKind = "customer.duplicate_dismissed"

// CheckDuplicates is the background job that checks new or changed
// customers against the organisation's base and stores their candidate
// pairs (MergeService.CheckDuplicates). A customer's create or change
// enqueues it in its own transaction; an import one per batch.
type CheckDuplicates struct {
	OrgID       string   `json:"orgId"`
	CustomerIDs []string `json:"customerIds"`
}

// JobCheckDuplicates is the kind of CheckDuplicates.
const JobCheckDuplicates = "duplicates.check"

// Kind implements Job.
func (CheckDuplicates) Kind() string { return JobCheckDuplicates }

// Merge implements MergeableJob: the checks of one organisation's
// customers become one job with all their ids (each once, in order). The
// creates of one group commit enqueue one job for their batch this way.
// Checking a customer that is gone by then skips it, so the merged job of
// a batch stays harmless whatever happens to its customers later.
func (j CheckDuplicates) Merge(other Job) (Job, bool) {
	o, ok := other.(CheckDuplicates)
	if !ok || o.OrgID != j.OrgID {
		return j, false
	}
	ids := slices.Clone(j.CustomerIDs)
	for _, id := range o.CustomerIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return CheckDuplicates{OrgID: j.OrgID, CustomerIDs: ids}, true
}

// enqueueDuplicateCheck enqueues the check of ids in tx.
func enqueueDuplicateCheck(ctx context.Context, tx Store, orgID string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.JobEnqueue(ctx, CheckDuplicates{OrgID: orgID, CustomerIDs: ids})
}

// duplicateFields are the fields (as diffCustomer names them, before any
// dot) whose change makes a customer worth checking again.
var duplicateFields = []string{"firstName", "middleName", "lastName", "email", "altEmails", "phones",
	"birthDate", "address"}

// duplicateFieldsChanged says whether changes touch a field that finding
// duplicates reads.
func duplicateFieldsChanged(changes []FieldChange) bool {
	for _, c := range changes {
		f, _, _ := strings.Cut(c.Field, ".")
		f, _, _ = strings.Cut(f, "[")
		if slices.Contains(duplicateFields, f) {
			return true
		}
	}
	return false
}

// DuplicateNear is another customer stored under one of a customer's place
// keys, with its full name key.
type DuplicateNear struct {
	CustomerID string
	Name       string
}

// DuplicatePair is a stored candidate pair of the organisation: two
// customers that may be one person, with the score and reasons (see
// DuplicateReason) found when either was last checked. CustomerID is the
// smaller id of the two.
type DuplicatePair struct {
	CustomerID      string            `json:"customerId"`
	OtherCustomerID string            `json:"otherCustomerId"`
	Score           int               `json:"score"`
	Reasons         []DuplicateReason `json:"reasons"`
	FoundAt         time.Time         `json:"foundAt"`
}

// DuplicateDismissal is a pair staff dismissed as not the same person,
// seen from one of its customers.
type DuplicateDismissal struct {
	OtherCustomerID string    `json:"otherCustomerId"`
	DismissedAt     time.Time `json:"dismissedAt"`
	DismissedBy     Actor     `json:"dismissedBy"`
}

// ExportedDuplicates are a customer's stored candidate pairs and the pairs
// dismissed as not the same person, in its export.
type ExportedDuplicates struct {
	Candidates []DuplicatePair      `json:"candidates"`
	Dismissed  []DuplicateDismissal `json:"dismissed"`
}

// DuplicatePlaceKeys returns a customer's full name as a search key and
// the keys of the places where names similar to it are looked for: the
// postal code (with the country), and the city with the first and with
// the last three letters of the last name. A customer without a last
// name, or without a postal code and city, has none.
func DuplicatePlaceKeys(f *CustomerFields) (name string, keys []string) {
	last := strings.ReplaceAll(i18n.SearchKey(f.LastName), " ", "")
	if last == "" {
		return "", nil
	}
	name = i18n.SearchKey(f.FirstName + " " + f.MiddleName + " " + f.LastName)
	country := strings.ToLower(f.Address.Country)
	postal := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, i18n.SearchKey(f.Address.PostalCode))
	if postal != "" {
		keys = append(keys, "p|"+country+"|"+postal)
	}
	if city := i18n.SearchKey(f.Address.City); city != "" {
		head, tail := last, last
		if n := utf8.RuneCountInString(last); n > 3 {
			r := []rune(last)
			head, tail = string(r[:3]), string(r[n-3:])
		}
		keys = append(keys, "c|"+country+"|"+city+"|"+head+"*")
		if tail != head {
			keys = append(keys, "c|"+country+"|"+city+"|*"+tail)
		}
	}
	return name, keys
}

// nameTrigrams returns the trigrams of a name as PostgreSQL's pg_trgm
// makes them: each word padded with two spaces before and one after.
func nameTrigrams(name string) []string {
	var out []string
	for _, w := range strings.Fields(name) {
		r := []rune("  " + w + " ")
		for i := 0; i+3 <= len(r); i++ {
			t := string(r[i : i+3])
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// trigramSimilarity is the share of trigrams two sets have in common
// (shared / all), from 0 to 1.
func trigramSimilarity(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	for _, t := range a {
		if slices.Contains(b, t) {
			shared++
		}
	}
	return float64(shared) / float64(len(a)+len(b)-shared)
}

// NameSimilarity is how alike two names are by their trigrams, from 0 to
// 1, after folding case and accents (as pg_trgm's similarity on search
// keys): "Anna Müller" and "Anna Muller" give 1, "Jan Jansen" and "Jan
// Janssen" 0.64.
func NameSimilarity(a, b string) float64 {
	return trigramSimilarity(nameTrigrams(i18n.SearchKey(a)), nameTrigrams(i18n.SearchKey(b)))
}

// CheckDuplicates checks customers against the organisation's base: it
// stores their place keys, then finds their possible duplicates (as
// PossibleDuplicates does) and makes those their stored candidate pairs,
// which Candidates lists. Customers that are gone (merged, deleted) or
// anonymised are skipped. The background job CheckDuplicates calls it;
// its cost is that of a few index reads per customer, whatever the size
// of the organisation.
func (s *MergeService) CheckDuplicates(ctx context.Context, ids ...string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !validID(id) {
			continue
		}
		// The keys commit before the search: of two customers checked at
		// once, the one searching last sees the other's keys.
		var cust *Customer
		err := s.store.InTx(ctx, func(tx Store) error {
			c, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
			if err != nil {
				return err
			}
			cust = c
			if c.AnonymisedAt != nil {
				return tx.DuplicateKeysDrop(ctx, sc.org, id)
			}
			name, keys := DuplicatePlaceKeys(&c.CustomerFields)
			return tx.DuplicateKeysSet(ctx, sc.org, id, name, keys)
		})
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if cust.AnonymisedAt != nil {
			continue
		}
		err = s.store.InTx(ctx, func(tx Store) error {
			found, err := s.candidatesOf(ctx, tx, sc, cust)
			if err != nil {
				return err
			}
			now := s.now()
			pairs := make([]DuplicatePair, 0, len(found))
			for _, f := range found {
				p := DuplicatePair{CustomerID: id, OtherCustomerID: f.CustomerID, Score: f.Score, Reasons: f.Reasons, FoundAt: now}
				if p.OtherCustomerID < p.CustomerID {
					p.CustomerID, p.OtherCustomerID = p.OtherCustomerID, p.CustomerID
				}
				pairs = append(pairs, p)
			}
			return tx.DuplicatePairsSet(ctx, sc.org, id, pairs)
		})
		if errors.Is(err, ErrNotFound) {
			continue // merged or deleted meanwhile
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Candidates lists the organisation's candidate pairs, best first (score
// descending), a page at a time. Pairs come from the checks of new and
// changed customers (CheckDuplicates); a merged, deleted or anonymised
// customer's pairs are gone, and a dismissed pair (Dismiss) never comes
// back.
func (s *MergeService) Candidates(ctx context.Context, page PageRequest) (*Page[DuplicatePair], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	var after *DuplicatePair
	if !ok || (page.Cursor != "" && cur.Sort != "duplicates") {
		v.add("cursor", "cursor", "")
	} else if page.Cursor != "" {
		a, b, found := strings.Cut(cur.ID, "/")
		if !found || !validID(a) || !validID(b) {
			v.add("cursor", "cursor", "")
		}
		after = &DuplicatePair{CustomerID: a, OtherCustomerID: b, Score: int(cur.Number)}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	rows, err := s.store.DuplicatePairList(ctx, sc.org, after, limit+1)
	if err != nil {
		return nil, err
	}
	out := &Page[DuplicatePair]{Items: nonNil(rows)}
	if len(rows) > limit {
		out.Items = rows[:limit]
		last := rows[limit-1]
		out.Next = cursor{Sort: "duplicates", Number: int64(last.Score), ID: last.CustomerID + "/" + last.OtherCustomerID}.encode()
	}
	return out, nil
}

// Dismiss records that customers a and b are not the same person: their
// candidate pair goes, and neither the list nor PossibleDuplicates shows
// the pair again. Each customer's timeline gets a
// "customer.duplicate_dismissed" event naming the other, with the actor.
// Dismissing a pair again changes nothing.
func (s *MergeService) Dismiss(ctx context.Context, a, b string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	for _, id := range []string{a, b} {
		if !validID(id) {
			return &notFoundError{what: "customer " + id}
		}
	}
	if a == b {
		v := newValidation(sc.lang)
		v.add("otherCustomerId", "nefield", "customerId")
		return v.err()
	}
	return s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		ids := []string{a, b}
		slices.Sort(ids)
		for _, id := range ids {
			if err := tx.CustomerTouch(ctx, sc.org, id, now); err != nil {
				if errors.Is(err, ErrAnonymised) {
					return &ConflictError{Reason: "customer " + id + " is anonymised"}
				}
				if errors.Is(err, ErrNotFound) {
					// The typed answer: merged (with the survivor) or absent.
					_, err = tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
					var merged *MergedError
					switch {
					case err == nil:
						err = &notFoundError{what: "customer " + id}
					case errors.As(err, &merged) && id == b:
						// The other customer lives on in its survivor: the
						// caller decides about that pair.
						err = &ConflictError{Field: "otherCustomerId", Reason: merged.Error()}
					}
				}
				return err
			}
		}
		added, err := tx.DuplicateDismiss(ctx, sc.org, a, b, now, sc.actor)
		if err != nil || !added {
			return err
		}
		return tx.HistoryAppend(ctx,
			s.event(sc, a, EventDuplicateDismissed, now, []FieldChange{{Field: "notDuplicateOf", New: b}}),
			s.event(sc, b, EventDuplicateDismissed, now, []FieldChange{{Field: "notDuplicateOf", New: a}}))
	})
}

// JoinDuplicateReasons is how a store keeps a pair's reasons in one text
// column; SplitDuplicateReasons reads them back.
func JoinDuplicateReasons(rs []DuplicateReason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ",")
}

// SplitDuplicateReasons reads reasons kept by JoinDuplicateReasons.
func SplitDuplicateReasons(s string) []DuplicateReason {
	out := []DuplicateReason{}
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, DuplicateReason(p))
		}
	}
	return out
}
