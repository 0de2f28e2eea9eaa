package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/dossiercrm/dossier/crm"
)

type sourceIDRow struct {
	bun.BaseModel `bun:"table:customer_source_ids"`

	OrgID      string    `bun:"org_id,pk"`
	Source     string    `bun:"source,pk"`
	SourceID   string    `bun:"source_id,pk"`
	CustomerID string    `bun:"customer_id"`
	At         time.Time `bun:"at"`
}

type fieldOriginRow struct {
	bun.BaseModel `bun:"table:customer_field_origins"`

	OrgID      string    `bun:"org_id,pk"`
	CustomerID string    `bun:"customer_id,pk"`
	Field      string    `bun:"field,pk"`
	Kind       string    `bun:"kind"`
	Source     string    `bun:"source"`
	At         time.Time `bun:"at"`
	// Fields is set on the row of field createdOriginsField only: the
	// comma list of the fields it gives the origin of.
	Fields string `bun:"fields,nullzero"`
}

// createdOriginsField is the field of the one row that records, for a
// customer made by an import or an interaction, the origin of every field
// it was created with (the row's Fields lists them): one row instead of
// one per field. A per-field row, written by every later change, takes
// precedence over it; readers see the same list either way.
const createdOriginsField = "*"

// fieldOrigins expands rows of one customer into its origins by field,
// sorted by field: a per-field row wins over the creation row.
func fieldOrigins(rows []fieldOriginRow) []crm.FieldOrigin {
	out := make([]crm.FieldOrigin, 0, len(rows))
	var created *fieldOriginRow
	own := make(map[string]bool, len(rows))
	for i, r := range rows {
		if r.Field == createdOriginsField {
			created = &rows[i]
			continue
		}
		own[r.Field] = true
		out = append(out, crm.FieldOrigin{Field: r.Field, Kind: crm.OriginKind(r.Kind), Source: r.Source, At: utc(r.At)})
	}
	if created != nil && created.Fields != "" {
		for _, f := range strings.Split(created.Fields, ",") {
			if !own[f] {
				out = append(out, crm.FieldOrigin{Field: f, Kind: crm.OriginKind(created.Kind), Source: created.Source, At: utc(created.At)})
			}
		}
		slices.SortFunc(out, func(a, b crm.FieldOrigin) int { return strings.Compare(a.Field, b.Field) })
	}
	return out
}

// createdOriginRows turns the origins of new customers' fields into rows:
// a customer whose fields all came from one kind, source and moment (what
// a creation records) gets one row of createdOriginsField, any other the
// rows of its fields. Origins of one customer are consecutive.
func createdOriginRows(orgID string, origins []crm.CustomerFieldOrigin) []fieldOriginRow {
	rows := make([]fieldOriginRow, 0, len(origins))
	for i := 0; i < len(origins); {
		j, same := i+1, true
		for ; j < len(origins) && origins[j].CustomerID == origins[i].CustomerID; j++ {
			o, p := origins[j], origins[i]
			same = same && o.Kind == p.Kind && o.Source == p.Source && o.At.Equal(p.At)
		}
		group := origins[i:j]
		if !same || len(group) < 2 || slices.ContainsFunc(group, func(o crm.CustomerFieldOrigin) bool {
			return o.Field == createdOriginsField || strings.Contains(o.Field, ",")
		}) {
			for _, o := range group {
				rows = append(rows, fieldOriginRow{OrgID: orgID, CustomerID: o.CustomerID, Field: o.Field, Kind: string(o.Kind), Source: o.Source, At: o.At})
			}
		} else {
			fields := make([]string, len(group))
			for k, o := range group {
				fields[k] = o.Field
			}
			slices.Sort(fields)
			fields = slices.Compact(fields)
			o := group[0]
			rows = append(rows, fieldOriginRow{OrgID: orgID, CustomerID: o.CustomerID, Field: createdOriginsField,
				Kind: string(o.Kind), Source: o.Source, At: o.At, Fields: strings.Join(fields, ",")})
		}
		i = j
	}
	return rows
}

type matchConflictRow struct {
	bun.BaseModel `bun:"table:match_conflicts"`

	OrgID           string    `bun:"org_id,pk"`
	ID              string    `bun:"id,pk"`
	CustomerID      string    `bun:"customer_id"`
	OtherCustomerID string    `bun:"other_customer_id"`
	By              string    `bun:"by_key"`
	Value           string    `bun:"value"`
	InteractionID   string    `bun:"interaction_id,nullzero"`
	At              time.Time `bun:"at"`
}

// pgMatchLock takes a transaction-level advisory lock per name, in the
// order given (sorted by crm), so that two transactions never wait for
// each other in a circle. The organisation is part of each lock's name.
// The call is a deferred statement: it goes in front of the match's
// query, in the same message, and PostgreSQL runs it first (the query
// then takes its snapshot after the locks are held). The procedure
// (migration 20261130000040) answers with no rows, which a held
// statement must not.
func pgMatchLock(ctx context.Context, db bun.IDB, names []string) error {
	_, err := db.ExecContext(ctx, deferredMarker+"CALL match_lock(?)", pgdialect.Array(names))
	return interpretError(err)
}

// MatchLock implements crm.MatchStore.
func (s *DB) MatchLock(ctx context.Context, orgID string, keys crm.MatchKeys) error {
	if s.dialect.matchLock == nil {
		return nil
	}
	names := crm.MatchLockNames(orgID, keys)
	if _, inTx := s.db.(bun.Tx); !inTx || len(names) == 0 {
		return nil // outside a transaction a lock would end at once
	}
	return s.dialect.matchLock(ctx, s.db, names)
}

// matchCandidatesPerKey bounds the customers one key may bring: an e-mail
// address shared by a whole family is a conflict, not a list to read.
const matchCandidatesPerKey = 5

// MatchCandidates implements crm.MatchStore.
func (s *DB) MatchCandidates(ctx context.Context, orgID string, keys crm.MatchKeys) ([]crm.MatchCandidate, error) {
	var parts []*bun.SelectQuery
	if keys.Source != "" && keys.SourceID != "" {
		parts = append(parts, s.db.NewSelect().TableExpr("customer_source_ids").
			ColumnExpr("customer_id, ? AS by_key, source_id AS value", string(crm.MatchSourceID)).
			Where("org_id = ?", orgID).Where("source = ?", keys.Source).Where("source_id = ?", keys.SourceID))
	}
	for _, e := range keys.EmailKeys {
		parts = append(parts,
			s.db.NewSelect().TableExpr("customers").ColumnExpr("id AS customer_id, ? AS by_key, login_email_key AS value", string(crm.MatchLoginEmail)).
				Where("org_id = ?", orgID).Where("login_email_key = ?", e),
			s.db.NewSelect().TableExpr("customers").ColumnExpr("id AS customer_id, ? AS by_key, email_key AS value", string(crm.MatchEmail)).
				Where("org_id = ?", orgID).Where("email_key = ?", e).Limit(matchCandidatesPerKey),
			s.db.NewSelect().TableExpr("customer_emails").ColumnExpr("customer_id, ? AS by_key, email_key AS value", string(crm.MatchEmail)).
				Where("org_id = ?", orgID).Where("email_key = ?", e).Limit(matchCandidatesPerKey))
	}
	for _, p := range keys.Phones {
		parts = append(parts, s.db.NewSelect().TableExpr("customer_phones AS ph").
			Join("JOIN customers AS pc ON pc.org_id = ph.org_id AND pc.number = ph.customer_number").
			ColumnExpr("pc.id AS customer_id, ? AS by_key, ph.number AS value", string(crm.MatchPhone)).
			Where("ph.org_id = ?", orgID).Where("ph.number = ?", p).Limit(matchCandidatesPerKey))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	// One statement: each part is a subquery (SQLite takes no LIMIT on a
	// bare member of a UNION), each read through its own index.
	q := s.db.NewSelect().TableExpr("(?) AS p0", parts[0]).ColumnExpr("customer_id, by_key, value")
	for i, part := range parts[1:] {
		q = q.UnionAll(s.db.NewSelect().TableExpr("(?) AS p"+strconv.Itoa(i+1), part).ColumnExpr("customer_id, by_key, value"))
	}
	var rows []struct {
		CustomerID string `bun:"customer_id"`
		By         string `bun:"by_key"`
		Value      string `bun:"value"`
	}
	if err := q.Comment(preparedComment).Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.MatchCandidate, len(rows))
	for i, r := range rows {
		out[i] = crm.MatchCandidate{CustomerID: r.CustomerID, By: crm.MatchBy(r.By), Value: r.Value}
	}
	return out, nil
}

// SourceIDSet implements crm.MatchStore.
func (s *DB) SourceIDSet(ctx context.Context, orgID string, link crm.SourceID) error {
	row := sourceIDRow{OrgID: orgID, Source: link.Source, SourceID: link.SourceID, CustomerID: link.CustomerID, At: link.At}
	_, err := s.db.NewInsert().Model(&row).
		On("CONFLICT (org_id, source, source_id) DO UPDATE").
		Set("customer_id = EXCLUDED.customer_id").Set("at = EXCLUDED.at").Exec(ctx)
	return interpretError(err)
}

// SourceIDList implements crm.MatchStore.
func (s *DB) SourceIDList(ctx context.Context, orgID, customerID string) ([]crm.SourceID, error) {
	var rows []sourceIDRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("source, source_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.SourceID, len(rows))
	for i, r := range rows {
		out[i] = crm.SourceID{OrgID: r.OrgID, Source: r.Source, SourceID: r.SourceID, CustomerID: r.CustomerID, At: utc(r.At)}
	}
	return out, nil
}

// MatchConflictInsert implements crm.MatchStore; a conflict already
// recorded (same customers, key and value) is not recorded twice.
func (s *DB) MatchConflictInsert(ctx context.Context, conflicts ...crm.MatchConflict) error {
	if len(conflicts) == 0 {
		return nil
	}
	rows := make([]matchConflictRow, len(conflicts))
	for i, c := range conflicts {
		rows[i] = matchConflictRow{OrgID: c.OrgID, ID: c.ID, CustomerID: c.CustomerID, OtherCustomerID: c.OtherCustomerID,
			By: string(c.By), Value: c.Value, InteractionID: c.InteractionID, At: c.At}
	}
	_, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (org_id, customer_id, other_customer_id, by_key, value) DO NOTHING").Exec(ctx)
	return interpretError(err)
}

// MatchConflictList implements crm.MatchStore.
func (s *DB) MatchConflictList(ctx context.Context, orgID, customerID string) ([]crm.MatchConflict, error) {
	var rows []matchConflictRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("customer_id = ?", customerID).WhereOr("other_customer_id = ?", customerID)
		}).OrderExpr("at, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.MatchConflict, len(rows))
	for i, r := range rows {
		out[i] = crm.MatchConflict{ID: r.ID, OrgID: r.OrgID, CustomerID: r.CustomerID, OtherCustomerID: r.OtherCustomerID,
			By: crm.MatchBy(r.By), Value: r.Value, InteractionID: r.InteractionID, At: utc(r.At)}
	}
	return out, nil
}

// FieldOriginList implements crm.FieldOriginStore.
func (s *DB) FieldOriginList(ctx context.Context, orgID, customerID string) ([]crm.FieldOrigin, error) {
	var rows []fieldOriginRow
	if err := s.db.NewSelect().Comment(preparedComment).Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("field").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return fieldOrigins(rows), nil
}

// FieldOriginSet implements crm.FieldOriginStore.
func (s *DB) FieldOriginSet(ctx context.Context, orgID, customerID string, origins []crm.FieldOrigin) error {
	if len(origins) == 0 {
		return nil
	}
	rows := make([]fieldOriginRow, len(origins))
	for i, o := range origins {
		rows[i] = fieldOriginRow{OrgID: orgID, CustomerID: customerID, Field: o.Field, Kind: string(o.Kind), Source: o.Source, At: o.At}
	}
	_, err := s.db.NewInsert().Comment(s.heldWriteComment()).Model(&rows).
		On("CONFLICT (org_id, customer_id, field) DO UPDATE").
		Set("kind = EXCLUDED.kind").Set("source = EXCLUDED.source").Set("at = EXCLUDED.at").Returning("NULL").Exec(ctx)
	return interpretError(err)
}

// MatchPresent implements crm.MatchStore: one statement of up to five
// index searches, each a list on its own index. On PostgreSQL a list is
// one array parameter (= ANY): an import's batch asks for a thousand keys
// at a time, and a thousand-item IN list costs the planner twice as much.
func (s *DB) MatchPresent(ctx context.Context, orgID string, p crm.MatchProbe) (crm.MatchProbe, error) {
	pg := s.dialect.name == postgresDialect.name
	var parts []*bun.SelectQuery
	part := func(table, col, kind, typ string, vals any) *bun.SelectQuery {
		q := s.db.NewSelect().TableExpr(table).ColumnExpr("? AS kind, CAST("+col+" AS TEXT) AS value", kind).
			Where("org_id = ?", orgID)
		if pg {
			return q.Where(col+" = ANY(?::"+typ+"[])", pgdialect.Array(vals))
		}
		return q.Where(col+" IN (?)", bun.List(vals))
	}
	if len(p.IDs) > 0 {
		parts = append(parts, part("customers", "id", "i", "uuid", p.IDs))
	}
	if len(p.Numbers) > 0 {
		parts = append(parts, part("customers", "number", "n", "bigint", p.Numbers))
	}
	if len(p.EmailKeys) > 0 {
		parts = append(parts, part("customers", "login_email_key", "e", "text", p.EmailKeys),
			part("customers", "email_key", "e", "text", p.EmailKeys),
			part("customer_emails", "email_key", "e", "text", p.EmailKeys))
	}
	if len(p.Phones) > 0 {
		parts = append(parts, part("customer_phones", "number", "p", "text", p.Phones))
	}
	var out crm.MatchProbe
	if len(parts) == 0 {
		return out, nil
	}
	q := s.db.NewSelect().TableExpr("(?) AS p0", parts[0]).ColumnExpr("kind, value")
	for i, part := range parts[1:] {
		q = q.Union(s.db.NewSelect().TableExpr("(?) AS p"+strconv.Itoa(i+1), part).ColumnExpr("kind, value"))
	}
	var rows []struct {
		Kind  string `bun:"kind"`
		Value string `bun:"value"`
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return out, interpretError(err)
	}
	for _, r := range rows {
		switch r.Kind {
		case "i":
			out.IDs = append(out.IDs, r.Value)
		case "n":
			n, err := strconv.ParseInt(r.Value, 10, 64)
			if err != nil {
				return out, err
			}
			out.Numbers = append(out.Numbers, n)
		case "e":
			out.EmailKeys = append(out.EmailKeys, r.Value)
		case "p":
			out.Phones = append(out.Phones, r.Value)
		}
	}
	return out, nil
}
