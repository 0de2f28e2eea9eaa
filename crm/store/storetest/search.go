package storetest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

func testFindByName(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	muller := e.create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Müller"})
	zoe := e.create(e.a, crm.CustomerFields{FirstName: "Zoë", MiddleName: "van der", LastName: "Berg"})
	lodz := e.create(e.a, crm.CustomerFields{FirstName: "Łukasz", LastName: "Søndergaard"})
	company := e.create(e.a, crm.CustomerFields{Company: "Émile & Fils", Email: "info@emile.example"})
	e.create(e.a, crm.CustomerFields{FirstName: "Mul", LastName: "Ti"}) // "mul" is a whole word here
	e.create(e.b, crm.CustomerFields{FirstName: "Anna", LastName: "Müller"})

	cases := []struct {
		query string
		want  []int64
	}{
		{"muller", []int64{muller.Number}},
		{"MÜLLER", []int64{muller.Number}},
		{"Mül", []int64{muller.Number, 5}},
		{"mul", []int64{muller.Number, 5}},
		{"anna m", []int64{muller.Number}},
		{"muller anna", []int64{muller.Number}},
		{"zoe", []int64{zoe.Number}},
		{"ZOË", []int64{zoe.Number}},
		{"berg", []int64{zoe.Number}},
		{"van der b", []int64{zoe.Number}},
		{"zoe van der berg", []int64{zoe.Number}},
		{"lukasz", []int64{lodz.Number}},
		{"sonder", []int64{lodz.Number}},
		{"emile", []int64{company.Number}},
		{"fils", []int64{company.Number}},
		{"  anna   müller ", []int64{muller.Number}},
		{"ller", nil}, // prefix search: no match inside a word
		{"nobody", nil},
	}
	for _, tc := range cases {
		got := numbers(e.list(e.a, crm.CustomerFilter{Name: tc.query}))
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("name %q found %v, want %v", tc.query, got, tc.want)
		}
	}

	// The keys follow every rename.
	if _, err := e.crm.Customers.Update(e.a, muller.ID, 1, crm.CustomerPatch{LastName: ptr("Schäfer")}); err != nil {
		t.Fatal(err)
	}
	if got := e.list(e.a, crm.CustomerFilter{Name: "muller"}); len(got) != 0 {
		t.Fatalf("old name still found after rename: %v", numbers(got))
	}
	if got := e.list(e.a, crm.CustomerFilter{Name: "schafer"}); len(got) != 1 {
		t.Fatalf("new name not found after rename: %v", numbers(got))
	}
}

func testFindByPhone(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Bel", Phones: []crm.Phone{
		{Kind: crm.PhoneHome, Number: "020-123 45 67"},
		{Kind: crm.PhoneMobile, Number: "+31 (0)6 1234 5678"},
	}})
	e.create(e.a, crm.CustomerFields{LastName: "Other", Phones: []crm.Phone{{Number: "06 8765 4321"}}})
	e.create(e.b, crm.CustomerFields{LastName: "Other org", Phones: []crm.Phone{{Number: "+31612345678"}}})
	if c.Phones[1].Number != "+31612345678" {
		t.Fatalf("stored phone %q, want E.164", c.Phones[1].Number)
	}
	for _, q := range []string{"06 1234 5678", "0612345678", "+31612345678", "+31 6 12 34 56 78", "0031 6 12345678", "020 1234567"} {
		got := e.list(e.a, crm.CustomerFilter{Phone: q})
		if len(got) != 1 || got[0].ID != c.ID {
			t.Errorf("phone %q found %v, want customer %d", q, numbers(got), c.Number)
		}
	}
	if got := e.list(e.a, crm.CustomerFilter{Phone: "06 1111 2222"}); len(got) != 0 {
		t.Errorf("unknown number found %v", numbers(got))
	}
	// Org B reads national numbers with its own country (DE).
	if got := e.list(e.b, crm.CustomerFilter{Phone: "0612345678"}); len(got) != 0 {
		t.Errorf("German national number matched a Dutch one: %v", numbers(got))
	}
	// Numbers follow updates: a replaced number no longer finds the
	// customer, the kept and the new ones do, and removing every number
	// leaves none behind.
	if _, err := e.crm.Customers.Update(e.a, c.ID, c.Version, crm.CustomerPatch{Phones: &[]crm.Phone{
		{Kind: crm.PhoneHome, Number: "020-123 45 67"}, {Kind: crm.PhoneMobile, Number: "06 1111 2222"}}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"0612345678": 0, "0611112222": 1, "0201234567": 1} {
		if got := e.list(e.a, crm.CustomerFilter{Phone: q}); len(got) != want {
			t.Errorf("after the update, phone %q finds %v, want %d", q, numbers(got), want)
		}
	}
	if _, err := e.crm.Customers.Update(e.a, c.ID, c.Version+1, crm.CustomerPatch{Phones: &[]crm.Phone{}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"0611112222", "0201234567"} {
		if got := e.list(e.a, crm.CustomerFilter{Phone: q}); len(got) != 0 {
			t.Errorf("after removing every number, phone %q finds %v", q, numbers(got))
		}
	}
	// Org B's customer with the replaced number is still found in org B.
	if got := e.list(e.b, crm.CustomerFilter{Phone: "+31612345678"}); len(got) != 1 {
		t.Errorf("org B's number finds %v after org A's update", numbers(got))
	}
}

func testFindByEmail(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Mail", LoginEmail: "login@example.nl", Email: "Post@Example.nl",
		AltEmails: []string{"Work@Example.com", "holiday@example.org"}})
	shared := e.create(e.a, crm.CustomerFields{LastName: "Partner", Email: "post@example.nl"})
	e.create(e.b, crm.CustomerFields{LastName: "Other org", Email: "work@example.com"})
	cases := map[string][]int64{
		"LOGIN@example.nl":      {c.Number},
		"post@example.nl":       {c.Number, shared.Number},
		"work@example.com":      {c.Number},
		" HOLIDAY@example.org ": {c.Number},
		"none@example.nl":       nil,
	}
	for q, want := range cases {
		got := numbers(e.list(e.a, crm.CustomerFilter{Email: q}))
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("e-mail %q found %v, want %v", q, got, want)
		}
	}
	// Alternative addresses follow updates.
	if _, err := e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{AltEmails: &[]string{"new@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "work@example.com"}); len(got) != 0 {
		t.Errorf("removed alternative address still finds %v", numbers(got))
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "NEW@example.com"}); len(got) != 1 {
		t.Errorf("new alternative address finds %v", numbers(got))
	}
	// An update that changes no name, address or phone leaves every
	// index finding the customer; a new name is found, the addresses stay.
	if _, err := e.crm.Customers.Update(e.a, c.ID, 2, crm.CustomerPatch{Remarks: ptr("a remark")}); err != nil {
		t.Fatal(err)
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "new@example.com"}); len(got) != 1 {
		t.Errorf("after a remark, the alternative address finds %v", numbers(got))
	}
	if got := e.list(e.a, crm.CustomerFilter{NameContains: "mail"}); len(got) != 1 {
		t.Errorf("after a remark, the name finds %v", numbers(got))
	}
	if _, err := e.crm.Customers.Update(e.a, c.ID, 3, crm.CustomerPatch{LastName: ptr("Renamed")}); err != nil {
		t.Fatal(err)
	}
	if got := e.list(e.a, crm.CustomerFilter{NameContains: "renam"}); len(got) != 1 {
		t.Errorf("the new name finds %v", numbers(got))
	}
	if got := e.list(e.a, crm.CustomerFilter{NameContains: "mail"}); len(got) != 0 {
		t.Errorf("the old name still finds %v", numbers(got))
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "new@example.com"}); len(got) != 1 {
		t.Errorf("after a new name, the alternative address finds %v", numbers(got))
	}
}

func testFindByBirthDateAndNumber(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	a := e.create(e.a, crm.CustomerFields{LastName: "A", BirthDate: ptr(crm.MustDate("1990-07-14"))})
	e.create(e.a, crm.CustomerFields{LastName: "B", BirthDate: ptr(crm.MustDate("1990-07-15"))})
	c := e.create(e.a, crm.CustomerFields{LastName: "C", BirthDate: ptr(crm.MustDate("1990-07-14"))})
	got := numbers(e.list(e.a, crm.CustomerFilter{BirthDate: ptr(crm.MustDate("1990-07-14"))}))
	if !reflect.DeepEqual(got, []int64{a.Number, c.Number}) {
		t.Errorf("birth date found %v, want %v", got, []int64{a.Number, c.Number})
	}
	if got := numbers(e.list(e.a, crm.CustomerFilter{Number: c.Number})); !reflect.DeepEqual(got, []int64{c.Number}) {
		t.Errorf("number found %v", got)
	}
}

func testListFilters(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	day := func(d int) { e.now = testNow.Add(time.Duration(d) * 24 * time.Hour) }
	day(-20)
	// Svan ("sva") starts with the letters of Swedish but is another language.
	svan := e.create(e.a, crm.CustomerFields{LastName: "Svan", Language: "sva"})
	day(-10)
	lead := e.create(e.a, crm.CustomerFields{LastName: "Lead", Status: crm.StatusLead, Origin: "website", Language: "nl-BE", AssignedTo: "u1"})
	day(-5)
	cust := e.create(e.a, crm.CustomerFields{LastName: "Cust", Origin: "fair", Language: "nl", AssignedTo: "u2"})
	day(0)
	de := e.create(e.a, crm.CustomerFields{LastName: "Deutsch", Status: crm.StatusLead, Origin: "website", Language: "de"})
	cases := []struct {
		name string
		f    crm.CustomerFilter
		want []int64
	}{
		{"status", crm.CustomerFilter{Status: crm.StatusLead}, []int64{lead.Number, de.Number}},
		{"origin", crm.CustomerFilter{Origin: "website"}, []int64{lead.Number, de.Number}},
		{"language with regions", crm.CustomerFilter{Language: "nl"}, []int64{lead.Number, cust.Number}},
		{"exact region", crm.CustomerFilter{Language: "nl-be"}, []int64{lead.Number}},
		{"language, not a longer code", crm.CustomerFilter{Language: "sv"}, nil},
		{"longer code", crm.CustomerFilter{Language: "sva"}, []int64{svan.Number}},
		{"assigned", crm.CustomerFilter{AssignedTo: "u2"}, []int64{cust.Number}},
		{"created from", crm.CustomerFilter{CreatedFrom: testNow.Add(-6 * 24 * time.Hour)}, []int64{cust.Number, de.Number}},
		{"created range", crm.CustomerFilter{CreatedFrom: testNow.Add(-11 * 24 * time.Hour), CreatedTo: cust.CreatedAt}, []int64{lead.Number}},
		{"combined", crm.CustomerFilter{Status: crm.StatusLead, Origin: "website", Language: "de"}, []int64{de.Number}},
	}
	for _, tc := range cases {
		got := numbers(e.list(e.a, tc.f))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testListPagination(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	for i := 0; i < 7; i++ {
		e.create(e.a, crm.CustomerFields{LastName: "Page"})
	}
	var got []int64
	page := crm.PageRequest{Limit: 3}
	for pages := 0; ; pages++ {
		p, err := e.crm.Customers.List(e.a, crm.CustomerFilter{Name: "page"}, page)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, numbers(p.Items)...)
		if pages == 0 {
			// Rows added between pages appear once, on a later page.
			e.create(e.a, crm.CustomerFields{LastName: "Page"})
		}
		if p.Next == "" {
			break
		}
		page.Cursor = p.Next
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	p, err := e.crm.Customers.List(e.a, crm.CustomerFilter{}, crm.PageRequest{})
	if err != nil || len(p.Items) != 8 || p.Next != "" {
		t.Fatalf("default page: %d items, next %q, err %v", len(p.Items), p.Next, err)
	}
}

// testFindBySpelling: name search finds a name as people type it: without
// its apostrophe (straight or typographic), a hyphenated name by each part
// and written as one, and umlauts also by their German transliteration
// (in every organisation; "muller" keeps finding Müller). Prefix search
// and contains-search agree.
func testFindBySpelling(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	sean := e.create(e.a, crm.CustomerFields{FirstName: "Seán", LastName: "O'Brien"})
	patrick := e.create(e.a, crm.CustomerFields{FirstName: "Patrick", LastName: "O’Brien"}) // U+2019
	picard := e.create(e.a, crm.CustomerFields{FirstName: "Jean-Luc", LastName: "Picard"})
	mullerA := e.create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Müller"})
	mullerB := e.create(e.b, crm.CustomerFields{FirstName: "Jörg", LastName: "Müller-Lüdenscheidt"})
	muellerB := e.create(e.b, crm.CustomerFields{FirstName: "Karl", LastName: "Mueller"})
	mullerPlainB := e.create(e.b, crm.CustomerFields{FirstName: "Lea", LastName: "Muller"})
	e.create(e.b, crm.CustomerFields{FirstName: "Seán", LastName: "O'Brien"}) // the other organisation's

	cases := []struct {
		ctx      context.Context
		org      string
		query    string
		contains bool
		want     []int64
	}{
		{e.a, "A", "obrien", false, []int64{sean.Number, patrick.Number}},
		{e.a, "A", "o'brien", false, []int64{sean.Number, patrick.Number}},
		{e.a, "A", "O’Brien", false, []int64{sean.Number, patrick.Number}},
		{e.a, "A", "obrien sean", false, []int64{sean.Number}},
		{e.a, "A", "brien", true, []int64{sean.Number, patrick.Number}},
		{e.a, "A", "obri", true, []int64{sean.Number, patrick.Number}},
		{e.a, "A", "jean", false, []int64{picard.Number}},
		{e.a, "A", "luc", false, []int64{picard.Number}},
		{e.a, "A", "jeanluc", false, []int64{picard.Number}},
		{e.a, "A", "Jean-Luc", false, []int64{picard.Number}},
		{e.a, "A", "jean luc picard", false, []int64{picard.Number}},
		{e.a, "A", "picard jeanluc", false, []int64{picard.Number}},
		{e.a, "A", "anluc", true, []int64{picard.Number}},
		{e.a, "A", "muller", false, []int64{mullerA.Number}},
		{e.a, "A", "mueller", false, []int64{mullerA.Number}}, // also outside German organisations
		{e.b, "B", "mueller", false, []int64{mullerB.Number, muellerB.Number}},
		{e.b, "B", "MÜLLER", false, []int64{mullerB.Number, mullerPlainB.Number}},
		{e.b, "B", "muller", false, []int64{mullerB.Number, mullerPlainB.Number}},
		{e.b, "B", "luedenscheidt", false, []int64{mullerB.Number}},
		{e.b, "B", "ludenscheidt", false, []int64{mullerB.Number}},
		{e.b, "B", "muellerlued", false, []int64{mullerB.Number}},
		{e.b, "B", "joerg", false, []int64{mullerB.Number}},
		{e.b, "B", "ueller", true, []int64{mullerB.Number, muellerB.Number}},
		{e.b, "B", "uller", true, []int64{mullerB.Number, mullerPlainB.Number}},
		{e.b, "B", "ller lud", true, []int64{mullerB.Number}},
	}
	for _, tc := range cases {
		f := crm.CustomerFilter{Name: tc.query}
		if tc.contains {
			f = crm.CustomerFilter{NameContains: tc.query}
		}
		got := numbers(e.list(tc.ctx, f))
		if !slices.Equal(got, tc.want) {
			t.Errorf("organisation %s, %+v found %v, want %v", tc.org, f, got, tc.want)
		}
	}
	// No contains-search matches across two spellings of a name.
	if got := numbers(e.list(e.b, crm.CustomerFilter{NameContains: "scheidt joerg"})); len(got) != 0 {
		t.Errorf("a search across spellings found %v", got)
	}
}

// testSortKeepsSurnames: sorted by name, one surname stays together in
// every case and accent, ordered by first name within it; another surname
// that differs only by an accent is a group of its own. Pages in that
// order neither skip nor repeat.
func testSortKeepsSurnames(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	for _, n := range [][2]string{
		{"Arlig", "Bea"}, {"Ärlig", "Anna"}, {"Arlig", "Carl"}, {"Ärlig", "Dora"},
		{"MÜLLER", "Anna"}, {"Muller", "Bert"}, {"Müller", "Cora"}, {"Muller", "Anna"}, {"Mull", "Zoë"},
	} {
		e.create(e.b, crm.CustomerFields{LastName: n[0], FirstName: n[1]})
	}
	want := "Arlig Bea, Arlig Carl, Ärlig Anna, Ärlig Dora, Mull Zoë, Muller Anna, Muller Bert, MÜLLER Anna, Müller Cora"
	var got []string
	page := crm.PageRequest{Limit: 2}
	for {
		p, err := e.crm.Customers.List(e.b, crm.CustomerFilter{Sort: crm.SortName}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			got = append(got, c.LastName+" "+c.FirstName)
		}
		if p.Next == "" {
			break
		}
		page.Cursor = p.Next
	}
	if s := strings.Join(got, ", "); s != want {
		t.Errorf("German order by name:\n%s\nwant\n%s", s, want)
	}
}
