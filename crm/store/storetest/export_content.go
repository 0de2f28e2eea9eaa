package storetest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testExportContent: what an export writes, cell by cell, for customers
// with every kind of value — lists, dates, flags, custom fields of each
// type, tags in the order they were added, attributes, consent states,
// booking counts, accents, CJK, quotes, commas and line breaks — in CSV
// and JSON Lines, for the whole base, a filter and single linked columns.
func testExportContent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	for _, d := range []crm.NewCustomField{{Key: "diet", Label: "Diet", Type: crm.FieldText}, {Key: "visits", Label: "Visits", Type: crm.FieldNumber},
		{Key: "member", Label: "Member", Type: crm.FieldBool}} {
		if _, err := e.crm.CustomFields.Define(e.a, d); err != nil {
			t.Fatal(err)
		}
	}
	golf, err := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "Golf"})
	if err != nil {
		t.Fatal(err)
	}
	sail, err := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "Zeilen & zo"})
	if err != nil {
		t.Fatal(err)
	}
	tags, _ := e.crm.Tags.List(e.a)
	if len(tags) < 3 {
		t.Fatalf("want three tags, have %d", len(tags))
	}
	bd, pe, fc := crm.Date{Year: 1980, Month: 2, Day: 29}, crm.Date{Year: 2030, Month: 12, Day: 31}, crm.Date{Year: 2026, Month: 1, Day: 5}
	zoe := e.create(e.a, crm.CustomerFields{FirstName: "Zoë", MiddleName: "van der", LastName: "Łukasiewicz-Ørsted", Company: `Café "De Hoek", B.V.`,
		Address:   crm.Address{Street: "Straße", HouseNumber: "1a", PostalCode: "3512 AB", City: "Utrecht", Country: "NL"},
		Phones:    []crm.Phone{{Kind: crm.PhoneMobile, Number: "06 1234 5678"}, {Kind: crm.PhoneHome, Number: "+31 20 123 4567"}},
		Email:     "zoe@example.nl",
		AltEmails: []string{"z@example.com", "zoe.work@example.org"},
		BirthDate: &bd, PassportExpiry: &pe, FirstContact: &fc,
		Status: crm.StatusCustomer, Origin: "website", Language: "nl", NoPost: true,
		Remarks: "two\nlines, a comma", InternalDescription: "intern ☕ <b>&</b>",
		CustomFields: map[string]any{"diet": `vegan, "strict"`, "visits": 12.5, "member": true}})
	ng := e.create(e.a, crm.CustomerFields{LastName: "Ng", CustomFields: map[string]any{"visits": float64(3)}})
	taro := e.create(e.a, crm.CustomerFields{FirstName: "太郎", LastName: "日本", NoMailings: true, CustomFields: map[string]any{"member": false}})
	// After customers without phones or e-mail lists, one with them: each
	// row's values are read on their own, whatever came before.
	piet := e.create(e.a, crm.CustomerFields{LastName: "de Vries", Phones: []crm.Phone{{Number: "+31 6 1234 0000"}}, AltEmails: []string{"p@example.nl"},
		CustomFields: map[string]any{"diet": "fish\nonly \"not\" \\ raw", "visits": 1e21}})
	e.create(e.b, crm.CustomerFields{LastName: "Other organisation"})
	// Tags in the order they were added, not by id; attributes by id.
	if _, err := e.crm.Tags.Add(e.a, zoe.ID, tags[2].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Tags.Add(e.a, zoe.ID, tags[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Tags.Add(e.a, taro.ID, tags[1].ID); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ c, q string }{{zoe.ID, golf.ID}, {taro.ID, sail.ID}, {taro.ID, golf.ID}} {
		if _, err := e.crm.Attributes.Add(e.a, l.c, l.q); err != nil {
			t.Fatal(err)
		}
	}
	e.give(e.a, zoe.ID, crm.PurposeNewsletter)
	e.give(e.a, ng.ID, crm.PurposeNewsletter)
	e.withdraw(e.a, ng.ID, crm.PurposeNewsletter)
	zoeTags, taroTags := tags[2].Name+"; "+tags[0].Name, tags[1].Name

	cols := []string{"number", "id", "firstName", "middleName", "lastName", "company", "street", "houseNumber", "postalCode", "city", "country",
		"phone", "phones", "email", "loginEmail", "altEmails", "birthDate", "passportExpiry", "status", "origin", "firstContact", "language",
		"assignedTo", "noPost", "noMailings", "remarks", "internalDescription", "tags", "attributes", "custom.diet", "custom.visits",
		"custom.member", "consent.newsletter", "bookings"}
	want := [][]string{
		{"1", zoe.ID, "Zoë", "van der", "Łukasiewicz-Ørsted", `Café "De Hoek", B.V.`, "Straße", "1a", "3512 AB", "Utrecht", "NL",
			"+31612345678", "+31612345678; +31201234567", "zoe@example.nl", "", "z@example.com; zoe.work@example.org", "1980-02-29", "2030-12-31",
			"customer", "website", "2026-01-05", "nl", "", "true", "false", "two\nlines, a comma", "intern ☕ <b>&</b>", zoeTags, "Golf",
			`vegan, "strict"`, "12.5", "true", "granted", "0"},
		{"2", ng.ID, "", "", "Ng", "", "", "", "", "", "", "", "", "", "", "", "", "", string(ng.Status), "", ng.FirstContact.String(), ng.Language, "",
			"false", "false", "", "", "", "", "", "3", "", "withdrawn", "0"},
		{"3", taro.ID, "太郎", "", "日本", "", "", "", "", "", "", "", "", "", "", "", "", "", string(taro.Status), "", taro.FirstContact.String(),
			taro.Language, "", "false", "true", "", "", taroTags, "Golf; Zeilen & zo", "", "", "false", "never", "0"},
		{"4", piet.ID, "", "", "de Vries", "", "", "", "", "", "", "+31612340000", "+31612340000", "", "", "p@example.nl", "", "",
			string(piet.Status), "", piet.FirstContact.String(), piet.Language, "", "false", "false", "", "", "", "",
			"fish\nonly \"not\" \\ raw", "1000000000000000000000", "", "never", "0"},
	}
	body := func(recs [][]string) string {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.WriteAll(recs)
		return b.String()
	}
	var buf bytes.Buffer
	rec, err := e.crm.Exports.Export(e.a, crm.ExportParams{Columns: cols, Language: "en"}, &buf)
	if err != nil || rec.Rows != 4 {
		t.Fatalf("export: %+v, %v", rec, err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\uFEFFCustomer number,") {
		t.Fatalf("the file starts %q", out[:min(len(out), 40)])
	}
	_, got, _ := strings.Cut(out, "\n")
	if w := body(want); got != w {
		t.Fatalf("CSV export:\n%s\nwant:\n%s", got, w)
	}

	// A filter (a tag leads the page) and the linked columns alone.
	buf.Reset()
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Filter: crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{tags[0].ID}}},
		Columns: []string{"lastName", "tags"}}, &buf); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := strings.Cut(buf.String(), "\n"); got != body([][]string{{"Łukasiewicz-Ørsted", zoeTags}}) {
		t.Fatalf("filtered export:\n%s", got)
	}
	buf.Reset()
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Columns: []string{"attributes"}}, &buf); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := strings.Cut(buf.String(), "\n"); got != body([][]string{{"Golf"}, {""}, {"Golf; Zeilen & zo"}, {""}}) {
		t.Fatalf("attributes export:\n%s", got)
	}

	// JSON Lines: empty values left out, numbers and flags as such, lists
	// as arrays.
	buf.Reset()
	if _, err := e.crm.Exports.Export(e.a, crm.ExportParams{Format: crm.FormatJSONLines, Columns: []string{"number", "firstName", "lastName",
		"company", "phones", "altEmails", "birthDate", "noPost", "remarks", "internalDescription", "tags", "attributes", "custom.diet",
		"custom.visits", "custom.member", "consent.newsletter", "bookings"}}, &buf); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"number":1,"firstName":"Zoë","lastName":"Łukasiewicz-Ørsted","company":"Café \"De Hoek\", B.V.",` +
		`"phones":["+31612345678","+31201234567"],"altEmails":["z@example.com","zoe.work@example.org"],"birthDate":"1980-02-29",` +
		`"noPost":true,"remarks":"two\nlines, a comma","internalDescription":"intern ☕ \u003cb\u003e\u0026\u003c/b\u003e",` +
		`"tags":[` + jsonText(tags[2].Name) + `,` + jsonText(tags[0].Name) + `],"attributes":["Golf"],"custom.diet":"vegan, \"strict\"","custom.visits":"12.5",` +
		`"custom.member":true,"consent.newsletter":"granted","bookings":0}` + "\n" +
		`{"number":2,"lastName":"Ng","noPost":false,"custom.visits":"3","consent.newsletter":"withdrawn","bookings":0}` + "\n" +
		`{"number":3,"firstName":"太郎","lastName":"日本","noPost":false,"tags":["` + tags[1].Name + `"],"attributes":["Golf","Zeilen \u0026 zo"],` +
		`"custom.member":false,"consent.newsletter":"never","bookings":0}` + "\n" +
		`{"number":4,"lastName":"de Vries","phones":["+31612340000"],"altEmails":["p@example.nl"],"noPost":false,` +
		`"custom.diet":"fish\nonly \"not\" \\ raw","custom.visits":"1000000000000000000000","consent.newsletter":"never","bookings":0}` + "\n"
	if buf.String() != wantJSON {
		t.Fatalf("JSON Lines export:\n%s\nwant:\n%s", buf.String(), wantJSON)
	}
}

// jsonText is s as a JSON string, as encoding/json writes it.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
