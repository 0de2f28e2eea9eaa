// Package storetest is the conformance suite of crm.Store: every storage
// behaviour the library relies on, asserted once and run against every
// implementation (crm/store runs it on SQLite and PostgreSQL).
//
// The suite drives the store through the crm services, as users do, so it
// checks what a user sees: validation that writes nothing, isolation between
// organisations, history written with each change, search that finds.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/tabular"
)

// Harness is what an implementation gives the suite (as each go-cloud
// driver gives its conformance tests a harness): the suite imports no
// concrete store of its own.
type Harness struct {
	// Open must return a fresh, migrated, empty store for each call; the
	// suite calls it once per test and runs tests in parallel.
	Open func(t *testing.T) crm.Store
	// Blobs must return an empty blob store for each call: the contents of
	// one test's documents. An in-memory bucket serves
	// (cloudblob.New(memblob.OpenBucket(nil))).
	Blobs func(t *testing.T) crm.BlobStore
}

// Run runs the whole suite on what h makes.
func Run(t *testing.T, h Harness) {
	if h.Open == nil || h.Blobs == nil {
		t.Fatal("storetest: the harness must make stores and blob stores")
	}
	// The tests take one function that opens a store; it hands them a store
	// that also carries its test's blob store, which newEnv unwraps.
	open := func(t *testing.T) crm.Store { return &harnessStore{Store: h.Open(t), blobs: h.Blobs(t)} }
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) crm.Store)
	}{
		{"Organisations", testOrganisations},
		{"CustomerRoundTrip", testCustomerRoundTrip},
		{"CustomerGetLatest", testCustomerGetLatest},
		{"CustomerDefaults", testCustomerDefaults},
		{"CustomerNumbers", testCustomerNumbers},
		{"LoginEmailUnique", testLoginEmailUnique},
		{"LoginEmailUniqueConcurrent", testLoginEmailUniqueConcurrent},
		{"CreatesConcurrentWithFailures", testCreatesConcurrentWithFailures},
		{"CreatesCancelled", testCreatesCancelled},
		{"CreatesIdempotentAmongOthers", testCreatesIdempotentAmongOthers},
		{"Validation", testValidation},
		{"OptimisticLocking", testOptimisticLocking},
		{"OptimisticLockingConcurrent", testOptimisticLockingConcurrent},
		{"UpdatePatch", testUpdatePatch},
		{"MergePatch", testMergePatch},
		{"AltEmails", testAltEmails},
		{"Delete", testDelete},
		{"History", testHistory},
		{"HistoryPagination", testHistoryPagination},
		{"HistoryManyEvents", testHistoryManyEvents},
		{"FindByName", testFindByName},
		{"FindBySpelling", testFindBySpelling},
		{"FindByPhone", testFindByPhone},
		{"FindByEmail", testFindByEmail},
		{"FindByBirthDateAndNumber", testFindByBirthDateAndNumber},
		{"ListFilters", testListFilters},
		{"ListPagination", testListPagination},
		{"CustomFields", testCustomFields},
		{"CustomFieldArchive", testCustomFieldArchive},
		{"OrganisationRules", testOrganisationRules},
		{"OrganisationRulesChanges", testOrganisationRulesChanges},
		{"Isolation", testIsolation},
		{"NoOrgNoActor", testNoOrgNoActor},
		{"TransactionRollback", testTransactionRollback},
		{"APIKeys", testAPIKeys},
		{"Staff", testStaff},
		{"ActingStaffIsReal", testActingStaffIsReal},
		{"Permissions", testPermissions},
		{"NoteTypes", testNoteTypes},
		{"Notes", testNotes},
		{"Tasks", testTasks},
		{"Reminders", testReminders},
		{"Tags", testTags},
		{"TagLimit", testTagLimit},
		{"Attributes", testAttributes},
		{"Labels", testLabels},
		{"Memberships", testMemberships},
		{"QualifierFilters", testQualifierFilters},
		{"CombinedFilters", testCombinedFilters},
		{"SortByName", testSortByName},
		{"SortKeepsSurnames", testSortKeepsSurnames},
		{"PaginationUnderInserts", testPaginationUnderInserts},
		{"Segments", testSegments},
		{"ConsentPurposes", testConsentPurposes},
		{"ConsentWordings", testConsentWordings},
		{"BuiltInWordings", testBuiltInWordings},
		{"ConsentNeedsWording", testConsentNeedsWording},
		{"ConfirmNeedsWording", testConfirmNeedsWording},
		{"ConsentLog", testConsentLog},
		{"ConsentContactFlags", testConsentContactFlags},
		{"DoubleOptIn", testDoubleOptIn},
		{"ConsentFilters", testConsentFilters},
		{"MailingSelection", testMailingSelection},
		{"MailingSelectionOptOut", testMailingSelectionOptOut},
		{"Export", testExport},
		{"CustomerExportHidesStaffValues", testCustomerExportHidesStaffValues},
		{"Anonymise", testAnonymise},
		{"Retention", testRetention},
		{"PointsFeatureOff", testPointsFeatureOff},
		{"PointsLedger", testPointsLedger},
		{"PointsExpiry", testPointsExpiry},
		{"PointsIdempotency", testPointsIdempotency},
		{"PointsConcurrency", testPointsConcurrency},
		{"Documents", testDocuments},
		{"DocumentContentsShared", testDocumentContentsShared},
		{"DocumentReport", testDocumentReport},
		{"MailTemplates", testMailTemplates},
		{"Outbox", testOutbox},
		{"BatchSend", testBatchSend},
		{"TextRules", testTextRules},
		{"DateRange", testDateRange},
		{"EmailRule", testEmailRule},
		{"FilterIDs", testFilterIDs},
		{"TemplateKeys", testTemplateKeys},
		{"Idempotency", testIdempotency},
		{"IdempotencyAtomic", testIdempotencyAtomic},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"IdempotencyAnonymise", testIdempotencyAnonymise},
		{"BookingUpsert", testBookingUpsert},
		{"BookingUpsertConcurrent", testBookingUpsertConcurrent},
		{"BookingBatch", testBookingBatch},
		{"BookingView", testBookingView},
		{"BookingFilters", testBookingFilters},
		{"BookingWorklists", testBookingWorklists},
		{"BookingIsolation", testBookingIsolation},
		{"BookingParticipations", testBookingParticipations},
		{"BenefitChannel", testBenefitChannel},
		{"ExportSegment", testExportSegment},
		{"ExportContent", testExportContent},
		{"ImportModes", testImportModes},
		{"ImportDryRun", testImportDryRun},
		{"ImportResume", testImportResume},
		{"ImportRevert", testImportRevert},
		{"ImportEncodingsAndLanguages", testImportEncodingsAndLanguages},
		{"ImportRoundTrip", testImportRoundTrip},
		{"ImportBatchMatching", testImportBatchMatching},
		{"MatchPresent", testMatchPresent},
		{"ImportAnonymise", testImportAnonymise},
		{"ExportBookingCounts", testExportBookingCounts},
		{"ExportManyPages", testExportManyPages},
		{"InteractionMatching", testInteractionMatching},
		{"FieldOrigins", testFieldOrigins},
		{"FieldOriginsOfCreated", testFieldOriginsOfCreated},
		{"InteractionTimeline", testInteractionTimeline},
		{"InteractionsConcurrent", testInteractionsConcurrent},
		{"Forms", testForms},
		{"Reports", testReports},
		{"Inquiries", testInquiries},
		{"InquiryVisibility", testInquiryVisibility},
		{"InquiryDays", testInquiryDays},
		{"PipelineStatuses", testPipelineStatuses},
		{"TasksOverdueReport", testTasksOverdueReport},
		{"PortalAccounts", testPortalAccounts},
		{"PortalSessions", testPortalSessions},
		{"Itineraries", testItineraries},
		{"Contests", testContests},
		{"Brochures", testBrochures},
		{"Mailings", testMailings},
		{"MailingBatches", testMailingBatches},
		{"PortalBookings", testPortalBookings},
		{"Merge", testMerge},
		{"MergeRefused", testMergeRefused},
		{"MergeConcurrent", testMergeConcurrent},
		{"PossibleDuplicates", testPossibleDuplicates},
		{"DuplicateCandidates", testDuplicateCandidates},
		{"MergeContactFlagsAndReview", testMergeContactFlagsAndReview},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// harnessStore is a store from the harness with the blob store of its test.
type harnessStore struct {
	crm.Store
	blobs crm.BlobStore
}

// env is one test's world: a CRM on a fresh store with two organisations.
type env struct {
	t     *testing.T
	store crm.Store
	crm   *crm.CRM
	now   time.Time
	// a and b are contexts of two organisations, each with a staff actor.
	a, b context.Context
}

const (
	orgA = "org-a"
	orgB = "org-b"
)

// testNow is the frozen clock of the suite.
var testNow = time.Date(2026, 11, 22, 10, 30, 0, 123456000, time.UTC)

func newEnv(t *testing.T, open func(t *testing.T) crm.Store) *env {
	t.Helper()
	hs, ok := open(t).(*harnessStore)
	if !ok {
		t.Fatal("storetest: a test opened its store outside Run")
	}
	st, blobs := hs.Store, hs.blobs
	e := &env{t: t, store: st, now: testNow}
	c, err := crm.New(st, crm.Config{Clock: func() time.Time { return e.now }, Blobs: blobs,
		MaxDocumentBytes: testMaxDocument, Reports: textReports{}, Tables: tabular.New(), ImportBatch: testImportBatch})
	if err != nil {
		t.Fatalf("crm.New: %v", err)
	}
	e.crm = c
	ctx := context.Background()
	for _, org := range []crm.NewOrganisation{
		{ID: orgA, Name: "Reisbureau A", DefaultLanguage: "nl", DefaultCountry: "NL"},
		{ID: orgB, Name: "Restaurant B", DefaultLanguage: "de", DefaultCountry: "DE"},
	} {
		if _, err := c.Organisations.Create(ctx, org); err != nil {
			t.Fatalf("create organisation %s: %v", org.ID, err)
		}
		// The suite's staff actors are real staff users, administrators.
		sys := crm.WithActor(crm.WithOrg(ctx, org.ID), crm.System())
		if _, err := c.Staff.Create(sys, crm.NewStaffUser{ID: "staff-" + org.ID[len(org.ID)-1:], Name: "Staff " + org.ID,
			Role: crm.RoleAdministrator}); err != nil {
			t.Fatalf("create staff user of %s: %v", org.ID, err)
		}
	}
	e.a = crm.WithActor(crm.WithOrg(ctx, orgA), crm.Staff("staff-a"))
	e.b = crm.WithActor(crm.WithOrg(ctx, orgB), crm.Staff("staff-b"))
	return e
}

// staffActor makes a staff user (role staff) with id in ctx's
// organisation and returns ctx with it acting.
func (e *env) staffActor(ctx context.Context, id string) context.Context {
	e.t.Helper()
	if _, err := e.crm.Staff.Create(crm.WithActor(ctx, crm.System()), crm.NewStaffUser{ID: id, Name: id, Role: crm.RoleStaff}); err != nil {
		e.t.Fatalf("create staff user %s: %v", id, err)
	}
	return crm.WithActor(ctx, crm.Staff(id))
}

// create makes a customer in ctx's organisation or fails the test.
func (e *env) create(ctx context.Context, f crm.CustomerFields) *crm.Customer {
	e.t.Helper()
	c, err := e.crm.Customers.Create(ctx, f)
	if err != nil {
		e.t.Fatalf("create customer %+v: %v", f, err)
	}
	return c
}

// allPages reads every page of a list, limit items a page, and returns
// the items in the order the pages gave them.
func allPages[T any](t *testing.T, limit int, list func(crm.PageRequest) (crm.Page[T], error)) []T {
	t.Helper()
	var all []T
	page := crm.PageRequest{Limit: limit}
	for {
		p, err := list(page)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		page.Cursor = p.Next
	}
}

// list returns every customer of ctx's organisation matching f, over all pages.
func (e *env) list(ctx context.Context, f crm.CustomerFilter) []crm.Customer {
	e.t.Helper()
	return allPages(e.t, crm.MaxPageLimit, func(page crm.PageRequest) (crm.Page[crm.Customer], error) {
		return e.crm.Customers.List(ctx, f, page)
	})
}

// history returns the whole timeline of a customer, newest first, over
// all pages.
func (e *env) history(ctx context.Context, id string) []crm.HistoryEvent {
	e.t.Helper()
	return allPages(e.t, crm.MaxPageLimit, func(page crm.PageRequest) (crm.Page[crm.HistoryEvent], error) {
		return e.crm.History.List(ctx, id, page)
	})
}

// numbers lists the customer numbers of cs, to compare result sets.
func numbers(cs []crm.Customer) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Number
	}
	return out
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// wantInvalid asserts that err is a *crm.ValidationError naming field with code.
func wantInvalid(t *testing.T, err error, field, code string) *crm.ValidationError {
	t.Helper()
	var ve *crm.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want a *crm.ValidationError on %s", err, field)
	}
	if !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("validation error does not match crm.ErrInvalid")
	}
	if !ve.Has(field, code) {
		t.Fatalf("validation error %v does not name %s (%s)", ve.Fields, field, code)
	}
	return ve
}

func ptr[T any](v T) *T { return &v }
