package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// TestNameKeysByNumberMigration: name keys written with the customer's id
// are kept by migration 20261129000010, keyed by number, and the writers
// find them afterwards: a rename removes the old name's keys, a delete all
// of the customer's, on both databases.
func TestNameKeysByNumberMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, "20261129000010")
		now := time.Now().UTC()
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('nk', 'Nk', 'nl', ?, ?)", now, now)
		names := []crm.CustomerFields{{FirstName: "Anna", LastName: "de Vries"}, {FirstName: "Jan", LastName: "Jansen"}}
		ids := make([]string, len(names))
		for i, f := range names {
			ids[i] = uuid.NewString()
			exec(`INSERT INTO customers (id, org_id, number, first_name, last_name, status, language, created_at, updated_at, last_activity_at, version, sort_key)
				VALUES (?, 'nk', ?, ?, ?, 'customer', 'nl', ?, ?, ?, 1, ?)`, ids[i], i+1, f.FirstName, f.LastName, now, now, now, crm.SortKey("nl", &f))
			exec("INSERT INTO customer_search (org_id, customer_id, number, text) VALUES ('nk', ?, ?, ?)", ids[i], i+1, crm.SearchText(&f))
			for _, k := range crm.NameKeys(&f) {
				exec("INSERT INTO customer_name_keys (org_id, customer_id, key, number) VALUES ('nk', ?, ?, ?)", ids[i], k, i+1)
			}
		}
		exec("UPDATE organisations SET next_customer_number = ? WHERE id = 'nk'", len(names))
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "nk", "s")
		find := func(name string) []int64 {
			t.Helper()
			page, err := c.Customers.List(octx, crm.CustomerFilter{Name: name}, crm.PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, cust := range page.Items {
				got = append(got, cust.Number)
			}
			return got
		}
		keys := func(number int) int64 {
			t.Helper()
			n, err := db.bun.NewSelect().Table("customer_name_keys").Where("org_id = 'nk'").Where("number = ?", number).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int64(n)
		}
		if got := find("vries"); !slices.Equal(got, []int64{1}) {
			t.Fatalf("after the migration vries finds %v", got)
		}
		if got := find("jan"); !slices.Equal(got, []int64{2}) {
			t.Fatalf("after the migration jan finds %v", got)
		}
		anna, err := c.Customers.Get(octx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		f := anna.CustomerFields
		f.LastName = "Bakker"
		if _, err := c.Customers.Update(octx, anna.ID, anna.Version, crm.CustomerPatch{LastName: &f.LastName}); err != nil {
			t.Fatal(err)
		}
		if got := find("vries"); len(got) != 0 {
			t.Errorf("after the rename vries finds %v", got)
		}
		if got := find("bakker"); !slices.Equal(got, []int64{1}) {
			t.Errorf("after the rename bakker finds %v", got)
		}
		if n, want := keys(1), int64(len(crm.NameKeys(&f))); n != want {
			t.Errorf("after the rename customer 1 has %d name keys, want %d", n, want)
		}
		if err := c.Customers.Delete(octx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if n := keys(2); n != 0 {
			t.Errorf("a deleted customer keeps %d name keys", n)
		}
	})
}

// TestPrunedNameKeysMigration: customers stored with every word suffix as
// a name key keep only the keys crm.NameKeys computes today after
// migration 20261130000050 (no key that begins another), are found by
// every name part as before, and a rename or a delete leaves none of the
// old keys behind, on both databases; more customers than one batch of
// the rebuild.
func TestPrunedNameKeysMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, prunedNameKeysVersion)
		now := time.Now().UTC()
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('pk', 'Pk', 'nl', ?, ?)", now, now)
		const n = rebuildBatch + 3
		names := []crm.CustomerFields{{FirstName: "Anna", LastName: "van der Berg"}, {FirstName: "Jan", LastName: "Jansen"}}
		var ids []string
		var stored int
		for i := range n {
			f := names[i%len(names)]
			id := uuid.NewString()
			ids = append(ids, id)
			exec(`INSERT INTO customers (id, org_id, number, first_name, last_name, status, language, created_at, updated_at, last_activity_at, version, sort_key)
				VALUES (?, 'pk', ?, ?, ?, 'customer', 'nl', ?, ?, ?, 1, ?)`, id, i+1, f.FirstName, f.LastName, now, now, now, crm.SortKey("nl", &f))
			exec("INSERT INTO customer_search (org_id, customer_id, number, text) VALUES ('pk', ?, ?, ?)", id, i+1, crm.SearchText(&f))
			// The keys as written before: every suffix, in both orders.
			seen := map[string]bool{}
			for _, name := range []string{f.FirstName + " " + f.LastName, f.LastName + " " + f.FirstName} {
				words := strings.Fields(strings.ToLower(name))
				for w := range words {
					if k := strings.Join(words[w:], " "); !seen[k] {
						seen[k] = true
						exec("INSERT INTO customer_name_keys (org_id, key, number) VALUES ('pk', ?, ?)", k, i+1)
						stored++
					}
				}
			}
		}
		exec("UPDATE organisations SET next_customer_number = ? WHERE id = 'pk'", n)
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		keysOf := func(number int) []string {
			t.Helper()
			var keys []string
			if err := db.bun.NewSelect().Table("customer_name_keys").Column("key").Where("org_id = 'pk'").Where("number = ?", number).
				OrderExpr("key").Scan(ctx, &keys); err != nil {
				t.Fatal(err)
			}
			return keys
		}
		var total int
		for i := range n {
			keys := keysOf(i + 1)
			total += len(keys)
			if f := names[i%len(names)]; !slices.Equal(keys, crm.NameKeys(&f)) {
				t.Fatalf("customer %d: name keys %q, want %q", i+1, keys, crm.NameKeys(&f))
			}
		}
		if total >= stored {
			t.Errorf("%d name keys after the migration, %d before", total, stored)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "pk", "s")
		count := func(name string) int64 {
			t.Helper()
			got, err := c.Customers.Count(octx, crm.CustomerFilter{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		annas := int64((n + 1) / 2)
		// The search rows, keyed by number since migration 20261130000060,
		// still find every customer, and on SQLite the trigram index agrees
		// with them row for row.
		if n, err := c.Customers.Count(octx, crm.CustomerFilter{NameContains: "der ber"}); err != nil || n != annas {
			t.Errorf("contains-search counts %d, %v; want %d", n, err, annas)
		}
		if db.dialect.name == sqliteDialect.name {
			exec("INSERT INTO customer_search_fts (customer_search_fts) VALUES ('integrity-check')")
		}
		for _, name := range []string{"anna", "anna van", "berg", "der", "van der berg", "berg anna", "jan", "jansen j"} {
			want := annas
			if strings.HasPrefix(name, "jan") {
				want = n - annas
			}
			if got := count(name); got != want {
				t.Errorf("%q finds %d customers, want %d", name, got, want)
			}
		}
		anna, err := c.Customers.Get(octx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		last := "Bakker"
		if _, err := c.Customers.Update(octx, anna.ID, anna.Version, crm.CustomerPatch{LastName: &last}); err != nil {
			t.Fatal(err)
		}
		renamed := crm.CustomerFields{FirstName: "Anna", LastName: "Bakker"}
		if keys := keysOf(1); !slices.Equal(keys, crm.NameKeys(&renamed)) {
			t.Errorf("after the rename customer 1 has name keys %q, want %q", keys, crm.NameKeys(&renamed))
		}
		if got := count("berg"); got != annas-1 {
			t.Errorf("after the rename berg finds %d customers, want %d", got, annas-1)
		}
		if err := c.Customers.Delete(octx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if keys := keysOf(2); len(keys) != 0 {
			t.Errorf("a deleted customer keeps name keys %q", keys)
		}
	})
}

// TestCompactHistoryMigration: events written in the object layout read
// back the same after migration 20261129000011 has rewritten them in the
// flat layout, on both databases; a batch boundary is crossed.
func TestCompactHistoryMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, compactHistoryVersion)
		now := time.Now().UTC().Truncate(time.Second)
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('ch', 'Ch', 'nl', ?, ?)", now, now)
		customer := uuid.NewString()
		stored := []string{
			`[{"field":"address.city","new":"Zwolle"},{"field":"birthDate","new":"1970-01-02"},{"field":"noPost","new":true},` +
				`{"field":"phones","new":[{"kind":"mobile","number":"+31612345678"}]},{"field":"customFields.size","new":42.5},{"field":"remarks","new":""}]`,
			`[{"field":"lastName","old":"Jansen","new":"Bakker"},{"field":"email","old":"a@example.org"},{"field":"company","new":"Acme"}]`,
			`[{"field":"firstName"},{"field":"lastName"}]`,
			`[]`,
			``,
		}
		var want [][]crm.FieldChange
		for i, changes := range stored {
			var v any
			var w []crm.FieldChange
			if changes != "" {
				v = changes
				if err := json.Unmarshal([]byte(changes), &w); err != nil {
					t.Fatal(err)
				}
			}
			want = append(want, w)
			exec(`INSERT INTO history_events (id, org_id, customer_id, kind, actor_kind, actor_id, at, changes) VALUES (?, 'ch', ?, 'customer.updated', 'staff', 's', ?, ?)`,
				uuid.NewString(), customer, now.Add(time.Duration(i)*time.Second), v)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := compactHistory(ctx, db.bun, db.dialect.name, 2); err != nil { // again, in batches of two: nothing left to change
			t.Fatal(err)
		}
		events, err := db.HistoryList(ctx, crm.HistoryListParams{OrgID: "ch", CustomerID: customer, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != len(want) {
			t.Fatalf("%d events, want %d", len(events), len(want))
		}
		for i, e := range events { // newest first
			if w := want[len(want)-1-i]; !reflect.DeepEqual(e.Changes, w) {
				t.Errorf("event %d reads %#v, want %#v", len(want)-1-i, e.Changes, w)
			}
		}
		var texts []string
		if err := db.bun.NewSelect().Table("history_events").ColumnExpr("CAST(changes AS TEXT)").Where("org_id = 'ch'").
			Where("changes IS NOT NULL").OrderExpr("at").Scan(ctx, &texts); err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			if strings.Contains(text, `"field"`) {
				t.Errorf("still in the object layout: %s", text)
			}
		}
		if len(texts) > 0 && !strings.HasPrefix(texts[0], "[2,") {
			t.Errorf("a creation-like event is stored as %s", texts[0])
		}
	})
}

// TestHistoryChangesLayouts: every layout reads back what was written.
func TestHistoryChangesLayouts(t *testing.T) {
	for _, changes := range [][]crm.FieldChange{
		nil,
		{},
		{{Field: "a"}, {Field: "b"}},
		{{Field: "a", New: "x"}, {Field: "b"}, {Field: "c", New: map[string]any{"k": []any{1.0, "two"}}}},
		{{Field: "a", Old: "x"}, {Field: "b", New: false}, {Field: "c", Old: 1.0, New: 2.0}},
		{{Field: "firstName", New: "Anna"}, {Field: "address.city", New: "Köln"}, {Field: "customFields.7", New: 7.0}, {Field: "2024", New: "x"}},
		{{Field: "lastName", Old: "Berg", New: "Bakker"}, {Field: "tags", New: []any{"VIP"}}},
		{{Field: "email"}, {Field: "attributes"}},
	} {
		v, err := historyChanges(changes).Value()
		if err != nil {
			t.Fatal(err)
		}
		var back historyChanges
		if err := back.Scan(v); err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if !reflect.DeepEqual([]crm.FieldChange(back), changes) {
			t.Errorf("%#v stored as %v reads back as %#v", changes, v, back)
		}
	}
}

// TestHistoryFieldNumbers: the fields of a customer record are stored by
// number, in the numbers stored events already hold (the list only grows
// at its end); events that name them read back the same; a number no
// field has is an error, not a field of that name.
func TestHistoryFieldNumbers(t *testing.T) {
	stored := []string{"", "firstName", "middleName", "lastName", "company",
		"address.street", "address.houseNumber", "address.postalCode", "address.city", "address.country",
		"phones", "birthDate", "passportExpiry", "status", "origin", "firstContact",
		"loginEmail", "email", "altEmails", "language", "internalDescription", "remarks",
		"noPost", "noMailings", "assignedTo", "tags", "attributes"}
	if len(historyFieldCodes) < len(stored) || !slices.Equal(historyFieldCodes[:len(stored)], stored) {
		t.Fatalf("historyFieldCodes changed the numbers of stored fields:\n%q\nwas\n%q", historyFieldCodes, stored)
	}
	changes := historyChanges{{Field: "firstName", New: "Anna"}, {Field: "address.city", New: "Köln"}, {Field: "customFields.diet", New: "vegan"}}
	v, err := changes.Value()
	if err != nil {
		t.Fatal(err)
	}
	if want := `[2,1,"Anna",8,"Köln","customFields.diet","vegan"]`; v != want {
		t.Errorf("stored as %v, want %s", v, want)
	}
	var byName historyChanges
	if err := byName.Scan(`[2,"firstName","Anna","address.city","Köln","customFields.diet","vegan"]`); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byName, changes) {
		t.Errorf("by name reads back as %#v, want %#v", byName, changes)
	}
	for _, bad := range []string{`[1,0]`, `[1,999]`, `[2,1.5,"x"]`} {
		var h historyChanges
		if err := h.Scan(bad); err == nil {
			t.Errorf("%s reads back as %#v, want an error", bad, h)
		}
	}
}

// TestPhonesByNumberMigration: phone rows written with the customer's id
// are kept by migration 20261130000070, keyed by number, and the writers
// and readers find them afterwards: a phone filter, a match of an
// interaction, a change of number and a delete, on both databases.
func TestPhonesByNumberMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, "20261130000070")
		now := time.Now().UTC()
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('ph', 'Ph', 'nl', ?, ?)", now, now)
		numbers := []string{"+31612340001", "+31612340002"}
		ids := make([]string, len(numbers))
		for i, n := range numbers {
			ids[i] = uuid.NewString()
			f := crm.CustomerFields{FirstName: "Anna", LastName: "Visser" + string(rune('a'+i)), Phones: []crm.Phone{{Kind: crm.PhoneMobile, Number: n}}}
			phones, err := json.Marshal(f.Phones)
			if err != nil {
				t.Fatal(err)
			}
			exec(`INSERT INTO customers (id, org_id, number, first_name, last_name, phones, status, language, created_at, updated_at, last_activity_at, version, sort_key)
				VALUES (?, 'ph', ?, ?, ?, ?, 'customer', 'nl', ?, ?, ?, 1, ?)`, ids[i], i+1, f.FirstName, f.LastName, string(phones), now, now, now, crm.SortKey("nl", &f))
			exec("INSERT INTO customer_search (org_id, number, text) VALUES ('ph', ?, ?)", i+1, crm.SearchText(&f))
			exec("INSERT INTO customer_phones (org_id, customer_id, number) VALUES ('ph', ?, ?)", ids[i], n)
		}
		exec("UPDATE organisations SET next_customer_number = ? WHERE id = 'ph'", len(numbers))
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "ph", "s")
		count := func(phone string) int64 {
			t.Helper()
			n, err := c.Customers.Count(octx, crm.CustomerFilter{Phone: phone})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, n := range numbers {
			if got := count(n); got != 1 {
				t.Errorf("after the migration phone %s counts %d, want 1", n, got)
			}
		}
		res, err := c.Interactions.Record(octx, crm.NewInteraction{Source: "website", Kind: crm.InteractionContactForm,
			InteractionContent: crm.InteractionContent{Phones: []string{numbers[1]}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Customer == nil || res.Customer.ID != ids[1] || res.Created {
			t.Errorf("an interaction with phone %s: %+v, want customer %s found", numbers[1], res, ids[1])
		}
		anna, err := c.Customers.Get(octx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		moved := []crm.Phone{{Kind: crm.PhoneMobile, Number: "+31612340009"}}
		if _, err := c.Customers.Update(octx, anna.ID, anna.Version, crm.CustomerPatch{Phones: &moved}); err != nil {
			t.Fatal(err)
		}
		if count(numbers[0]) != 0 || count("+31612340009") != 1 {
			t.Errorf("after the change of number: old %d, new %d; want 0 and 1", count(numbers[0]), count("+31612340009"))
		}
		if err := c.Customers.Delete(octx, ids[1]); err != nil {
			t.Fatal(err)
		}
		left, err := db.bun.NewSelect().Table("customer_phones").Where("org_id = 'ph'").Count(ctx)
		if err != nil || left != 1 {
			t.Errorf("after the delete %d phone rows are left (%v), want 1", left, err)
		}
	})
}

// TestHistoryChangesTextMigration: events written while PostgreSQL kept
// the changes as jsonb read back the same after migration 20261130000080
// stores them as text, and events written after it are stored as the
// store wrote them; on SQLite, where the column was always text, the same
// holds.
func TestHistoryChangesTextMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, "20261130000080")
		now := time.Now().UTC().Truncate(time.Microsecond)
		if _, err := db.bun.NewRaw("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('tx', 'Tx', 'nl', ?, ?)", now, now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		customer := uuid.NewString()
		event := func(i int, changes []crm.FieldChange) crm.HistoryEvent {
			return crm.HistoryEvent{ID: uuid.NewString(), OrgID: "tx", CustomerID: customer, Kind: crm.EventCustomerUpdated,
				Actor: crm.Actor{Kind: crm.ActorStaff, ID: "s"}, At: now.Add(time.Duration(i) * time.Second), Changes: changes}
		}
		before := []crm.FieldChange{{Field: "firstName", New: "Zoë"}, {Field: "address.city", New: "Köln"},
			{Field: "phones", New: []any{map[string]any{"kind": "mobile", "number": "+31612345678"}}}, {Field: "customFields.size", New: 42.5}}
		if err := db.HistoryAppend(ctx, event(0, before)); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		after := []crm.FieldChange{{Field: "lastName", Old: "Berg", New: "Bakker"}, {Field: "noPost", New: true}}
		if err := db.HistoryAppend(ctx, event(1, after)); err != nil {
			t.Fatal(err)
		}
		events, err := db.HistoryList(ctx, crm.HistoryListParams{OrgID: "tx", CustomerID: customer, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || !reflect.DeepEqual(events[1].Changes, before) || !reflect.DeepEqual(events[0].Changes, after) {
			t.Fatalf("events read back as %+v, want %+v then %+v", events, before, after)
		}
		var stored string
		if err := db.bun.NewSelect().Table("history_events").Column("changes").Where("org_id = 'tx'").
			OrderExpr("at DESC").Limit(1).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if want, _ := historyChanges(after).Value(); stored != want {
			t.Errorf("a new event is stored as %s, want the store's JSON %s", stored, want)
		}
		if db.dialect.name == postgresDialect.name {
			var typ string
			if err := db.bun.NewRaw("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'history_events' AND column_name = 'changes'").
				Scan(ctx, &typ); err != nil {
				t.Fatal(err)
			}
			if typ != "text" {
				t.Errorf("history_events.changes is %s, want text", typ)
			}
		}
	})
}

// awkwardTexts are values that the array paths (pgInsertArrays) must
// quote: quotes, backslashes, braces and commas, the text NULL, non-Latin
// text and the empty string.
var awkwardTexts = []string{`say "hi"`, `back\slash`, `{braces},commas`, `NULL`, `Zoë Łukasiewicz 東京`, ``, `\"`}

// migratedWithOrganisation migrates db and stores the organisation id
// (Dutch); it returns the time it was stored at, to the microsecond.
func migratedWithOrganisation(t *testing.T, db *DB, id string) time.Time {
	t.Helper()
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := db.bun.NewRaw("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES (?, ?, 'nl', ?, ?)",
		id, id, now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return now
}

// TestHistoryAppendMany: a call with enough events to go as arrays on
// PostgreSQL (pgHistoryInsert) stores each as the few-event path does, on
// both databases: quotes, backslashes, braces, commas, non-Latin text,
// events without changes, and times to the microsecond.
func TestHistoryAppendMany(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := migratedWithOrganisation(t, db, "hm")
		customer := uuid.NewString()
		var events []crm.HistoryEvent
		for i := range pgArraysMin + 6 {
			e := crm.HistoryEvent{ID: uuid.NewString(), OrgID: "hm", CustomerID: customer, Kind: crm.EventCustomerUpdated,
				Actor: crm.Actor{Kind: crm.ActorStaff, ID: awkwardTexts[i%len(awkwardTexts)]}, At: now.Add(time.Duration(i)*time.Microsecond + 999*time.Nanosecond).Truncate(time.Microsecond)}
			if i%5 != 0 {
				e.Changes = []crm.FieldChange{{Field: "remarks", Old: awkwardTexts[(i+1)%len(awkwardTexts)], New: awkwardTexts[i%len(awkwardTexts)]}, {Field: "noPost", New: i%2 == 0}}
			}
			events = append(events, e)
		}
		if err := db.InTx(ctx, func(tx crm.Store) error { return tx.HistoryAppend(ctx, events...) }); err != nil {
			t.Fatal(err)
		}
		got, err := db.HistoryList(ctx, crm.HistoryListParams{OrgID: "hm", CustomerID: customer, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(events) {
			t.Fatalf("%d events read back, want %d", len(got), len(events))
		}
		for i, e := range got { // newest first
			want := events[len(events)-1-i]
			if e.ID != want.ID || e.Actor != want.Actor || !e.At.Equal(want.At) || !reflect.DeepEqual(e.Changes, want.Changes) {
				t.Errorf("event %d reads back as %+v, want %+v", len(events)-1-i, e, want)
			}
		}
	})
}

// TestCustomerInsertManyArrays: an import batch's customers written as
// arrays on PostgreSQL (pgCustomerInserts, from pgArraysMin rows in a
// transaction) read back as they were given and as the same customers
// written the other way do, with the same search, name-key and phone
// rows; values with quotes, backslashes, braces, the text NULL, JSON and
// bytes. On SQLite both ways are the one statement of each table.
func TestCustomerInsertManyArrays(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := migratedWithOrganisation(t, db, "ca")
		day := crm.Date{Year: 1980, Month: 2, Day: 29}
		batch := func(first int64) []*crm.Customer {
			var cs []*crm.Customer
			for i := range pgArraysMin + 6 {
				a := awkwardTexts[i%len(awkwardTexts)]
				c := &crm.Customer{ID: uuid.NewString(), OrgID: "ca", Number: first + int64(i), Version: 1,
					CreatedAt: now, UpdatedAt: now.Add(time.Microsecond), LastActivityAt: now.Add(time.Duration(i) * time.Second),
					CustomerFields: crm.CustomerFields{FirstName: a, LastName: "Last" + a, Company: a,
						Address: crm.Address{Street: a, City: "Utrecht", Country: "NL"}, Status: crm.StatusCustomer,
						Language: "nl", Remarks: a + "\nline", NoPost: i%2 == 0, NoMailings: i%3 == 0}}
				if i%2 == 0 {
					c.Phones = []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+316%08d", first+int64(i))}}
					c.Email = fmt.Sprintf("c%d@example.org", first+int64(i))
					c.BirthDate = &day
					c.CustomFields = map[string]any{"note": a, "size": float64(i), "tags": []any{"x", a}}
				}
				if i%3 == 0 {
					c.AltEmails = []string{fmt.Sprintf("alt%d@example.org", first+int64(i))}
					c.FirstContact = &day
				}
				c.SortKey = crm.SortKey("nl", &c.CustomerFields)
				cs = append(cs, c)
			}
			return cs
		}
		arrays, values := batch(1), batch(1001)
		if err := db.InTx(ctx, func(tx crm.Store) error { return tx.CustomerInsertMany(ctx, arrays) }); err != nil {
			t.Fatal(err)
		}
		if err := db.CustomerInsertMany(ctx, values); err != nil { // outside a transaction: never as arrays
			t.Fatal(err)
		}
		rowsOf := func(number int64) string {
			t.Helper()
			var search, names, phones []string
			for _, q := range []struct {
				table, col string
				into       *[]string
			}{{"customer_search", "text", &search}, {"customer_name_keys", "key", &names}, {"customer_phones", "substr(number, 1, 4)", &phones}} {
				where := "number"
				if q.table == "customer_phones" {
					where = "customer_number"
				}
				if err := db.bun.NewSelect().TableExpr(q.table).ColumnExpr(q.col).Where("org_id = 'ca'").Where(where+" = ?", number).
					OrderExpr("1").Scan(ctx, q.into); err != nil {
					t.Fatal(err)
				}
			}
			return fmt.Sprint(search, names, phones)
		}
		for i := range arrays {
			for _, want := range []*crm.Customer{arrays[i], values[i]} {
				got, err := db.CustomerGet(ctx, crm.CustomerGetParams{OrgID: "ca", ID: want.ID})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.CustomerFields, want.CustomerFields) || got.Number != want.Number || got.Version != 1 ||
					!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.LastActivityAt.Equal(want.LastActivityAt) ||
					!bytes.Equal(got.SortKey, want.SortKey) || got.AnonymisedAt != nil {
					t.Errorf("customer %d reads back as\n%+v\nwant\n%+v", want.Number, got, want)
				}
			}
			if a, v := rowsOf(arrays[i].Number), rowsOf(values[i].Number); a != v {
				t.Errorf("customer %d's index rows %s, the same customer written otherwise %s", arrays[i].Number, a, v)
			}
		}
	})
}
