package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/internal/legacysortkey"
)

// rawSortKey is a customer's sort key as it was stored before migration
// 20261130000100 (crm.SortKey's parts: last, first and middle name).
func rawSortKey(f *crm.CustomerFields) []byte {
	var parts []string
	for _, p := range []string{f.LastName, f.FirstName, f.MiddleName} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return legacysortkey.Parts("de", parts...)
}

// TestCompactSortKeysMigration: customers stored with the raw sort keys
// have the compact keys of crm.SortKey after migration 20261130000100,
// which take fewer bytes, and a list in name order, read in pages, gives
// the same order as before, on both databases; more customers than one
// batch of the rebuild.
func TestCompactSortKeysMigration(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		migrateBefore(t, db, compactSortKeysVersion)
		now := time.Now().UTC()
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.bun.NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		exec("INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('sk', 'Sk', 'de', ?, ?)", now, now)
		const n = rebuildBatch + 7
		lasts := []string{"Müller", "Muller", "MÜLLER", "Mull", "Öztürk", "Oberg", "de Vries", "Łukasiewicz", "Zoë", "van den Berg"}
		firsts := []string{"Anna", "Zoë", "Émile", "bert", "Ørjan", "Ida"}
		fields := make([]crm.CustomerFields, n)
		var rawBytes int
		for i := range n {
			f := crm.CustomerFields{LastName: lasts[i%len(lasts)], FirstName: firsts[(i/len(lasts))%len(firsts)]}
			if i%11 == 0 {
				f.MiddleName = "von"
			}
			fields[i] = f
			raw := rawSortKey(&f)
			rawBytes += len(raw)
			exec(`INSERT INTO customers (id, org_id, number, first_name, middle_name, last_name, status, language, created_at, updated_at, last_activity_at, version, sort_key)
				VALUES (?, 'sk', ?, ?, ?, ?, 'customer', 'de', ?, ?, ?, 1, ?)`, uuid.NewString(), i+1, f.FirstName, f.MiddleName, f.LastName, now, now, now, raw)
			exec("INSERT INTO customer_search (org_id, number, text) VALUES ('sk', ?, ?)", i+1, crm.SearchText(&f))
			for _, k := range crm.NameKeys(&f) {
				exec("INSERT INTO customer_name_keys (org_id, key, number) VALUES ('sk', ?, ?)", k, i+1)
			}
		}
		exec("UPDATE organisations SET next_customer_number = ? WHERE id = 'sk'", n)
		// The order of the raw keys, by number after equal keys.
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int {
			return bytes.Compare(rawSortKey(&fields[a]), rawSortKey(&fields[b]))
		})
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}

		var stored []struct {
			Number  int64  `bun:"number"`
			SortKey []byte `bun:"sort_key"`
		}
		if err := db.bun.NewSelect().Table("customers").Column("number", "sort_key").Where("org_id = 'sk'").OrderExpr("number").Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		var compactBytes int
		for _, s := range stored {
			f := fields[s.Number-1]
			if key := crm.SortKey("de", &f); !bytes.Equal(s.SortKey, key) {
				t.Fatalf("customer %d: sort key %x after the migration, want %x", s.Number, s.SortKey, key)
			}
			compactBytes += len(s.SortKey)
		}
		if compactBytes*4 > rawBytes*3 {
			t.Errorf("sort keys take %d bytes after the migration, %d before", compactBytes, rawBytes)
		}

		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		octx := vouched(ctx, "sk", "s")
		var got []int
		page := crm.PageRequest{Limit: 97}
		for {
			p, err := c.Customers.List(octx, crm.CustomerFilter{Sort: crm.SortName}, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, cu := range p.Items {
				got = append(got, int(cu.Number-1))
			}
			if p.Next == "" {
				break
			}
			page.Cursor = p.Next
		}
		if !slices.Equal(got, want) {
			name := func(i int) string {
				return fmt.Sprintf("%s %s %s", fields[i].LastName, fields[i].FirstName, fields[i].MiddleName)
			}
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("name order differs at %d of %d: %q, want %q", i, len(want), name(got[i]), name(want[i]))
				}
			}
			t.Fatalf("%d customers listed, want %d", len(got), len(want))
		}
	})
}
