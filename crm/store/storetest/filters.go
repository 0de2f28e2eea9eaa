package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// lastNames lists the last names of cs in list order.
func lastNames(cs []crm.Customer) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.LastName
	}
	return strings.Join(names, " ")
}

// testQualifierFilters: any, all and none of tags and attributes select
// exactly the customers they say, alone and combined.
func testQualifierFilters(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	tags, _ := e.crm.Tags.List(e.a)
	tag := map[string]string{}
	for _, q := range tags {
		tag[q.Name] = q.ID
	}
	diving, _ := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "Diving"})
	cities, _ := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "City trips"})
	add := func(c *crm.Customer, svc *crm.QualifierService, ids ...string) {
		if _, err := svc.Add(e.a, c.ID, ids...); err != nil {
			t.Fatal(err)
		}
	}
	none := e.create(e.a, crm.CustomerFields{LastName: "None"})
	vip := e.create(e.a, crm.CustomerFields{LastName: "Vip"})
	add(vip, e.crm.Tags, tag["VIP"])
	both := e.create(e.a, crm.CustomerFields{LastName: "Both"})
	add(both, e.crm.Tags, tag["VIP"], tag["Regular"])
	add(both, e.crm.Attributes, diving.ID)
	regular := e.create(e.a, crm.CustomerFields{LastName: "Regular"})
	add(regular, e.crm.Tags, tag["Regular"])
	add(regular, e.crm.Attributes, diving.ID, cities.ID)
	_ = none
	// Another organisation's customer with its own VIP tag must never show.
	bTags, _ := e.crm.Tags.List(e.b)
	bCustomer := e.create(e.b, crm.CustomerFields{LastName: "OtherOrg"})
	if _, err := e.crm.Tags.Add(e.b, bCustomer.ID, bTags[len(bTags)-1].ID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		f    crm.CustomerFilter
		want string
	}{
		{"any", crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{tag["VIP"], tag["Regular"]}}}, "Vip Both Regular"},
		{"all", crm.CustomerFilter{Tags: crm.QualifierFilter{All: []string{tag["VIP"], tag["Regular"]}}}, "Both"},
		{"all repeated id", crm.CustomerFilter{Tags: crm.QualifierFilter{All: []string{tag["VIP"], tag["VIP"]}}}, "Vip Both"},
		{"none", crm.CustomerFilter{Tags: crm.QualifierFilter{None: []string{tag["VIP"]}}}, "None Regular"},
		{"any and none", crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{tag["Regular"]}, None: []string{tag["VIP"]}}}, "Regular"},
		{"unused tag", crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{tag["Local"]}}}, ""},
		{"attribute any", crm.CustomerFilter{Attributes: crm.QualifierFilter{Any: []string{cities.ID}}}, "Regular"},
		{"attribute all", crm.CustomerFilter{Attributes: crm.QualifierFilter{All: []string{diving.ID, cities.ID}}}, "Regular"},
		{"attribute none", crm.CustomerFilter{Attributes: crm.QualifierFilter{None: []string{diving.ID}}}, "None Vip"},
		{"tags and attributes", crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{tag["VIP"]}},
			Attributes: crm.QualifierFilter{All: []string{diving.ID}}}, "Both"},
	} {
		got := e.list(e.a, tc.f)
		if lastNames(got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, lastNames(got), tc.want)
		}
		if n, err := e.crm.Customers.Count(e.a, tc.f); err != nil || n != int64(len(got)) {
			t.Errorf("%s: count %d (%v), list %d", tc.name, n, err, len(got))
		}
	}
	_, err := e.crm.Customers.List(e.a, crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{"VIP"}}}, crm.PageRequest{})
	wantInvalid(t, err, "tags.any[0]", "unknown")
}

// testCombinedFilters: criteria of every kind combine with AND, contains
// search follows changes, and active memberships expire by date.
func testCombinedFilters(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	tags, _ := e.crm.Tags.List(e.a)
	vip := tags[len(tags)-1].ID
	club, _ := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Club", Membership: true})
	mk := func(last, lang, firstContact string, isVIP bool) *crm.Customer {
		c := e.create(e.a, crm.CustomerFields{FirstName: "Émile", LastName: last, Language: lang, FirstContact: ptr(crm.MustDate(firstContact))})
		if isVIP {
			if _, err := e.crm.Tags.Add(e.a, c.ID, vip); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	mk("Müller", "de", "2024-03-01", true)
	mk("Muller", "de", "2025-06-01", true)
	mk("Schmöller", "de-AT", "2025-07-01", true)
	mk("Möller", "nl", "2025-07-01", true)
	mk("Keller", "de", "2025-08-01", false)
	member := mk("Zöllner", "de", "2025-09-01", false)
	if _, err := e.crm.Labels.StartMembership(e.a, crm.NewMembership{LabelID: club.ID, HolderID: member.ID, EndsOn: crm.DateOf(e.now.AddDate(0, 0, 10))}); err != nil {
		t.Fatal(err)
	}

	three := crm.CustomerFilter{Language: "de", Tags: crm.QualifierFilter{Any: []string{vip}},
		FirstContactFrom: ptr(crm.MustDate("2025-01-01")), FirstContactTo: ptr(crm.MustDate("2025-12-31"))}
	if got := lastNames(e.list(e.a, three)); got != "Muller Schmöller" {
		t.Fatalf("language + tag + first contact: %q", got)
	}
	for _, tc := range []struct {
		f    crm.CustomerFilter
		want string
	}{
		{crm.CustomerFilter{NameContains: "ller"}, "Müller Muller Schmöller Möller Keller"},
		{crm.CustomerFilter{NameContains: "ller", Sort: crm.SortName}, "Keller Möller Muller Müller Schmöller"},
		{crm.CustomerFilter{NameContains: "ller", Sort: crm.SortCreatedDesc}, "Keller Möller Schmöller Muller Müller"},
		{crm.CustomerFilter{NameContains: "MÖLL"}, "Schmöller Möller"},
		{crm.CustomerFilter{NameContains: "emile zol"}, "Zöllner"},
		{crm.CustomerFilter{NameContains: "ller", Language: "de", Tags: crm.QualifierFilter{None: []string{vip}}}, "Keller"},
		{crm.CustomerFilter{NameContains: "100%"}, ""},
		{crm.CustomerFilter{NameContains: "l_r"}, ""},
		{crm.CustomerFilter{FirstContactFrom: ptr(crm.MustDate("2025-07-01")), FirstContactTo: ptr(crm.MustDate("2025-07-01"))}, "Schmöller Möller"},
		{crm.CustomerFilter{Membership: club.ID}, "Zöllner"},
		{crm.CustomerFilter{Membership: club.ID, NameContains: "ller"}, ""},
	} {
		if got := lastNames(e.list(e.a, tc.f)); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
		if n, err := e.crm.Customers.Count(e.a, tc.f); err != nil || n != int64(len(strings.Fields(tc.want))) {
			t.Errorf("count %+v: %d (%v), want %d", tc.f, n, err, len(strings.Fields(tc.want)))
		}
	}
	_, err := e.crm.Customers.List(e.a, crm.CustomerFilter{NameContains: "ll"}, crm.PageRequest{})
	wantInvalid(t, err, "nameContains", "min")
	_, err = e.crm.Customers.List(e.a, crm.CustomerFilter{FirstContactFrom: ptr(crm.MustDate("2025-02-01")), FirstContactTo: ptr(crm.MustDate("2025-01-01"))}, crm.PageRequest{})
	wantInvalid(t, err, "firstContactTo", "invalid")
	if got := e.list(e.b, crm.CustomerFilter{NameContains: "ller"}); len(got) != 0 {
		t.Fatalf("org B finds A's customers by contains-search: %q", lastNames(got))
	}

	// Contains-search follows renames and deletions.
	if _, err := e.crm.Customers.Update(e.a, member.ID, member.Version, crm.CustomerPatch{LastName: ptr("Weber")}); err != nil {
		t.Fatal(err)
	}
	if got := lastNames(e.list(e.a, crm.CustomerFilter{NameContains: "zoll"})); got != "" {
		t.Fatalf("old name still found: %q", got)
	}
	if got := lastNames(e.list(e.a, crm.CustomerFilter{NameContains: "webe"})); got != "Weber" {
		t.Fatalf("new name not found: %q", got)
	}
	// The membership expires without a job.
	e.now = e.now.AddDate(0, 0, 11)
	if got := e.list(e.a, crm.CustomerFilter{Membership: club.ID}); len(got) != 0 {
		t.Fatalf("expired membership still selects %q", lastNames(got))
	}
	if err := e.crm.Customers.Delete(e.a, member.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.list(e.a, crm.CustomerFilter{NameContains: "webe"}); len(got) != 0 {
		t.Fatalf("deleted customer still found: %q", lastNames(got))
	}
}

// testSortByName: name order follows the organisation's language, and
// changes with it.
func testSortByName(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := context.Background()
	if _, err := e.crm.Organisations.Create(ctx, crm.NewOrganisation{ID: "org-sv", Name: "Resebyrå", DefaultLanguage: "sv"}); err != nil {
		t.Fatal(err)
	}
	sv := crm.WithActor(crm.WithOrg(ctx, "org-sv"), crm.Staff(crm.AdministratorID))
	for _, org := range []context.Context{e.b, sv} {
		for _, f := range []crm.CustomerFields{
			{LastName: "Zorn"}, {LastName: "Öberg"}, {LastName: "adams", FirstName: "Bea"}, {LastName: "Adams", FirstName: "anna"},
			{LastName: "Olsson"}, {Company: "Nordic AB"},
		} {
			e.create(org, f)
		}
	}
	byName := crm.CustomerFilter{Sort: crm.SortName}
	if got, want := lastNames(e.list(e.b, byName)), "Adams adams  Öberg Olsson Zorn"; got != want {
		t.Errorf("German order %q, want %q", got, want)
	}
	if got, want := lastNames(e.list(sv, byName)), "Adams adams  Olsson Zorn Öberg"; got != want {
		t.Errorf("Swedish order %q, want %q", got, want)
	}
	if _, err := e.crm.Organisations.Update(ctx, "org-sv", crm.OrganisationPatch{DefaultLanguage: ptr("de")}); err != nil {
		t.Fatal(err)
	}
	if got, want := lastNames(e.list(sv, byName)), "Adams adams  Öberg Olsson Zorn"; got != want {
		t.Errorf("after switching to German %q, want %q", got, want)
	}
	_, err := e.crm.Customers.List(e.b, crm.CustomerFilter{Sort: "age"}, crm.PageRequest{})
	wantInvalid(t, err, "sort", "oneof")
}

// testPaginationUnderInserts: in every order, paging through a list while
// customers are added between pages yields every customer that existed at
// the start exactly once, and a cursor of one order is refused by another.
func testPaginationUnderInserts(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	names := []string{"Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos", "Peters", "Hendriks"}
	for i, n := range names {
		e.now = testNow.Add(-time.Duration(len(names)-i) * time.Hour)
		e.create(e.a, crm.CustomerFields{LastName: n})
	}
	e.now = testNow
	var initial []int64
	for _, c := range e.list(e.a, crm.CustomerFilter{}) {
		initial = append(initial, c.Number)
	}
	added := 0
	for _, sort := range []crm.CustomerSort{crm.SortNumber, crm.SortName, crm.SortCreated, crm.SortCreatedDesc} {
		seen := map[int64]int{}
		page := crm.PageRequest{Limit: 5}
		var prev *crm.Customer
		for {
			p, err := e.crm.Customers.List(e.a, crm.CustomerFilter{Sort: sort}, page)
			if err != nil {
				t.Fatalf("%s: %v", sort, err)
			}
			for i := range p.Items {
				seen[p.Items[i].Number]++
				prev = &p.Items[i]
			}
			if p.Next == "" {
				break
			}
			// Customers sorting before, between and after the pages.
			for _, n := range []string{"Aalders", "Mol", "Zwart"} {
				added++
				e.now = testNow.Add(time.Duration(added) * time.Second)
				e.create(e.a, crm.CustomerFields{LastName: n})
			}
			page.Cursor = p.Next
			if sort != crm.SortNumber {
				_, err := e.crm.Customers.List(e.a, crm.CustomerFilter{}, page)
				wantInvalid(t, err, "cursor", "cursor")
			}
		}
		_ = prev
		for _, n := range initial {
			if seen[n] != 1 {
				t.Fatalf("%s: customer %d seen %d times", sort, n, seen[n])
			}
		}
		for n, k := range seen {
			if k != 1 {
				t.Fatalf("%s: customer %d repeated", sort, n)
			}
		}
	}
	// Each walks everything once.
	var walked []int64
	err := e.crm.Customers.Each(e.a, crm.CustomerFilter{}, 4, func(c *crm.Customer) error {
		walked = append(walked, c.Number)
		return nil
	})
	total, _ := e.crm.Customers.Count(e.a, crm.CustomerFilter{})
	if err != nil || int64(len(walked)) != total || !slices.IsSorted(walked) {
		t.Fatalf("Each walked %d customers (%v), count %d", len(walked), err, total)
	}
}
