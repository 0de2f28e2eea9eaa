package crm

import (
	"reflect"
	"testing"
	"time"
)

func TestChooseMatch(t *testing.T) {
	a, b, c := "0000-a", "0000-b", "0000-c"
	for _, tc := range []struct {
		name      string
		cands     []MatchCandidate
		want      string
		by        MatchBy
		conflicts int
	}{
		{"none", nil, "", "", 0},
		{"phone only", []MatchCandidate{{b, MatchPhone, "+31612345678"}}, b, MatchPhone, 0},
		{"email beats phone", []MatchCandidate{{b, MatchPhone, "+31612345678"}, {a, MatchEmail, "x@example.org"}}, a, MatchEmail, 1},
		{"login beats email", []MatchCandidate{{b, MatchEmail, "x@example.org"}, {a, MatchLoginEmail, "x@example.org"}}, a, MatchLoginEmail, 1},
		{"source id beats all", []MatchCandidate{{b, MatchLoginEmail, "x"}, {c, MatchSourceID, "77"}}, c, MatchSourceID, 1},
		{"same customer twice", []MatchCandidate{{a, MatchEmail, "x"}, {a, MatchPhone, "+31612345678"}}, a, MatchEmail, 0},
		{"shared email: the phone decides", []MatchCandidate{{a, MatchEmail, "x"}, {b, MatchEmail, "x"}, {b, MatchPhone, "+3161"}}, b, MatchEmail, 1},
		{"shared email: the oldest", []MatchCandidate{{b, MatchEmail, "x"}, {a, MatchEmail, "x"}}, a, MatchEmail, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ChooseMatch(tc.cands)
			if m.CustomerID != tc.want || m.By != tc.by || len(m.Conflicts) != tc.conflicts {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

func TestMergeFields(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := func(s string) *Date { x := MustDate(s); return &x }
	cur := &CustomerFields{
		FirstName: "Anna", LastName: "Staffset", Email: "anna@example.org", Language: "nl",
		Address:      Address{City: "Utrecht"},
		Phones:       []Phone{{Kind: PhoneMobile, Number: "+31612345678"}},
		FirstContact: d("2026-05-01"), Remarks: "by hand",
		CustomFields: map[string]any{"diet": "vegan"},
	}
	origins := map[string]FieldOrigin{
		"address.city":      {Field: "address.city", Kind: OriginInteraction, Source: "web", At: at},
		"customFields.diet": {Field: "customFields.diet", Kind: OriginImport, At: at},
	}
	in := &CustomerFields{
		FirstName: "Annie", LastName: "Interaction", Company: "New BV", Email: "other@example.org",
		Address:      Address{City: "Amsterdam", Street: "Dam"},
		Phones:       []Phone{{Kind: PhoneMobile, Number: "+31612345678"}, {Kind: PhoneWork, Number: "+31201234567"}},
		FirstContact: d("2026-01-01"), Remarks: "from the web", NoPost: true, AssignedTo: "someone",
		CustomFields: map[string]any{"diet": "none", "allergy": "nuts"},
	}
	got, set := MergeFields(cur, origins, in, OriginInteraction)
	want := CustomerFields{
		FirstName: "Anna", LastName: "Staffset", Company: "New BV", Email: "anna@example.org",
		AltEmails: []string{"other@example.org"}, Language: "nl",
		Address:      Address{City: "Amsterdam", Street: "Dam"},
		Phones:       []Phone{{Kind: PhoneMobile, Number: "+31612345678"}, {Kind: PhoneWork, Number: "+31201234567"}},
		FirstContact: d("2026-01-01"), Remarks: "by hand",
		CustomFields: map[string]any{"diet": "vegan", "allergy": "nuts"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged\n got %+v\nwant %+v", got, want)
	}
	wantSet := []string{"address.city", "address.street", "altEmails", "company", "customFields.allergy", "firstContact", "phones"}
	if !reflect.DeepEqual(set, wantSet) {
		t.Fatalf("set %q, want %q", set, wantSet)
	}
	// An import may refresh what an import set, never what staff set.
	got, _ = MergeFields(cur, origins, in, OriginImport)
	if got.CustomFields["diet"] != "none" || got.FirstName != "Anna" {
		t.Fatalf("import: %+v", got)
	}
	// A new customer takes everything but what only staff decide.
	got, set = MergeFields(nil, nil, in, OriginInteraction)
	if got.FirstName != "Annie" || got.NoPost || got.AssignedTo != "" || len(set) == 0 {
		t.Fatalf("new: %+v %q", got, set)
	}
	// The rule's table.
	for _, tc := range []struct {
		cur   OriginKind
		known bool
		by    OriginKind
		want  bool
	}{
		{OriginInteraction, true, OriginInteraction, true}, {OriginImport, true, OriginInteraction, false},
		{OriginStaff, true, OriginInteraction, false}, {"", false, OriginInteraction, false},
		{OriginInteraction, true, OriginImport, true}, {OriginImport, true, OriginImport, true},
		{OriginStaff, true, OriginImport, false}, {"", false, OriginImport, false},
		{OriginInteraction, true, OriginStaff, true}, {OriginStaff, true, OriginStaff, true},
	} {
		if got := MayReplace(FieldOrigin{Kind: tc.cur}, tc.known, tc.by); got != tc.want {
			t.Errorf("MayReplace(%s, %v, %s) = %v", tc.cur, tc.known, tc.by, got)
		}
	}
}
