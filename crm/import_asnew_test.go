package crm

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestImportNewCustomerFromReadAhead: the reader works a row out as a new
// customer ahead of its batch (asNew); the batch uses that only while it
// is what the batch would work out itself. A row without a first contact
// read on one day and written on the next gets the day it is written, and
// a refused row is refused with the same reason either way.
func TestImportNewCustomerFromReadAhead(t *testing.T) {
	s := &ImportService{core: &core{validate: newValidator()}, customers: fuzzService()}
	run := &importRun{im: &FileImport{ID: "imp"}, sc: scope{org: fuzzOrg.ID, lang: "en"}, org: fuzzOrg}
	monday := time.Date(2026, 11, 20, 23, 59, 0, 0, time.UTC) // before fuzzService's clock
	tuesday := monday.Add(2 * time.Minute)
	ctx := context.Background()

	row := &importRow{fields: CustomerFields{FirstName: "Anna", LastName: "de Vries",
		Phones: []Phone{{Number: "06 12345678"}}}}
	row.asNew = s.asNew(run, row, DateOf(monday))

	same, reason, err := s.newCustomer(ctx, nil, run, row, monday)
	if err != nil || reason != "" {
		t.Fatalf("newCustomer: %q, %v", reason, err)
	}
	if same.as != row.asNew {
		t.Error("on the day the row was read, the batch worked the row out again")
	}
	next, reason, err := s.newCustomer(ctx, nil, run, row, tuesday)
	if err != nil || reason != "" {
		t.Fatalf("newCustomer: %q, %v", reason, err)
	}
	if got := *next.c.FirstContact; got != DateOf(tuesday) {
		t.Errorf("first contact %v of a row read on Monday and written on Tuesday, want %v", got, DateOf(tuesday))
	}
	fresh := s.asNew(run, &importRow{fields: row.fields}, DateOf(tuesday))
	if !reflect.DeepEqual(next.as, fresh) {
		t.Errorf("worked out again on Tuesday:\n%+v\nwant\n%+v", next.as, fresh)
	}
	if next.c.Phones[0].Number != "+31612345678" || string(next.c.SortKey) != string(fresh.sortKey) {
		t.Errorf("phones %v, sort key %q", next.c.Phones, next.c.SortKey)
	}

	// With a first contact of its own the row does not depend on the day.
	given := DateOf(monday.AddDate(-1, 0, 0))
	dated := &importRow{fields: CustomerFields{LastName: "Jansen", FirstContact: &given}}
	dated.asNew = s.asNew(run, dated, DateOf(monday))
	if p, _, _ := s.newCustomer(ctx, nil, run, dated, tuesday); p.as != dated.asNew || *p.c.FirstContact != given {
		t.Errorf("a row with its own first contact: worked out again %v, first contact %v", p.as != dated.asNew, p.c.FirstContact)
	}

	bad := &importRow{fields: CustomerFields{LastName: "Jansen", Email: "not an address"}}
	bad.asNew = s.asNew(run, bad, DateOf(monday))
	_, ahead, _ := s.newCustomer(ctx, nil, run, bad, monday)
	_, again, _ := s.newCustomer(ctx, nil, run, bad, tuesday)
	if ahead == "" || ahead != again {
		t.Errorf("refusals %q (read ahead) and %q (worked out again)", ahead, again)
	}
}
