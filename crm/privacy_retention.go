package crm

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"
)

// RetentionPolicy is an organisation's rule for how long customers are kept
// (GDPR Art. 5(1)(e)): customers without activity for InactiveDays are
// anonymised, except those holding a granted consent for one of the
// ExcludePurposes.
type RetentionPolicy struct {
	Enabled bool `json:"enabled"`
	// InactiveDays is the period without activity (any change, consent,
	// login, booking, interaction) after which a customer is anonymised.
	InactiveDays int `json:"inactiveDays" validate:"min=0,max=36500"`
	// ExcludePurposes are purpose keys: a customer with a granted consent
	// for one of them is kept.
	ExcludePurposes []string  `json:"excludePurposes" validate:"max=50"`
	UpdatedAt       time.Time `json:"updatedAt,omitzero"`
}

// RetentionReport is what ApplyRetention did, or would do in a dry run.
type RetentionReport struct {
	Organisation string `json:"organisation"`
	DryRun       bool   `json:"dryRun"`
	// Enabled is false when the organisation has no active policy: nothing happens.
	Enabled bool `json:"enabled"`
	// InactiveBefore is the cut-off: customers whose last activity is
	// older are anonymised.
	InactiveBefore time.Time `json:"inactiveBefore,omitzero"`
	// Customers are those anonymised (or to be, in a dry run), by number.
	Customers []RetentionCandidate `json:"customers"`
	// Anonymised counts the customers anonymised by this run (zero in a dry run).
	Anonymised int `json:"anonymised"`
}

// RetentionCandidate is a customer the retention policy selects.
type RetentionCandidate struct {
	ID             string    `json:"id"`
	Number         int64     `json:"number"`
	LastActivityAt time.Time `json:"lastActivityAt"`
}

// RetentionParams selects a page of retention candidates for the store.
type RetentionParams struct {
	OrgID          string
	InactiveBefore time.Time
	// ExcludePurposeIDs: customers with a granted consent for one are kept.
	ExcludePurposeIDs []string
	AfterNumber       int64
	Limit             int
}

// Retention returns the organisation's retention policy (disabled when it
// never set one).
func (s *PrivacyService) Retention(ctx context.Context) (*RetentionPolicy, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.RetentionPolicyGet(ctx, sc.org)
}

// SetRetention stores the organisation's retention policy. An enabled
// policy needs InactiveDays of at least 30; excluded purposes must exist.
func (s *PrivacyService) SetRetention(ctx context.Context, p RetentionPolicy) (*RetentionPolicy, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	if p.Enabled && p.InactiveDays < 30 && !v.has("inactiveDays") {
		v.add("inactiveDays", "minValue", "30")
	}
	purposes, err := s.consents.purposes(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	for i, key := range p.ExcludePurposes { // indexes as the caller sent them
		if !slices.ContainsFunc(purposes, func(cp ConsentPurpose) bool { return cp.Key == key }) {
			v.add("excludePurposes["+strconv.Itoa(i)+"]", "unknown", "")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p.ExcludePurposes = slices.Compact(slices.Sorted(slices.Values(p.ExcludePurposes)))
	if p.ExcludePurposes == nil {
		p.ExcludePurposes = []string{}
	}
	p.UpdatedAt = s.now()
	if err := s.store.RetentionPolicySet(ctx, sc.org, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// retentionBatch is how many candidates ApplyRetention reads at a time.
const retentionBatch = 500

// ApplyRetention anonymises the customers the organisation's retention
// policy selects at time now (the CRM's clock when zero; now decides who
// is selected, the times recorded are the CRM's clock's): not anonymised, no activity for the policy's
// period, no granted consent for an excluded purpose. With dryRun it only
// reports who they are. Each customer is anonymised in its own transaction
// after checking again that it still qualifies, so a run that stops halfway
// leaves consistent data and the next run finishes the work; a customer
// active in the meantime is kept.
func (s *PrivacyService) ApplyRetention(ctx context.Context, now time.Time, dryRun bool) (*RetentionReport, error) {
	if now.IsZero() {
		now = s.now()
	}
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !dryRun {
		if sc, err = s.writeScope(ctx); err != nil {
			return nil, err
		}
	}
	report := &RetentionReport{Organisation: sc.org, DryRun: dryRun, Customers: []RetentionCandidate{}}
	policy, err := s.store.RetentionPolicyGet(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	if !policy.Enabled || policy.InactiveDays <= 0 {
		return report, nil
	}
	report.Enabled = true
	report.InactiveBefore = now.UTC().AddDate(0, 0, -policy.InactiveDays).Truncate(time.Microsecond)
	purposes, err := s.consents.purposes(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	var excluded []string
	for _, p := range purposes {
		if slices.Contains(policy.ExcludePurposes, p.Key) {
			excluded = append(excluded, p.ID)
		}
	}
	keep := func(tx Store) func(c *Customer) (bool, error) {
		return func(c *Customer) (bool, error) {
			if !c.LastActivityAt.Before(report.InactiveBefore) {
				return true, nil
			}
			states, err := tx.ConsentStateList(ctx, sc.org, c.ID)
			if err != nil {
				return false, err
			}
			return slices.ContainsFunc(states, func(cc CustomerConsent) bool {
				return cc.State == ConsentGranted && slices.Contains(excluded, cc.PurposeID)
			}), nil
		}
	}
	params := RetentionParams{OrgID: sc.org, InactiveBefore: report.InactiveBefore, ExcludePurposeIDs: excluded, Limit: retentionBatch}
	for {
		batch, err := s.store.RetentionCandidates(ctx, params)
		if err != nil {
			return nil, err
		}
		for _, cand := range batch {
			if dryRun {
				report.Customers = append(report.Customers, cand)
				continue
			}
			var done bool
			var released []string
			err := s.store.InTx(ctx, func(tx Store) error {
				var aerr error
				released = released[:0]
				_, done, aerr = s.anonymise(ctx, tx, sc, cand.ID, "retention", keep(tx), &released)
				return aerr
			})
			if err == nil {
				err = s.removeBlobs(ctx, sc.org, released)
			}
			if errors.Is(err, ErrNotFound) { // deleted meanwhile
				continue
			}
			if err != nil {
				return report, err
			}
			if done {
				report.Customers = append(report.Customers, cand)
				report.Anonymised++
			}
		}
		if len(batch) < params.Limit {
			return report, nil
		}
		params.AfterNumber = batch[len(batch)-1].Number
	}
}
