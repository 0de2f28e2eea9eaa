package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

func qualifierNames(qs []crm.Qualifier) []string {
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = q.Name
	}
	return names
}

// testTags: a new organisation has the default tags; tags are added and
// removed per customer with the timeline recording each change; renaming
// shows everywhere; deleting takes the tag off every customer, on the record.
func testTags(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	tags, err := e.crm.Tags.List(e.a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(qualifierNames(tags), crm.DefaultTags) {
		t.Fatalf("default tags %q, want %q", qualifierNames(tags), crm.DefaultTags)
	}
	byName := map[string]string{}
	for _, tg := range tags {
		byName[tg.Name] = tg.ID
	}
	c := e.create(e.a, crm.CustomerFields{LastName: "Tagged"})
	got, err := e.crm.Tags.Add(e.a, c.ID, byName["VIP"], byName["Regular"], byName["VIP"])
	if err != nil || !slices.Equal(qualifierNames(got), []string{"Regular", "VIP"}) {
		t.Fatalf("add: %q, %v", qualifierNames(got), err)
	}
	// Adding one it has changes nothing and writes no event.
	if _, err := e.crm.Tags.Add(e.a, c.ID, byName["VIP"]); err != nil {
		t.Fatal(err)
	}
	renamed, err := e.crm.Tags.Update(e.a, byName["VIP"], crm.QualifierPatch{Name: ptr("Very Important"), Colour: ptr("#FFAA00")})
	if err != nil || renamed.Colour != "#ffaa00" {
		t.Fatalf("rename: %+v, %v", renamed, err)
	}
	got, _ = e.crm.Tags.Of(e.a, c.ID)
	if !slices.Equal(qualifierNames(got), []string{"Regular", "Very Important"}) {
		t.Fatalf("after rename the customer shows %q", qualifierNames(got))
	}
	_, err = e.crm.Tags.Update(e.a, byName["Local"], crm.QualifierPatch{Name: ptr("regular")})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Tags.Define(e.a, crm.NewQualifier{Name: "REGULAR"})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Tags.Define(e.a, crm.NewQualifier{Name: "Gold", Colour: "gold"})
	wantInvalid(t, err, "colour", "hexcolor")

	got, err = e.crm.Tags.Remove(e.a, c.ID, byName["Regular"], byName["Local"])
	if err != nil || !slices.Equal(qualifierNames(got), []string{"Very Important"}) {
		t.Fatalf("remove: %q, %v", qualifierNames(got), err)
	}
	if err := e.crm.Tags.Delete(e.a, byName["VIP"]); err != nil {
		t.Fatal(err)
	}
	if got, _ = e.crm.Tags.Of(e.a, c.ID); len(got) != 0 {
		t.Fatalf("deleted tag still on the customer: %q", qualifierNames(got))
	}
	events := e.history(e.a, c.ID)
	var changes [][2]any
	for _, ev := range slices.Backward(events) {
		if ev.Kind == crm.EventTagsChanged {
			if ev.Actor != crm.Staff("staff-a") {
				t.Fatalf("event by %v", ev.Actor)
			}
			changes = append(changes, [2]any{ev.Changes[0].Old, ev.Changes[0].New})
		}
	}
	if len(changes) != 3 {
		t.Fatalf("%d tag events, want add, remove and the deletion: %+v", len(changes), changes)
	}

	// Unknown ids, nothing given, unknown customer, other organisation.
	_, err = e.crm.Tags.Add(e.a, c.ID, "01936d3c-0000-7000-8000-000000000000")
	wantInvalid(t, err, "ids[0]", "unknown")
	_, err = e.crm.Tags.Add(e.a, c.ID)
	wantInvalid(t, err, "ids", "required")
	_, err = e.crm.Tags.Add(e.a, "01936d3c-0000-7000-8000-000000000000", byName["Local"])
	wantErr(t, err, crm.ErrNotFound)
	bTags, _ := e.crm.Tags.List(e.b)
	_, err = e.crm.Tags.Add(e.a, c.ID, bTags[0].ID)
	wantInvalid(t, err, "ids[0]", "unknown")
	_, err = e.crm.Tags.Add(e.b, c.ID, bTags[0].ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Tags.Of(e.b, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.crm.Tags.Delete(e.b, byName["Local"]), crm.ErrNotFound)
	_, err = e.crm.Tags.Update(e.b, byName["Local"], crm.QualifierPatch{Name: ptr("x")})
	wantErr(t, err, crm.ErrNotFound)
	if names := qualifierNames(bTags); !slices.Equal(names, crm.DefaultTags) {
		t.Fatalf("org B's tags changed with A's: %q", names)
	}
}

// testTagLimit: at most nine tags per customer, also when many requests add
// tags to the same customer at the same moment.
func testTagLimit(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	var ids []string
	for i := range 12 {
		q, err := e.crm.Tags.Define(e.a, crm.NewQualifier{Name: "extra " + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, q.ID)
	}
	c := e.create(e.a, crm.CustomerFields{LastName: "Limit"})
	_, err := e.crm.Tags.Add(e.a, c.ID, ids[:10]...)
	wantErr(t, err, crm.ErrTooManyTags)
	if got, _ := e.crm.Tags.Of(e.a, c.ID); len(got) != 0 {
		t.Fatalf("a refused addition left %d tags", len(got))
	}
	if _, err := e.crm.Tags.Add(e.a, c.ID, ids[:8]...); err != nil {
		t.Fatal(err)
	}

	// Eight tags; four requests race to add one more each.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			_, errs[i] = e.crm.Tags.Add(e.a, c.ID, ids[8+i])
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, crm.ErrTooManyTags):
		default:
			t.Fatalf("a losing addition got %v, want ErrTooManyTags", err)
		}
	}
	got, _ := e.crm.Tags.Of(e.a, c.ID)
	if won != 1 || len(got) != crm.MaxTagsPerCustomer {
		t.Fatalf("%d additions won, customer has %d tags; want 1 and %d", won, len(got), crm.MaxTagsPerCustomer)
	}

	// The schema refuses a tenth even from code that skips the service.
	err = e.store.CustomerQualifierInsert(e.a, crm.CustomerQualifier{OrgID: orgA, CustomerID: c.ID, QualifierID: ids[11],
		Kind: crm.KindTag, Slot: 10, AddedAt: e.now, AddedBy: crm.System()})
	wantErr(t, err, crm.ErrConflict)

	// Removing one frees a slot.
	if _, err := e.crm.Tags.Remove(e.a, c.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Tags.Add(e.a, c.ID, ids[11]); err != nil {
		t.Fatalf("adding into a freed slot: %v", err)
	}
}

// testAttributes: any number per customer, organisations start with none.
func testAttributes(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if attrs, err := e.crm.Attributes.List(e.a); err != nil || len(attrs) != 0 {
		t.Fatalf("new organisation has attributes %v (%v)", attrs, err)
	}
	var ids []string
	for i := range 15 {
		q, err := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "interest " + string(rune('a'+i)), Position: 15 - i})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, q.ID)
	}
	// The same name may be a tag and an attribute.
	if _, err := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "VIP"}); err != nil {
		t.Fatal(err)
	}
	c := e.create(e.a, crm.CustomerFields{LastName: "Curious"})
	got, err := e.crm.Attributes.Add(e.a, c.ID, ids...)
	if err != nil || len(got) != 15 || got[0].Name != "interest o" {
		t.Fatalf("15 attributes in position order: %q, %v", qualifierNames(got), err)
	}
	if tags, _ := e.crm.Tags.Of(e.a, c.ID); len(tags) != 0 {
		t.Fatalf("attributes show as tags: %q", qualifierNames(tags))
	}
	events := e.history(e.a, c.ID)
	if events[0].Kind != crm.EventAttributesChanged || events[0].Changes[0].Field != "attributes" {
		t.Fatalf("latest event %+v", events[0])
	}
	_, err = e.crm.Attributes.Add(e.a, c.ID, c.ID)
	wantInvalid(t, err, "ids[0]", "unknown")
}
