package storetest

import (
	"errors"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testSegments: a saved filter counts, lists and walks exactly the
// customers that match it now; a bad filter is never saved.
func testSegments(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	tags, _ := e.crm.Tags.List(e.a)
	vip := tags[len(tags)-1].ID
	for i := range 23 {
		lang := "nl"
		if i%3 == 0 {
			lang = "de"
		}
		c := e.create(e.a, crm.CustomerFields{LastName: "Klant", FirstName: string(rune('A' + i)), Language: lang})
		if i%2 == 0 {
			if _, err := e.crm.Tags.Add(e.a, c.ID, vip); err != nil {
				t.Fatal(err)
			}
		}
	}
	filter := crm.CustomerFilter{Language: "nl", Tags: crm.QualifierFilter{Any: []string{vip}}, Sort: crm.SortName}
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "Dutch VIPs", Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.crm.Segments.Get(e.a, seg.ID)
	if err != nil || got.Name != "Dutch VIPs" || got.Filter.Language != "nl" || got.Filter.Tags.Any[0] != vip || got.Filter.Sort != crm.SortName {
		t.Fatalf("stored segment %+v, %v", got, err)
	}
	n, err := e.crm.Segments.Count(e.a, seg.ID)
	if err != nil {
		t.Fatal(err)
	}
	walked := map[int64]bool{}
	if err := e.crm.Segments.Each(e.a, seg.ID, 3, func(c *crm.Customer) error {
		if walked[c.Number] || c.Language != "nl" {
			t.Fatalf("walk yields %d (%s) twice or outside the filter", c.Number, c.Language)
		}
		walked[c.Number] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := int64(len(e.list(e.a, filter))); n != want || int64(len(walked)) != n || n != 8 {
		t.Fatalf("count %d, walked %d, list %d; want 8 each", n, len(walked), want)
	}
	page, err := e.crm.Segments.Customers(e.a, seg.ID, crm.PageRequest{Limit: 5})
	if err != nil || len(page.Items) != 5 || page.Next == "" || page.Items[0].FirstName != "C" {
		t.Fatalf("first page in name order: %+v, %v", page, err)
	}
	stop := errors.New("stop")
	calls := 0
	if err := e.crm.Segments.Each(e.a, seg.ID, 3, func(*crm.Customer) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Each does not stop at fn's error: %v after %d calls", err, calls)
	}

	// A segment follows the data: a new match counts at once.
	c := e.create(e.a, crm.CustomerFields{LastName: "Nieuw", Language: "nl"})
	if _, err := e.crm.Tags.Add(e.a, c.ID, vip); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.crm.Segments.Count(e.a, seg.ID); n != 9 {
		t.Fatalf("count after a new match: %d", n)
	}

	_, err = e.crm.Segments.Create(e.a, crm.NewSegment{Name: "DUTCH vips"})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Segments.Create(e.a, crm.NewSegment{Name: "Bad", Filter: crm.CustomerFilter{Language: "xx", NameContains: "ab", Sort: "age"}})
	ve := wantInvalid(t, err, "filter.language", "language")
	if !ve.Has("filter.nameContains", "min") || !ve.Has("filter.sort", "oneof") {
		t.Fatalf("filter errors %+v", ve.Fields)
	}
	_, err = e.crm.Segments.Create(e.a, crm.NewSegment{})
	wantInvalid(t, err, "name", "required")
	upd, err := e.crm.Segments.Update(e.a, seg.ID, crm.SegmentPatch{Name: ptr("All Dutch"), Filter: &crm.CustomerFilter{Language: "nl"}})
	if err != nil || upd.Name != "All Dutch" {
		t.Fatalf("update: %+v, %v", upd, err)
	}
	if n, _ := e.crm.Segments.Count(e.a, seg.ID); n != 16 {
		t.Fatalf("count after changing the filter: %d, want 16", n)
	}

	// Another organisation reaches none of it.
	if segs, _ := e.crm.Segments.List(e.b); len(segs) != 0 {
		t.Fatalf("org B lists %+v", segs)
	}
	_, err = e.crm.Segments.Count(e.b, seg.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Segments.Customers(e.b, seg.ID, crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Segments.Update(e.b, seg.ID, crm.SegmentPatch{Name: ptr("x")})
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.crm.Segments.Delete(e.b, seg.ID), crm.ErrNotFound)

	if err := e.crm.Segments.Delete(e.a, seg.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Segments.Get(e.a, seg.ID)
	wantErr(t, err, crm.ErrNotFound)
}
