package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

func testOptimisticLocking(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Lock"})
	if _, err := e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{Remarks: ptr("first")}); err != nil {
		t.Fatalf("first update: %v", err)
	}
	_, err := e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{Remarks: ptr("second")})
	wantErr(t, err, crm.ErrConflict)
	wantErr(t, err, crm.ErrStaleVersion)
	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if got.Remarks != "first" || got.Version != 2 {
		t.Fatalf("record after a stale update: remarks %q version %d, want first, 2", got.Remarks, got.Version)
	}

	// The store itself refuses a stale version, for callers that bypass the service.
	stale := *got
	stale.Remarks = "bypass"
	stale.Version = 3
	first := *got
	first.Version = 1
	wantErr(t, e.store.CustomerUpdate(e.a, &stale, &first), crm.ErrStaleVersion)
	stale.ID = "01936d3c-0000-7000-8000-000000000000"
	wantErr(t, e.store.CustomerUpdate(e.a, &stale, got), crm.ErrNotFound)
}

func testOptimisticLockingConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Race"})
	remarks := []string{"from desk 1", "from desk 2", "from desk 3", "from desk 4"}
	var wg sync.WaitGroup
	results := make([]error, len(remarks))
	start := make(chan struct{})
	for i, r := range remarks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, results[i] = e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{Remarks: ptr(r)})
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range results {
		switch {
		case err == nil:
			if winner != "" {
				t.Fatalf("two updates from version 1 both won: %q and %q", winner, remarks[i])
			}
			winner = remarks[i]
		case !errors.Is(err, crm.ErrStaleVersion):
			t.Fatalf("losing update got %v, want crm.ErrStaleVersion", err)
		}
	}
	if winner == "" {
		t.Fatal("no update won")
	}
	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if got.Remarks != winner || got.Version != 2 {
		t.Fatalf("record has remarks %q version %d, want the winner's %q at version 2", got.Remarks, got.Version, winner)
	}
	events := e.history(e.a, c.ID)
	if len(events) != 2 || events[0].Changes[0].New != winner {
		t.Fatalf("timeline %+v, want the creation and the winner's update", events)
	}
}

func testHistory(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "diet", Label: "Diet", Type: crm.FieldText}); err != nil {
		t.Fatal(err)
	}
	c := e.create(e.a, crm.CustomerFields{FirstName: "Jan", LastName: "Smit", Email: "jan@example.nl"})

	e.now = testNow.Add(time.Minute)
	portal := crm.WithActor(e.a, crm.CustomerActor(c.ID))
	if _, err := e.crm.Customers.Update(portal, c.ID, 1, crm.CustomerPatch{
		LastName: ptr("Smid"), Email: ptr(""), Address: &crm.Address{City: "Delft"},
		CustomFields: map[string]any{"diet": "vegan"},
	}); err != nil {
		t.Fatal(err)
	}
	// A refused update leaves no event.
	if _, err := e.crm.Customers.Update(e.a, c.ID, 2, crm.CustomerPatch{LoginEmail: ptr("bad")}); err == nil {
		t.Fatal("bad update accepted")
	}
	e.now = testNow.Add(2 * time.Minute)
	importer := crm.WithActor(e.a, crm.Import("file-2026-11.csv"))
	if _, err := e.crm.Customers.Update(importer, c.ID, 2, crm.CustomerPatch{NoPost: ptr(true)}); err != nil {
		t.Fatal(err)
	}

	events := e.history(e.a, c.ID)
	// Setting "no post" is a withdrawal of the post consent: the update
	// appends that record, and its event, after its own.
	if len(events) != 4 {
		t.Fatalf("%d events, want 4 (create, two updates, the post consent): %+v", len(events), events)
	}
	wantEvents := []struct {
		kind    crm.EventKind
		actor   crm.Actor
		at      time.Time
		changes []crm.FieldChange
	}{
		{crm.EventConsentWithdrawn, crm.Import("file-2026-11.csv"), testNow.Add(2 * time.Minute),
			[]crm.FieldChange{{Field: "consents.post", Old: "never", New: "withdrawn"}}},
		{crm.EventCustomerUpdated, crm.Import("file-2026-11.csv"), testNow.Add(2 * time.Minute),
			[]crm.FieldChange{{Field: "noPost", Old: false, New: true}}},
		{crm.EventCustomerUpdated, crm.CustomerActor(c.ID), testNow.Add(time.Minute), []crm.FieldChange{
			{Field: "address.city", New: "Delft"},
			{Field: "customFields.diet", New: "vegan"},
			{Field: "email", Old: "jan@example.nl"},
			{Field: "lastName", Old: "Smit", New: "Smid"},
		}},
		{crm.EventCustomerCreated, crm.Staff("staff-a"), testNow, nil},
	}
	for i, want := range wantEvents {
		got := events[i]
		if got.Kind != want.kind || got.Actor != want.actor || !got.At.Equal(want.at) || got.CustomerID != c.ID {
			t.Fatalf("event %d: %s by %v at %v, want %s by %v at %v", i, got.Kind, got.Actor, got.At, want.kind, want.actor, want.at)
		}
		if want.changes != nil && !reflect.DeepEqual(got.Changes, want.changes) {
			t.Fatalf("event %d changes:\n got %+v\nwant %+v", i, got.Changes, want.changes)
		}
	}
	created := events[3].Changes
	fields := map[string]any{}
	for _, ch := range created {
		if ch.Old != nil {
			t.Fatalf("creation event has an old value: %+v", ch)
		}
		fields[ch.Field] = ch.New
	}
	for field, want := range map[string]any{"firstName": "Jan", "lastName": "Smit", "email": "jan@example.nl", "language": "nl", "status": "customer"} {
		if fields[field] != want {
			t.Fatalf("creation event has %s = %v, want %v (all: %+v)", field, fields[field], want, created)
		}
	}

	// Unknown and foreign customers have no timeline.
	_, err := e.crm.History.List(e.a, "01936d3c-0000-7000-8000-000000000000", crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.History.List(e.a, "not-an-id", crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.History.List(e.b, c.ID, crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
}

func testHistoryPagination(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Pages"})
	version := c.Version
	for i := 0; i < 6; i++ {
		// Half the updates share a timestamp: the id breaks the tie.
		e.now = testNow.Add(time.Duration(i/2) * time.Second)
		u, err := e.crm.Customers.Update(e.a, c.ID, version, crm.CustomerPatch{Remarks: ptr(string(rune('a' + i)))})
		if err != nil {
			t.Fatal(err)
		}
		version = u.Version
	}
	var seen []string
	page := crm.PageRequest{Limit: 3}
	for {
		p, err := e.crm.History.List(e.a, c.ID, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range p.Items {
			if ev.Kind == crm.EventCustomerUpdated {
				seen = append(seen, ev.Changes[0].New.(string))
			}
		}
		if p.Next == "" {
			break
		}
		page.Cursor = p.Next
	}
	if want := []string{"f", "e", "d", "c", "b", "a"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("timeline over pages: %v, want %v", seen, want)
	}
	_, err := e.crm.History.List(e.a, c.ID, crm.PageRequest{Cursor: "bm9wZQ"})
	wantInvalid(t, err, "cursor", "cursor")
}

// testHistoryManyEvents appends, in one call, more events than one SQLite
// statement takes arguments for (8 a row, 32,766 at most): every event is
// stored, in order, with its changes.
func testHistoryManyEvents(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Busy"})
	const n = 4200
	events := make([]crm.HistoryEvent, n)
	for i := range events {
		events[i] = crm.HistoryEvent{ID: fmt.Sprintf("01936d3c-0000-7000-8000-%012d", i), OrgID: orgA, CustomerID: c.ID,
			Kind: crm.EventCustomerUpdated, Actor: crm.System(), At: testNow.Add(time.Duration(i+1) * time.Millisecond),
			Changes: []crm.FieldChange{{Field: "remarks", Old: strconv.Itoa(i), New: strconv.Itoa(i + 1)}}}
	}
	if err := e.store.HistoryAppend(e.a, events...); err != nil {
		t.Fatal(err)
	}
	got := e.history(e.a, c.ID)
	if len(got) != n+1 { // and the creation
		t.Fatalf("%d events, want %d", len(got), n+1)
	}
	for i, ev := range got[:n] { // newest first
		want := events[n-1-i]
		if ev.ID != want.ID || !ev.At.Equal(want.At) || len(ev.Changes) != 1 || ev.Changes[0].New != want.Changes[0].New {
			t.Fatalf("event %d: %+v, want %+v", i, ev, want)
		}
	}
}

func testTransactionRollback(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Atomic"})
	boom := errors.New("boom")
	err := e.store.InTx(e.a, func(tx crm.Store) error {
		next := *c
		next.LastName = "Changed"
		next.Version = 2
		if err := tx.CustomerUpdate(e.a, &next, c); err != nil {
			return err
		}
		// A nested InTx joins the outer transaction and rolls back with it.
		if err := tx.InTx(e.a, func(tx crm.Store) error {
			return tx.HistoryAppend(e.a, crm.HistoryEvent{ID: "01936d3c-0000-7000-8000-0000000000aa", OrgID: orgA,
				CustomerID: c.ID, Kind: crm.EventCustomerUpdated, Actor: crm.System(), At: testNow})
		}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if got.LastName != "Atomic" || got.Version != 1 {
		t.Fatalf("rolled-back update is visible: %+v", got)
	}
	if n := len(e.history(e.a, c.ID)); n != 1 {
		t.Fatalf("rolled-back event is visible: %d events", n)
	}
	if found := e.list(e.a, crm.CustomerFilter{Name: "changed"}); len(found) != 0 {
		t.Fatal("rolled-back name key is visible")
	}
}
