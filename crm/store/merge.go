package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// mergeTables is the merge registry: every table with a customer reference
// (a column that holds a customer's id) and how a merge of a duplicate into
// a survivor handles its rows, run in this order in one transaction.
// TestMergeCoversEveryCustomerTable fails for a table with such a column
// that is not named here.
//
// To add a table: one line. Most tables need only moveRows (UPDATE ... SET
// column = survivor WHERE org_id = ? AND column = duplicate); a table whose
// key includes the customer and something else uses moveMissing with the
// other key columns (the survivor's row wins); a copy of the customer's
// number goes in number.
var mergeTables = []mergeTable{
	// The record's own indexes: rebuilt from the survivor's record when it
	// is updated at the end; the duplicate's are dropped with its record
	// (its name keys, phone rows and search row, which name no customer
	// id, by removeRecordIndexes).
	{table: "customer_emails", column: "customer_id", what: "e-mail index", move: dropRows},
	{table: "customer_qualifiers", column: "customer_id", what: "tags and attributes", move: moveQualifiers},
	{table: "customer_labels", column: "customer_id", what: "labels", move: moveMissing("label_id")},
	{table: "memberships", column: "holder_id", what: "memberships", move: moveRows},
	{table: "membership_shares", column: "customer_id", what: "shared memberships", move: moveShares},
	{table: "benefit_uses", column: "customer_id", what: "benefit uses", move: moveRows},
	{table: "history_events", column: "customer_id", what: "timeline events", move: moveRows},
	{table: "consent_records", column: "customer_id", what: "consent log", move: moveRows},
	{table: "customer_consents", column: "customer_id", what: "current consents", number: "number", move: moveConsents},
	{table: "consent_confirmations", column: "customer_id", what: "pending confirmations", move: moveRows},
	{table: "point_transactions", column: "customer_id", what: "points ledger", move: moveRows},
	{table: "point_lots", column: "customer_id", what: "points lots", move: moveRows},
	{table: "documents", column: "customer_id", what: "documents", move: moveRows},
	{table: "outbox", column: "customer_id", what: "mails", move: moveRows},
	{table: "bookings", column: "customer_id", what: "bookings", number: "customer_number", move: moveBookings},
	{table: "interactions", column: "customer_id", what: "interactions", move: moveRows},
	{table: "customer_field_origins", column: "customer_id", what: "field origins", move: moveOrigins},
	{table: "customer_source_ids", column: "customer_id", what: "platform ids", move: moveRows},
	{table: "match_conflicts", column: "customer_id", what: "match conflicts", move: moveConflicts("other_customer_id", "by_key", "value")},
	{table: "match_conflicts", column: "other_customer_id", what: "match conflicts", move: moveConflicts("customer_id", "by_key", "value")},
	{table: "customer_reviews", column: "customer_id", what: "latest review", move: moveReview},
	{table: "import_changes", column: "customer_id", what: "import changes", move: moveRows},
	{table: "notes", column: "customer_id", what: "notes", move: moveRows},
	{table: "tasks", column: "customer_id", what: "tasks", move: moveRows},
	{table: "inquiries", column: "customer_id", what: "inquiries", move: moveRows},
	{table: "inquiry_events", column: "customer_id", what: "inquiry history", move: moveRows},
	// Both customers with a portal account is refused before this runs
	// (two_portal_accounts); otherwise the one account moves.
	{table: "portal_accounts", column: "customer_id", what: "portal account", move: moveMissing()},
	{table: "itineraries", column: "customer_id", what: "itineraries", move: moveRows},
	{table: "contest_entries", column: "customer_id", what: "contest entries", move: moveMissing("contest_id")},
	{table: "brochure_requests", column: "customer_id", what: "brochure requests", move: moveRows},
	{table: "mailing_recipients", column: "customer_id", what: "mailings received", move: moveMissing("mailing_id")},
	{table: "customer_tombstones", column: "survivor_id", what: "merged customers", move: moveRows},
	// Duplicates: the place keys and candidate pairs are rebuilt by the
	// survivor's check (the merge enqueues it); a pair dismissed as not the
	// same person stays dismissed for the survivor.
	{table: "duplicate_keys", column: "customer_id", what: "duplicate check keys", move: dropRows},
	{table: "duplicate_candidates", column: "customer_id", what: "duplicate candidates", move: dropRows},
	{table: "duplicate_candidates", column: "other_customer_id", what: "duplicate candidates", move: dropRows},
	{table: "duplicate_dismissals", column: "customer_id", what: "dismissed duplicates", move: moveConflicts("other_customer_id")},
	{table: "duplicate_dismissals", column: "other_customer_id", what: "dismissed duplicates", move: moveConflicts("customer_id")},
	// Last: the duplicate's record becomes a tombstone.
	{table: "customers", column: "id", what: "customer record", move: tombstone},
}

// mergeTable is one entry of the merge registry.
type mergeTable struct {
	table  string
	column string // the column holding the customer's id
	what   string // what its rows are, for the preview
	number string // a column holding a copy of the customer's number, if any
	move   func(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error
}

// moveRows re-points every row of the duplicate to the survivor.
func moveRows(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	q := db.NewUpdate().Table(t.table).Set(t.column+" = ?", p.SurvivorID)
	if t.number != "" {
		q = q.Set(t.number+" = ?", p.SurvivorNumber)
	}
	_, err := q.Where("org_id = ?", p.OrgID).Where(t.column+" = ?", p.DuplicateID).Exec(ctx)
	return err
}

// dropRows deletes the duplicate's rows.
func dropRows(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	_, err := db.NewDelete().Table(t.table).Where("org_id = ?", p.OrgID).Where(t.column+" = ?", p.DuplicateID).Exec(ctx)
	return err
}

// dropCollisions deletes the duplicate's rows for which the survivor has a
// row with the same keys.
func dropCollisions(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams, keys ...string) error {
	// Without keys the table holds one row per customer: the survivor's
	// row, if any, collides with the duplicate's.
	match := ""
	for _, k := range keys {
		match += " AND s." + k + " = d." + k
	}
	_, err := db.ExecContext(ctx, "DELETE FROM "+t.table+" AS d WHERE d.org_id = ? AND d."+t.column+" = ? AND EXISTS (SELECT 1 FROM "+
		t.table+" AS s WHERE s.org_id = d.org_id AND s."+t.column+" = ?"+match+")",
		p.OrgID, p.DuplicateID, p.SurvivorID)
	return err
}

// moveMissing moves the duplicate's rows whose keys the survivor lacks and
// drops the others: the survivor's row wins.
func moveMissing(keys ...string) func(context.Context, bun.IDB, mergeTable, crm.MergeMoveParams) error {
	return func(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
		if err := dropCollisions(ctx, db, t, p, keys...); err != nil {
			return err
		}
		return moveRows(ctx, db, t, p)
	}
}

// moveOrigins moves the duplicate's field origins the survivor lacks. The
// creation rows (createdOriginsField) of both are first written out as
// the per-field rows they stand for, so that the survivor's origins win
// field by field as before.
func moveOrigins(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	var created []fieldOriginRow
	if err := db.NewSelect().Model(&created).Where("org_id = ?", p.OrgID).
		Where("customer_id IN (?)", bun.List([]string{p.SurvivorID, p.DuplicateID})).
		Where("field = ?", createdOriginsField).Scan(ctx); err != nil {
		return err
	}
	var rows []fieldOriginRow
	for _, c := range created {
		for _, f := range strings.Split(c.Fields, ",") {
			if f != "" {
				rows = append(rows, fieldOriginRow{OrgID: c.OrgID, CustomerID: c.CustomerID, Field: f, Kind: c.Kind, Source: c.Source, At: c.At})
			}
		}
	}
	if len(rows) > 0 {
		// A per-field row already there is the later change: it stays.
		if _, err := db.NewInsert().Model(&rows).On("CONFLICT (org_id, customer_id, field) DO NOTHING").Exec(ctx); err != nil {
			return err
		}
	}
	if len(created) > 0 {
		if _, err := db.NewDelete().Model((*fieldOriginRow)(nil)).Where("org_id = ?", p.OrgID).
			Where("customer_id IN (?)", bun.List([]string{p.SurvivorID, p.DuplicateID})).
			Where("field = ?", createdOriginsField).Exec(ctx); err != nil {
			return err
		}
	}
	return moveMissing("field")(ctx, db, t, p)
}

// moveConflicts drops the conflicts between the two customers (they are
// one now) and those the survivor has already, and moves the rest.
func moveConflicts(keys ...string) func(context.Context, bun.IDB, mergeTable, crm.MergeMoveParams) error {
	other := keys[0]
	return func(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
		if _, err := db.NewDelete().Table(t.table).Where("org_id = ?", p.OrgID).Where(t.column+" = ?", p.DuplicateID).
			Where(other+" = ?", p.SurvivorID).Exec(ctx); err != nil {
			return err
		}
		return moveMissing(keys...)(ctx, db, t, p)
	}
}

// moveShares moves shared memberships, except those the survivor holds or
// shares already.
func moveShares(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	if _, err := db.NewDelete().Table(t.table).Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.DuplicateID).
		Where("membership_id IN (SELECT id FROM memberships WHERE org_id = ? AND holder_id = ?)", p.OrgID, p.SurvivorID).Exec(ctx); err != nil {
		return err
	}
	return moveMissing("membership_id")(ctx, db, t, p)
}

// moveConsents keeps, per purpose, the newer current state of the two
// customers: the consent log (consent_records) holds both histories.
func moveConsents(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	// The survivor's state gives way where the duplicate's is newer.
	if _, err := db.ExecContext(ctx, `DELETE FROM customer_consents AS s WHERE s.org_id = ? AND s.customer_id = ? AND EXISTS (
		SELECT 1 FROM customer_consents AS d WHERE d.org_id = s.org_id AND d.customer_id = ? AND d.purpose_id = s.purpose_id AND d.at > s.at)`,
		p.OrgID, p.SurvivorID, p.DuplicateID); err != nil {
		return err
	}
	return moveMissing("purpose_id")(ctx, db, t, p)
}

// moveReview keeps the newer latest review of the two customers, as
// recording a review does (an older one changes nothing).
func moveReview(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM customer_reviews AS s WHERE s.org_id = ? AND s.customer_id = ? AND EXISTS (
		SELECT 1 FROM customer_reviews AS d WHERE d.org_id = s.org_id AND d.customer_id = ? AND d.at > s.at)`,
		p.OrgID, p.SurvivorID, p.DuplicateID); err != nil {
		return err
	}
	return moveMissing()(ctx, db, t, p)
}

// moveQualifiers moves attributes and tags the survivor lacks; tags take
// the survivor's free slots (the preview refuses more than nine together).
func moveQualifiers(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	if err := dropCollisions(ctx, db, t, p, "qualifier_id"); err != nil {
		return err
	}
	var used []int
	if err := db.NewSelect().Table(t.table).Column("slot").Where("org_id = ?", p.OrgID).
		Where("customer_id = ?", p.SurvivorID).Where("kind = 'tag'").Scan(ctx, &used); err != nil {
		return err
	}
	var tags []string
	if err := db.NewSelect().Table(t.table).Column("qualifier_id").Where("org_id = ?", p.OrgID).
		Where("customer_id = ?", p.DuplicateID).Where("kind = 'tag'").OrderExpr("slot").Scan(ctx, &tags); err != nil {
		return err
	}
	slot := 0
	for _, q := range tags {
		for slot++; slices.Contains(used, slot); slot++ {
		}
		if slot > crm.MaxTagsPerCustomer {
			return &crm.MergeBlockedError{Code: "too_many_tags", Reason: "together the customers carry more than nine tags"}
		}
		if _, err := db.NewUpdate().Table(t.table).Set("customer_id = ?", p.SurvivorID).Set("number = ?", p.SurvivorNumber).
			Set("slot = ?", slot).Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.DuplicateID).
			Where("qualifier_id = ?", q).Exec(ctx); err != nil {
			return err
		}
	}
	_, err := db.NewUpdate().Table(t.table).Set("customer_id = ?", p.SurvivorID).Set("number = ?", p.SurvivorNumber).
		Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.DuplicateID).Exec(ctx)
	return err
}

// moveBookings moves the bookings in one statement (a thousand bookings
// one by one through BookingService.Move would write two thousand
// timeline events; the merged event counts them instead), and replaces
// the duplicate among the participants of any booking.
func moveBookings(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	if _, err := db.NewUpdate().Table(t.table).Set("customer_id = ?", p.SurvivorID).Set("customer_number = ?", p.SurvivorNumber).
		Set("row_version = row_version + 1").Set("updated_at = ?", p.At).
		Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.DuplicateID).Exec(ctx); err != nil {
		return err
	}
	var rows []struct {
		ID           string `bun:"id"`
		CustomerID   string `bun:"customer_id"`
		Participants []byte `bun:"participants"`
	}
	if err := db.NewSelect().Table(t.table).Column("id", "customer_id").ColumnExpr("CAST(participants AS TEXT) AS participants").
		Where("org_id = ?", p.OrgID).Where("CAST(participants AS TEXT) LIKE ?", "%"+p.DuplicateID+"%").Scan(ctx, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		var ps []string
		if err := json.Unmarshal(r.Participants, &ps); err != nil {
			return err
		}
		next := []string{}
		for _, id := range ps {
			if id == p.DuplicateID {
				id = p.SurvivorID
			}
			if id != r.CustomerID && !slices.Contains(next, id) {
				next = append(next, id)
			}
		}
		b, _ := json.Marshal(next)
		if _, err := db.NewUpdate().Table(t.table).Set("participants = ?", string(b)).Set("row_version = row_version + 1").
			Where("org_id = ?", p.OrgID).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// tombstone records that the duplicate's id and number now mean the
// survivor, and deletes its record (and, by cascade, anything left).
func tombstone(ctx context.Context, db bun.IDB, t mergeTable, p crm.MergeMoveParams) error {
	if _, err := db.NewInsert().Model(&tombstoneRow{OrgID: p.OrgID, ID: p.DuplicateID, Number: p.DuplicateNumber,
		SurvivorID: p.SurvivorID, MergedAt: p.At, MergedBy: p.By.String()}).Exec(ctx); err != nil {
		return err
	}
	if err := removeRecordIndexes(ctx, db, p.OrgID, p.DuplicateID); err != nil {
		return err
	}
	res, err := db.NewDelete().Table("customers").Where("org_id = ?", p.OrgID).Where("id = ?", p.DuplicateID).Exec(ctx)
	return oneRow(res, err)
}

type tombstoneRow struct {
	bun.BaseModel `bun:"table:customer_tombstones"`
	OrgID         string    `bun:"org_id,pk"`
	ID            string    `bun:"id,pk"`
	Number        int64     `bun:"number"`
	SurvivorID    string    `bun:"survivor_id"`
	MergedAt      time.Time `bun:"merged_at"`
	MergedBy      string    `bun:"merged_by"`
}

// MergeFacts implements crm.MergeStore.
func (s *DB) MergeFacts(ctx context.Context, orgID, survivorID, duplicateID string) (*crm.MergeFacts, error) {
	f := &crm.MergeFacts{}
	for _, t := range mergeTables {
		if t.table == "customers" || t.table == "customer_tombstones" {
			continue
		}
		n, err := s.db.NewSelect().Table(t.table).Where("org_id = ?", orgID).Where(t.column+" = ?", duplicateID).Count(ctx)
		if err != nil {
			return nil, interpretError(err)
		}
		f.Moves = append(f.Moves, crm.MergeMove{Table: t.table + "." + t.column, What: t.what, Rows: int64(n)})
	}
	var tags []string
	if err := s.db.NewSelect().Table("customer_qualifiers").ColumnExpr("DISTINCT qualifier_id").Where("org_id = ?", orgID).
		Where("customer_id IN (?, ?)", survivorID, duplicateID).Where("kind = 'tag'").Scan(ctx, &tags); err != nil {
		return nil, interpretError(err)
	}
	f.TagsTogether = len(tags)
	if err := s.db.NewSelect().TableExpr("memberships AS a").ColumnExpr("DISTINCT l.name").
		Join("JOIN memberships AS b ON b.org_id = a.org_id AND b.label_id = a.label_id").
		Join("JOIN labels AS l ON l.org_id = a.org_id AND l.id = a.label_id").
		Where("a.org_id = ?", orgID).Where("a.holder_id = ?", survivorID).Where("b.holder_id = ?", duplicateID).
		Where("a.cancelled_at IS NULL").Where("b.cancelled_at IS NULL").Scan(ctx, &f.SharedMembershipLabels); err != nil {
		return nil, interpretError(err)
	}
	if err := s.db.NewSelect().Table("bookings").Column("reference").Where("org_id = ?", orgID).
		Where("customer_id = ?", duplicateID).Where("(invoiced = ? OR invoice_number <> '')", true).
		OrderExpr("reference").Limit(10).Scan(ctx, &f.InvoicedBookings); err != nil {
		return nil, interpretError(err)
	}
	return f, nil
}

// MergeMove implements crm.MergeStore: it runs the merge registry.
func (s *DB) MergeMove(ctx context.Context, p crm.MergeMoveParams) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		for _, t := range mergeTables {
			if err := t.move(ctx, db, t, p); err != nil {
				var blocked *crm.MergeBlockedError
				if errors.As(err, &blocked) {
					return err
				}
				return interpretError(err)
			}
		}
		return nil
	})
}

// tombstoneFor returns a *crm.MergedError when the customer asked for by
// id or number was merged away, else notFound.
func (s *DB) tombstoneFor(ctx context.Context, p crm.CustomerGetParams, notFound error) error {
	if p.ID == "" && p.Number == 0 {
		return notFound
	}
	var row tombstoneRow
	q := s.db.NewSelect().Model(&row).Where("org_id = ?", p.OrgID)
	if p.ID != "" {
		q = q.Where("id = ?", p.ID)
	} else {
		q = q.Where("number = ?", p.Number)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		}
		return interpretError(err)
	}
	return &crm.MergedError{ID: row.ID, SurvivorID: row.SurvivorID}
}
