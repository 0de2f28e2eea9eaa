package crm

import (
	"context"
	"time"
)

// EventCustomerAnonymised: the customer was anonymised (GDPR Art. 17). The
// event names the reason ("request" or "retention") and nothing personal.
const EventCustomerAnonymised EventKind = "customer.anonymised"

// PrivacyStore is what exports, anonymisation and retention need beyond
// the other stores.
type PrivacyStore interface {
	// CustomerAnonymise irreversibly erases the customer's personal data
	// everywhere the store keeps it: the record's personal fields, its
	// alternative e-mails and custom field values, its search indexes, the
	// values in its timeline (field names stay), the evidence of its consent
	// records, its confirmation tokens, benefit-use notes and the reasons of
	// its point transactions. The record
	// becomes a shell with AnonymisedAt set and a new version.
	CustomerAnonymise(ctx context.Context, orgID, id string, at time.Time) error
	// CustomerLock locks the customer's row until the transaction ends
	// without counting as activity; ErrNotFound when there is none.
	CustomerLock(ctx context.Context, orgID, id string) error
	// BenefitUseList returns the customer's benefit uses, oldest first.
	BenefitUseList(ctx context.Context, orgID, customerID string) ([]BenefitUse, error)
	// RetentionPolicyGet returns the organisation's policy; a zero policy when it has none.
	RetentionPolicyGet(ctx context.Context, orgID string) (*RetentionPolicy, error)
	RetentionPolicySet(ctx context.Context, orgID string, p *RetentionPolicy) error
	// RetentionCandidates returns up to Limit customers, by number after
	// AfterNumber, that are not anonymised, were last active before
	// InactiveBefore and hold no granted consent for an excluded purpose.
	RetentionCandidates(ctx context.Context, p RetentionParams) ([]RetentionCandidate, error)
}

// PrivacyService exports and anonymises customers and applies the
// organisation's retention policy (C5).
type PrivacyService struct {
	*core
	consents   *ConsentService
	tags       *QualifierService
	attributes *QualifierService
	labels     *LabelService
	points     *PointService
}
