package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// HistoryAppend implements crm.HistoryStore.
func (s *DB) HistoryAppend(ctx context.Context, events ...crm.HistoryEvent) error {
	if len(events) == 0 {
		return nil
	}
	pipelined := s.batch != nil && s.batch.pipelined
	if s.dialect.name == sqliteDialect.name && !pipelined {
		return s.sqliteHistoryInsert(ctx, events)
	}
	if tx, ok := s.bulkArraysTx(len(events)); ok {
		return pgHistoryInsert(ctx, tx, events)
	}
	rows := make([]historyRow, len(events))
	for i := range events {
		rows[i] = historyToRow(&events[i])
	}
	if pipelined {
		// Sent with the call's next statement (groupbatch.go), whose
		// answer the batch reads: not a deferred statement of its own.
		q := s.db.NewInsert().Comment(preparedComment).Model(&rows)
		b, err := q.AppendQuery(s.bun.QueryGen(), s.batch.writes)
		if err != nil {
			return err
		}
		s.batch.writes = append(b, ";\n"...)
		return nil
	}
	_, err := s.db.NewInsert().Comment(s.heldWriteComment()).Model(&rows).Exec(ctx)
	return interpretError(err)
}

// historyInsertColumns are the history_events columns in the order of
// historyRow's fields, which historyArgs follows.
const historyInsertColumns = `"id", "org_id", "customer_id", "kind", "actor_kind", "actor_id", "at", "changes"`

// historyArgs appends the values of r in historyInsertColumns order, as
// bun writes them for SQLite (see sqliteinsert.go).
func historyArgs(args []any, r *historyRow) ([]any, error) {
	changes, err := r.Changes.Value()
	if err != nil {
		return nil, err
	}
	return append(args, r.ID, r.OrgID, r.CustomerID, r.Kind, r.ActorKind, r.ActorID, sqliteTime(r.At), changes), nil
}

// sqliteHistoryInsert inserts events on SQLite with arguments, in one
// statement unless there are more than SQLite's limit on arguments
// allows: every write of a customer appends its event, and a batch of
// bookings a hundred.
func (s *DB) sqliteHistoryInsert(ctx context.Context, events []crm.HistoryEvent) error {
	args := make([]any, 0, len(events)*historyInsertWidth)
	for i := range events {
		r := historyToRow(&events[i])
		var err error
		if args, err = historyArgs(args, &r); err != nil {
			return err
		}
	}
	return s.sqliteInsertRows(ctx, "history_events", historyInsertColumns, historyInsertWidth, args)
}

// pgHistoryInsert inserts events on PostgreSQL as arrays (pgInsertArrays):
// an import batch's thousand creation events.
func pgHistoryInsert(ctx context.Context, tx bun.Tx, events []crm.HistoryEvent) error {
	return pgInsertArrays(ctx, tx, "history_events", historyArrayColumns, len(events), func(i int) ([]any, error) {
		r := historyToRow(&events[i])
		changes, err := r.Changes.Value() // a string, or nil for no changes
		return []any{r.ID, r.OrgID, r.CustomerID, r.Kind, r.ActorKind, r.ActorID, pgTime(r.At), changes}, err
	})
}

// historyArrayColumns are the history_events columns pgHistoryInsert fills.
var historyArrayColumns = []pgColumn{{"id", "uuid"}, {"org_id", "text"}, {"customer_id", "uuid"}, {"kind", "text"},
	{"actor_kind", "text"}, {"actor_id", "text"}, {"at", "timestamptz"}, {"changes", "text"}}

// historyInsertWidth is the number of columns in historyInsertColumns.
const historyInsertWidth = 8

// HistoryList implements crm.HistoryStore.
func (s *DB) HistoryList(ctx context.Context, p crm.HistoryListParams) ([]crm.HistoryEvent, error) {
	var rows []historyRow
	q := s.db.NewSelect().Model(&rows).
		Where("org_id = ?", p.OrgID).
		Where("customer_id = ?", p.CustomerID).
		OrderExpr("at DESC, id DESC").
		Limit(int64(p.Limit))
	if p.BeforeID != "" {
		q = q.Where("(at < ? OR (at = ? AND id < ?))", p.BeforeAt, p.BeforeAt, p.BeforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	events := make([]crm.HistoryEvent, len(rows))
	for i := range rows {
		events[i] = rows[i].toDomain()
	}
	return events, nil
}

// historyChanges is the changes column of a history event. It is stored
// as a flat JSON array that names its layout in its first element, instead
// of an array of {"field", "old", "new"} objects, which spent 17 bytes of
// names and braces on every field (a creation event lists every field set,
// about 20 for a customer with a name, an address, an e-mail and a phone):
//
//	[1, field, field, ...]              every change without values (a redacted event)
//	[2, field, new, field, new, ...]    no change with an old value (a creation event)
//	[3, field, old, new, ...]           any other
//
// A field is its name, or for the fields of a customer record a number
// (historyFieldCodes): a creation event names some fifteen of them, whose
// names took about 200 bytes of it. The values are the same JSON values as
// before, so a change reads back as it did. Events written before
// migration 20261129000011 are in the object layout, and events written
// before the numbers with every field by name; both are still read.
type historyChanges []crm.FieldChange

// historyFieldCodes are the numbers under which historyChanges stores the
// fields of a customer record: the field at index n is stored as n. Stored
// events hold these numbers, so the list only ever grows at its end; a
// field not in it is stored by name.
var historyFieldCodes = []string{
	"", // 0 is no field
	"firstName", "middleName", "lastName", "company",
	"address.street", "address.houseNumber", "address.postalCode", "address.city", "address.country",
	"phones", "birthDate", "passportExpiry", "status", "origin", "firstContact",
	"loginEmail", "email", "altEmails", "language", "internalDescription", "remarks",
	"noPost", "noMailings", "assignedTo", "tags", "attributes",
}

// historyFieldCode is the number historyChanges stores field as, by name.
var historyFieldCode = func() map[string]int {
	m := make(map[string]int, len(historyFieldCodes))
	for n, name := range historyFieldCodes[1:] {
		m[name] = n + 1
	}
	return m
}()

// storedField is how historyChanges stores a field: its number, or its name.
func storedField(field string) any {
	if n, ok := historyFieldCode[field]; ok {
		return n
	}
	return field
}

// readField reads a stored field: a number of historyFieldCodes, or a name.
func readField(raw json.RawMessage, field *string) error {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] >= '0' && t[0] <= '9' {
		var n int
		if err := json.Unmarshal(t, &n); err != nil || n < 1 || n >= len(historyFieldCodes) {
			return fmt.Errorf("unknown field number %s", t)
		}
		*field = historyFieldCodes[n]
		return nil
	}
	return json.Unmarshal(raw, field)
}

// Value implements driver.Valuer.
func (h historyChanges) Value() (driver.Value, error) {
	if h == nil {
		return nil, nil
	}
	layout := 1
	for _, c := range h {
		if c.Old != nil {
			layout = 3
			break
		}
		if c.New != nil {
			layout = 2
		}
	}
	flat := make([]any, 0, 1+layout*len(h))
	flat = append(flat, layout)
	for _, c := range h {
		field := storedField(c.Field)
		switch layout {
		case 1:
			flat = append(flat, field)
		case 2:
			flat = append(flat, field, c.New)
		default:
			flat = append(flat, field, c.Old, c.New)
		}
	}
	b, err := json.Marshal(flat)
	return string(b), err
}

// Scan implements sql.Scanner, for both layouts.
func (h *historyChanges) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*h = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("history changes: cannot read %T", src)
	}
	changes, err := decodeHistoryChanges(b)
	*h = changes
	return err
}

// decodeHistoryChanges reads either layout of the changes column.
func decodeHistoryChanges(b []byte) ([]crm.FieldChange, error) {
	var flat []json.RawMessage
	if err := json.Unmarshal(b, &flat); err != nil {
		return nil, fmt.Errorf("history changes: %w", err)
	}
	if flat == nil {
		return nil, nil // JSON null
	}
	if len(flat) == 0 || bytes.HasPrefix(bytes.TrimSpace(flat[0]), []byte("{")) {
		var changes []crm.FieldChange // the object layout
		if err := json.Unmarshal(b, &changes); err != nil {
			return nil, fmt.Errorf("history changes: %w", err)
		}
		return changes, nil
	}
	var layout int
	if err := json.Unmarshal(flat[0], &layout); err != nil || layout < 1 || layout > 3 || (len(flat)-1)%layout != 0 {
		return nil, fmt.Errorf("history changes: unknown layout %s", flat[0])
	}
	changes := make([]crm.FieldChange, (len(flat)-1)/layout)
	for i := range changes {
		vals := flat[1+i*layout : 1+(i+1)*layout]
		c := &changes[i]
		if err := readField(vals[0], &c.Field); err != nil {
			return nil, fmt.Errorf("history changes: %w", err)
		}
		var err error
		switch layout {
		case 2:
			err = json.Unmarshal(vals[1], &c.New)
		case 3:
			if err = json.Unmarshal(vals[1], &c.Old); err == nil {
				err = json.Unmarshal(vals[2], &c.New)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("history changes: %w", err)
		}
	}
	return changes, nil
}

// compactHistoryVersion is the migration that rewrites the changes of
// every history event written before historyChanges into its flat layout
// (about 300 bytes less per creation event).
const compactHistoryVersion = "20261129000011"

// compactHistory rewrites the events whose changes are in the object
// layout, batch events per transaction in primary key order: a large
// table is rewritten without one huge transaction, and a run that stops
// halfway is simply run again.
func compactHistory(ctx context.Context, db *bun.DB, dialectName string, batch int) error {
	// The changes column is jsonb on PostgreSQL when this runs in order,
	// text after migration 20261130000080: read and write it as either.
	objects := "substr(changes, 1, 2) = '[{'"
	setRow, id := "(?, ?)", "v.column1"
	if dialectName == postgresDialect.name {
		objects = "left(changes::text, 2) = '[{'"
		setRow, id = "(?, CAST(? AS jsonb))", "CAST(v.column1 AS uuid)"
	}
	var afterOrg, afterID string
	for {
		var rows []struct {
			OrgID   string         `bun:"org_id"`
			ID      string         `bun:"id"`
			Old     bool           `bun:"old"`
			Changes historyChanges `bun:"changes"`
		}
		q := db.NewSelect().Table("history_events").Column("org_id", "id").ColumnExpr("coalesce(" + objects + ", false) AS old").
			ColumnExpr("CASE WHEN " + objects + " THEN changes END AS changes").
			OrderExpr("org_id, id").Limit(int64(batch))
		if afterID != "" {
			q = q.Where("(org_id > ? OR (org_id = ? AND id > ?))", afterOrg, afterOrg, afterID)
		}
		err := q.Scan(ctx, &rows)
		if err != nil {
			return fmt.Errorf("compact history: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		afterOrg, afterID = rows[len(rows)-1].OrgID, rows[len(rows)-1].ID
		byOrg := map[string][]any{} // id, changes, id, changes, ...
		for _, r := range rows {
			if !r.Old {
				continue
			}
			v, err := r.Changes.Value()
			if err != nil {
				return fmt.Errorf("compact history: %w", err)
			}
			byOrg[r.OrgID] = append(byOrg[r.OrgID], r.ID, v)
		}
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for org, args := range byOrg {
				q := "UPDATE history_events SET changes = v.column2 FROM (VALUES " +
					strings.TrimSuffix(strings.Repeat(setRow+", ", len(args)/2), ", ") +
					") AS v WHERE history_events.org_id = ? AND history_events.id = " + id
				if _, err := tx.ExecContext(ctx, q, append(args, org)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("compact history: %w", err)
		}
	}
}
