package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// The round trip of BenchmarkFiles (issue 18: "export a million customers
// and import them into an empty organisation; counts, custom fields, tags
// and attributes equal"): the exported customers carry custom fields,
// tags and attributes, and after the import the two organisations are
// compared.

// filesRoundTripColumns are the custom field columns BenchmarkFiles exports
// besides its thirteen.
var filesRoundTripColumns = []string{"custom.diet", "custom.visits", "custom.member"}

// seedFilesExtras gives the customers of organisation src, inserted raw,
// custom fields (every third), a tag (every fourth), a second tag (every
// eighth) and an attribute (every fifth), with SQL, outside the timed
// parts; both organisations get the custom field definitions.
func seedFilesExtras(ctx context.Context, b *testing.B, st *DB, c *crm.CRM) {
	for _, org := range []string{"src", "dst"} {
		staff := vouched(ctx, org, "bench")
		for _, d := range []crm.NewCustomField{{Key: "diet", Label: "Dieet", Type: crm.FieldText}, {Key: "visits", Label: "Bezoeken", Type: crm.FieldNumber},
			{Key: "member", Label: "Lid", Type: crm.FieldBool}} {
			if _, err := c.CustomFields.Define(staff, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	src := vouched(ctx, "src", "bench")
	attr, err := c.Attributes.Define(src, crm.NewQualifier{Name: "Golf"})
	if err != nil {
		b.Fatal(err)
	}
	tags, err := c.Tags.List(src)
	if err != nil || len(tags) < 2 {
		b.Fatalf("tags %v, %v", tags, err)
	}
	cast := ""
	if st.dialect.name == postgresDialect.name {
		cast = "::jsonb"
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE customers SET custom_fields = ('{"diet":"vegan, \"strict\"","visits":' || (number % 50) || '.5,"member":true}')` + cast +
			` WHERE org_id = 'src' AND number % 3 = 0`, nil},
		{`INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
			SELECT org_id, id, number, ?, 'tag', 1, ?, 'staff:bench' FROM customers WHERE org_id = 'src' AND number % 4 = 0`, []any{tags[0].ID, now}},
		{`INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
			SELECT org_id, id, number, ?, 'tag', 2, ?, 'staff:bench' FROM customers WHERE org_id = 'src' AND number % 8 = 0`, []any{tags[len(tags)-1].ID, now}},
		{`INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
			SELECT org_id, id, number, ?, 'attribute', 0, ?, 'staff:bench' FROM customers WHERE org_id = 'src' AND number % 5 = 0`, []any{attr.ID, now}},
	} {
		if _, err := st.bun.ExecContext(ctx, step.sql, step.args...); err != nil {
			b.Fatalf("seed extras: %v", err)
		}
	}
}

// verifyFilesRoundTrip fails b unless organisations src and dst hold as
// many customers, with the same custom field values, tags and attributes
// (by name), customer by customer (matched by e-mail address). It reads
// both in e-mail order and compares digests, so its memory stays the same
// for any number of customers.
func verifyFilesRoundTrip(ctx context.Context, b *testing.B, st *DB, n int) {
	type digest struct {
		customers, links int
		fields, names    []byte
	}
	read := func(org string) digest {
		var d digest
		h := sha256.New()
		err := scanRoundTrip(ctx, st, "SELECT email_key, custom_fields FROM customers WHERE org_id = ? ORDER BY email_key", []any{org},
			func(r *sql.Rows) error {
				var key string
				var raw []byte
				if err := r.Scan(&key, &raw); err != nil {
					return err
				}
				// Decoded and encoded again: the keys in one order.
				var m map[string]any
				if len(raw) > 0 {
					if err := json.Unmarshal(raw, &m); err != nil {
						return err
					}
				}
				enc, _ := json.Marshal(m)
				if bytes.Equal(enc, []byte("null")) || bytes.Equal(enc, []byte("{}")) {
					enc = nil
				}
				d.customers++
				fmt.Fprintf(h, "%s\x00%s\n", key, enc)
				return nil
			})
		if err != nil {
			b.Fatalf("read %s: %v", org, err)
		}
		d.fields = h.Sum(nil)
		d.names, d.links = hashLinks(ctx, b, st, org)
		return d
	}
	src, dst := read("src"), read("dst")
	if src.customers != n || dst.customers != n || !bytes.Equal(src.fields, dst.fields) || src.links != dst.links || !bytes.Equal(src.names, dst.names) {
		b.Fatalf("round trip differs: src %d customers, %d links; dst %d customers, %d links; custom fields equal %v, tags and attributes equal %v",
			src.customers, src.links, dst.customers, dst.links, bytes.Equal(src.fields, dst.fields), bytes.Equal(src.names, dst.names))
	}
	b.Logf("round trip: %d customers, %d tag and attribute links, custom fields, tags and attributes equal", n, src.links)
}

// hashLinks digests the tag and attribute names of org's customers by
// e-mail address.
func hashLinks(ctx context.Context, b *testing.B, st *DB, org string) ([]byte, int) {
	var h hash.Hash = sha256.New()
	links := 0
	err := scanRoundTrip(ctx, st, `SELECT c.email_key, q.kind, q.name FROM customer_qualifiers cq
		JOIN customers c ON c.org_id = cq.org_id AND c.id = cq.customer_id
		JOIN qualifiers q ON q.org_id = cq.org_id AND q.id = cq.qualifier_id
		WHERE cq.org_id = ? ORDER BY c.email_key, q.kind, q.name`, []any{org}, func(r *sql.Rows) error {
		var key, kind, name string
		if err := r.Scan(&key, &kind, &name); err != nil {
			return err
		}
		links++
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", key, kind, name)
		return nil
	})
	if err != nil {
		b.Fatalf("read links of %s: %v", org, err)
	}
	return h.Sum(nil), links
}

// scanRoundTrip runs query and calls row for each of its rows.
func scanRoundTrip(ctx context.Context, st *DB, query string, args []any, row func(*sql.Rows) error) error {
	r, err := st.bun.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := row(r); err != nil {
			return err
		}
	}
	return r.Err()
}
