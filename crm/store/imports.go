package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// Exports and imports (issue 18): the export records, the import jobs'
// state with their batches and changes, and the bulk writes an import
// needs.

type exportRecordRow struct {
	bun.BaseModel `bun:"table:export_records"`

	OrgID      string             `bun:"org_id,pk"`
	ID         string             `bun:"id,pk"`
	Actor      crm.Actor          `bun:"actor,type:jsonb"`
	At         time.Time          `bun:"at"`
	FinishedAt *time.Time         `bun:"finished_at"`
	Format     string             `bun:"format"`
	SegmentID  string             `bun:"segment_id"`
	Filter     crm.CustomerFilter `bun:"filter,type:jsonb"`
	Columns    []string           `bun:"columns,type:jsonb"`
	Rows       int64              `bun:"row_count"`
}

func (r *exportRecordRow) toDomain() crm.ExportRecord {
	return crm.ExportRecord{ID: r.ID, OrgID: r.OrgID, Actor: r.Actor, At: utc(r.At), FinishedAt: utcPtr(r.FinishedAt),
		Format: crm.TableFormat(r.Format), SegmentID: r.SegmentID, Filter: r.Filter, Columns: r.Columns, Rows: r.Rows}
}

// ExportRecordInsert implements crm.ExportStore.
func (s *DB) ExportRecordInsert(ctx context.Context, r *crm.ExportRecord) error {
	_, err := s.db.NewInsert().Model(&exportRecordRow{OrgID: r.OrgID, ID: r.ID, Actor: r.Actor, At: r.At, FinishedAt: r.FinishedAt,
		Format: string(r.Format), SegmentID: r.SegmentID, Filter: r.Filter, Columns: r.Columns, Rows: r.Rows}).Exec(ctx)
	return interpretError(err)
}

// ExportRecordFinish implements crm.ExportStore.
func (s *DB) ExportRecordFinish(ctx context.Context, orgID, id string, at time.Time, rows int64) error {
	res, err := s.db.NewUpdate().Model((*exportRecordRow)(nil)).Set("finished_at = ?", at).Set("row_count = ?", rows).
		Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// ExportRecordList implements crm.ExportStore.
func (s *DB) ExportRecordList(ctx context.Context, orgID, before string, limit int) ([]crm.ExportRecord, error) {
	var rows []exportRecordRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("id DESC").Limit(int64(limit))
	if before != "" {
		q = q.Where("id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ExportRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// ConsentStateListMany implements crm.ExportStore.
func (s *DB) ConsentStateListMany(ctx context.Context, orgID string, customerIDs []string) (map[string][]crm.CustomerConsent, error) {
	var rows []customerConsentRow
	if len(customerIDs) == 0 {
		return nil, nil
	}
	err := s.idsIn(s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID), "customer_id", customerIDs).Scan(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make(map[string][]crm.CustomerConsent, len(customerIDs))
	for _, r := range rows {
		out[r.CustomerID] = append(out[r.CustomerID], crm.CustomerConsent{PurposeID: r.PurposeID, State: crm.ConsentState(r.State),
			At: utc(r.At), RecordID: r.RecordID})
	}
	return out, nil
}

type importRow struct {
	bun.BaseModel `bun:"table:imports"`

	OrgID     string             `bun:"org_id,pk"`
	ID        string             `bun:"id,pk"`
	FileName  string             `bun:"file_name"`
	Options   crm.TableOptions   `bun:"options,type:jsonb"`
	Mode      string             `bun:"mode"`
	DryRun    bool               `bun:"dry_run"`
	Mapping   []crm.ImportColumn `bun:"mapping,type:jsonb"`
	Status    string             `bun:"status"`
	Rows      int64              `bun:"row_count"`
	Created   int64              `bun:"created"`
	Updated   int64              `bun:"updated"`
	Skipped   int64              `bun:"skipped"`
	Refused   int64              `bun:"refused"`
	Batches   int                `bun:"batches"`
	Message   string             `bun:"message"`
	CreatedBy crm.Actor          `bun:"created_by,type:jsonb"`
	CreatedAt time.Time          `bun:"created_at"`
	UpdatedAt time.Time          `bun:"updated_at"`
	Finished  *time.Time         `bun:"finished_at"`
}

func importToRow(im *crm.FileImport) *importRow {
	return &importRow{OrgID: im.OrgID, ID: im.ID, FileName: im.FileName, Options: im.Options, Mode: string(im.Mode), DryRun: im.DryRun,
		Mapping: im.Mapping, Status: string(im.Status), Rows: im.Rows, Created: im.Created, Updated: im.Updated, Skipped: im.Skipped,
		Refused: im.Refused, Batches: im.Batches, Message: im.Message, CreatedBy: im.CreatedBy, CreatedAt: im.CreatedAt,
		UpdatedAt: im.UpdatedAt, Finished: im.Finished}
}

func (r *importRow) toDomain() crm.FileImport {
	return crm.FileImport{OrgID: r.OrgID, ID: r.ID, FileName: r.FileName, Options: r.Options, Mode: crm.ImportMode(r.Mode), DryRun: r.DryRun,
		Mapping: r.Mapping, Status: crm.ImportStatus(r.Status), Rows: r.Rows, Created: r.Created, Updated: r.Updated, Skipped: r.Skipped,
		Refused: r.Refused, Batches: r.Batches, Message: r.Message, CreatedBy: r.CreatedBy, CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt), Finished: utcPtr(r.Finished)}
}

// ImportInsert implements crm.ImportStore.
func (s *DB) ImportInsert(ctx context.Context, im *crm.FileImport) error {
	_, err := s.db.NewInsert().Model(importToRow(im)).Exec(ctx)
	return interpretError(err)
}

// ImportGet implements crm.ImportStore.
func (s *DB) ImportGet(ctx context.Context, orgID, id string) (*crm.FileImport, error) {
	var row importRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("import %s: %w", id, interpretError(err))
	}
	im := row.toDomain()
	return &im, nil
}

// ImportList implements crm.ImportStore.
func (s *DB) ImportList(ctx context.Context, orgID, before string, limit int) ([]crm.FileImport, error) {
	var rows []importRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("id DESC").Limit(int64(limit))
	if before != "" {
		q = q.Where("id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.FileImport, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// ImportUpdate implements crm.ImportStore. The expected position and
// status in the WHERE clause make two runs of one import write each batch
// once, and a cancel stop the next batch.
func (s *DB) ImportUpdate(ctx context.Context, im *crm.FileImport, expect crm.ImportUpdateParams) error {
	statuses := make([]string, len(expect.Statuses))
	for i, st := range expect.Statuses {
		statuses[i] = string(st)
	}
	res, err := s.db.NewUpdate().Model(importToRow(im)).ExcludeColumn("org_id", "id", "created_at", "created_by", "file_name", "options", "mode", "dry_run", "mapping").
		Where("org_id = ?", im.OrgID).Where("id = ?", im.ID).Where("row_count = ?", expect.Rows).
		Where("status IN (?)", bun.List(statuses)).Exec(ctx)
	if err := oneRow(res, err); err != nil {
		if err == crm.ErrNotFound {
			return crm.ErrStaleVersion
		}
		return err
	}
	return nil
}

type importBatchRow struct {
	bun.BaseModel `bun:"table:import_batches"`

	OrgID    string `bun:"org_id,pk"`
	ImportID string `bun:"import_id,pk"`
	Seq      int64  `bun:"seq,pk"`
	FromRow  int64  `bun:"from_row"`
	First    int64  `bun:"first_number"`
	Last     int64  `bun:"last_number"`
}

// ImportBatchInsert implements crm.ImportStore.
func (s *DB) ImportBatchInsert(ctx context.Context, b crm.ImportBatch) error {
	_, err := s.db.NewInsert().Model(&importBatchRow{OrgID: b.OrgID, ImportID: b.ImportID, Seq: b.Seq, FromRow: b.FromRow,
		First: b.First, Last: b.Last}).Exec(ctx)
	return interpretError(err)
}

// ImportBatchList implements crm.ImportStore.
func (s *DB) ImportBatchList(ctx context.Context, orgID, importID string) ([]crm.ImportBatch, error) {
	var rows []importBatchRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("import_id = ?", importID).
		OrderExpr("seq").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ImportBatch, len(rows))
	for i, r := range rows {
		out[i] = crm.ImportBatch{OrgID: r.OrgID, ImportID: r.ImportID, Seq: r.Seq, FromRow: r.FromRow, First: r.First, Last: r.Last}
	}
	return out, nil
}

type importChangeRow struct {
	bun.BaseModel `bun:"table:import_changes"`

	OrgID        string             `bun:"org_id,pk"`
	ImportID     string             `bun:"import_id,pk"`
	Seq          int64              `bun:"seq,pk"`
	CustomerID   string             `bun:"customer_id"`
	VersionAfter int                `bun:"version_after"`
	Before       crm.CustomerFields `bun:"before,type:jsonb"`
}

// ImportChangeInsert implements crm.ImportStore.
func (s *DB) ImportChangeInsert(ctx context.Context, cs ...crm.ImportChange) error {
	rows := make([]importChangeRow, len(cs))
	for i, c := range cs {
		rows[i] = importChangeRow{OrgID: c.OrgID, ImportID: c.ImportID, Seq: c.Seq, CustomerID: c.CustomerID,
			VersionAfter: c.VersionAfter, Before: c.Before}
	}
	return insertAll(ctx, s.db, rows)
}

// ImportChangeList implements crm.ImportStore.
func (s *DB) ImportChangeList(ctx context.Context, orgID, importID string, beforeSeq int64, limit int) ([]crm.ImportChange, error) {
	var rows []importChangeRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("import_id = ?", importID).
		OrderExpr("seq DESC").Limit(int64(limit))
	if beforeSeq > 0 {
		q = q.Where("seq < ?", beforeSeq)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ImportChange, len(rows))
	for i, r := range rows {
		out[i] = crm.ImportChange{OrgID: r.OrgID, ImportID: r.ImportID, Seq: r.Seq, CustomerID: r.CustomerID,
			VersionAfter: r.VersionAfter, Before: r.Before}
	}
	return out, nil
}

// CustomerInsertMany implements crm.ImportStore: the customers, their
// search text and index rows, each table in one statement.
func (s *DB) CustomerInsertMany(ctx context.Context, cs []*crm.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	return s.atomic(ctx, func(db bun.IDB) error {
		customers := make([]customerRow, len(cs))
		search := make([]searchRow, len(cs))
		var names []nameKeyRow
		var emails []emailRow
		var phones []phoneRow
		for i, c := range cs {
			customers[i] = *customerToRow(c)
			search[i] = searchRow{OrgID: c.OrgID, Number: c.Number, Text: crm.SearchText(&c.CustomerFields)}
			names = append(names, nameKeyRows(c.OrgID, c.Number, crm.NameKeys(&c.CustomerFields))...)
			for _, e := range dedupe(c.AltEmails, crm.EmailKey) {
				emails = append(emails, emailRow{OrgID: c.OrgID, CustomerID: c.ID, EmailKey: e})
			}
			numbers := make([]string, len(c.Phones))
			for j, p := range c.Phones {
				numbers[j] = p.Number
			}
			for _, n := range dedupe(numbers, func(s string) string { return s }) {
				phones = append(phones, phoneRow{OrgID: c.OrgID, Number: n, CustomerNumber: c.Number})
			}
		}
		inserts := []func() error{
			func() error { return insertAll(ctx, db, customers) },
			func() error { return insertAll(ctx, db, search) },
			func() error { return insertAll(ctx, db, names) },
			func() error { return insertAll(ctx, db, emails) },
			func() error { return insertAll(ctx, db, phones) },
		}
		if tx, ok := s.bulkArraysTx(len(cs)); ok {
			inserts = pgCustomerInserts(ctx, tx, customers, search, names, emails, phones)
		}
		for _, insert := range inserts {
			if err := insert(); err != nil {
				return err
			}
		}
		return nil
	})
}

// pgCustomerInserts are CustomerInsertMany's inserts as arrays
// (pgInsertArrays) on PostgreSQL: an import batch's thousand customers
// with some forty values each were a statement of forty thousand literals,
// parsed and analysed one by one. Each value is written as bun writes it
// (JSON columns as JSON, null for none; times to the microsecond; empty
// nullzero strings as NULL), so the rows are the same either way.
func pgCustomerInserts(ctx context.Context, tx bun.Tx, customers []customerRow, search []searchRow, names []nameKeyRow,
	emails []emailRow, phones []phoneRow) []func() error {
	return []func() error{
		func() error {
			return pgInsertArrays(ctx, tx, "customers", customerArrayColumns, len(customers), func(i int) ([]any, error) {
				return customerArrayValues(&customers[i])
			})
		},
		func() error {
			return insertArraysOrAll(ctx, tx, "customer_search", searchArrayColumns, search, func(r *searchRow) []any {
				return []any{r.OrgID, strconv.FormatInt(r.Number, 10), r.Text}
			})
		},
		func() error {
			return insertArraysOrAll(ctx, tx, "customer_name_keys", nameKeyArrayColumns, names, func(r *nameKeyRow) []any {
				return []any{r.OrgID, r.Key, strconv.FormatInt(r.Number, 10)}
			})
		},
		func() error { return insertAll(ctx, tx, emails) }, // few: alternative addresses
		func() error {
			return insertArraysOrAll(ctx, tx, "customer_phones", phoneArrayColumns, phones, func(r *phoneRow) []any {
				return []any{r.OrgID, r.Number, strconv.FormatInt(r.CustomerNumber, 10)}
			})
		},
	}
}

// insertArraysOrAll inserts rows as arrays (pgInsertArrays, values giving
// a row's values), or as insertAll does when they are fewer than
// pgArraysMin.
func insertArraysOrAll[T any](ctx context.Context, tx bun.Tx, table string, columns []pgColumn, rows []T, values func(*T) []any) error {
	if len(rows) < pgArraysMin {
		return insertAll(ctx, tx, rows)
	}
	return pgInsertArrays(ctx, tx, table, columns, len(rows), func(i int) ([]any, error) { return values(&rows[i]), nil })
}

// customerArrayColumns are the customers columns pgCustomerInserts fills,
// in customerRow's order (customerArrayValues).
var customerArrayColumns = []pgColumn{{"id", "uuid"}, {"org_id", "text"}, {"number", "bigint"},
	{"first_name", "text"}, {"middle_name", "text"}, {"last_name", "text"}, {"company", "text"},
	{"street", "text"}, {"house_number", "text"}, {"postal_code", "text"}, {"city", "text"}, {"country", "text"},
	{"phones", "jsonb"}, {"birth_date", "date"}, {"passport_expiry", "date"}, {"status", "text"}, {"origin", "text"},
	{"first_contact", "date"}, {"login_email", "text"}, {"login_email_key", "text"}, {"email", "text"}, {"email_key", "text"},
	{"alt_emails", "jsonb"}, {"language", "text"}, {"internal_description", "text"}, {"remarks", "text"},
	{"no_post", "boolean"}, {"no_mailings", "boolean"}, {"assigned_to", "text"}, {"custom_fields", "jsonb"},
	{"created_at", "timestamptz"}, {"updated_at", "timestamptz"}, {"last_activity_at", "timestamptz"},
	{"version", "integer"}, {"sort_key", "bytea"}, {"anonymised_at", "timestamptz"}}

// customerArrayValues returns r's values in customerArrayColumns' order.
func customerArrayValues(r *customerRow) ([]any, error) {
	phones, err := json.Marshal(r.Phones)
	if err != nil {
		return nil, err
	}
	alt, err := json.Marshal(r.AltEmails)
	if err != nil {
		return nil, err
	}
	custom, err := json.Marshal(r.CustomFields)
	if err != nil {
		return nil, err
	}
	day := func(d *date) any {
		if d == nil {
			return nil
		}
		return d.String()
	}
	var anonymised any
	if r.AnonymisedAt != nil {
		anonymised = pgTime(*r.AnonymisedAt)
	}
	return []any{r.ID, r.OrgID, strconv.FormatInt(r.Number, 10),
		r.FirstName, r.MiddleName, r.LastName, r.Company,
		r.Street, r.HouseNumber, r.PostalCode, r.City, r.Country,
		string(phones), day(r.BirthDate), day(r.PassportExpiry), r.Status, r.Origin,
		day(r.FirstContact), nullIfEmpty(r.LoginEmail), nullIfEmpty(r.LoginEmailKey), nullIfEmpty(r.Email), nullIfEmpty(r.EmailKey),
		string(alt), r.Language, r.InternalDescription, r.Remarks,
		strconv.FormatBool(r.NoPost), strconv.FormatBool(r.NoMailings), r.AssignedTo, string(custom),
		pgTime(r.CreatedAt), pgTime(r.UpdatedAt), pgTime(r.LastActivityAt),
		strconv.Itoa(r.Version), `\x` + hex.EncodeToString(r.SortKey), anonymised}, nil
}

// The columns of the index rows pgCustomerInserts fills.
var (
	searchArrayColumns  = []pgColumn{{"org_id", "text"}, {"number", "bigint"}, {"text", "text"}}
	nameKeyArrayColumns = []pgColumn{{"org_id", "text"}, {"key", "text"}, {"number", "bigint"}}
	phoneArrayColumns   = []pgColumn{{"org_id", "text"}, {"number", "text"}, {"customer_number", "bigint"}}
)

// OrganisationReserveCustomerNumbers implements crm.ImportStore.
func (s *DB) OrganisationReserveCustomerNumbers(ctx context.Context, orgID string, n int) (int64, error) {
	var last int64
	err := s.db.NewUpdate().Model((*organisationRow)(nil)).
		Set("next_customer_number = next_customer_number + ?", n).
		Where("id = ?", orgID).
		Returning("next_customer_number").
		Scan(ctx, &last)
	if err != nil {
		return 0, fmt.Errorf("organisation %s: %w", orgID, interpretError(err))
	}
	return last - int64(n) + 1, nil
}

// ImportChangeListByCustomer implements crm.ImportStore.
func (s *DB) ImportChangeListByCustomer(ctx context.Context, orgID, customerID string) ([]crm.ImportChange, error) {
	var rows []importChangeRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("import_id, seq").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ImportChange, len(rows))
	for i, r := range rows {
		out[i] = crm.ImportChange{OrgID: r.OrgID, ImportID: r.ImportID, Seq: r.Seq, CustomerID: r.CustomerID,
			VersionAfter: r.VersionAfter, Before: r.Before}
	}
	return out, nil
}

// FieldOriginInsertMany implements crm.ImportStore: a new customer's
// origins of one kind, source and moment are one row
// (createdOriginsField), read back as the list of its fields.
func (s *DB) FieldOriginInsertMany(ctx context.Context, orgID string, origins []crm.CustomerFieldOrigin) error {
	if len(origins) == 0 {
		return nil
	}
	rows := createdOriginRows(orgID, origins)
	if tx, ok := s.bulkArraysTx(len(rows)); ok {
		return pgInsertArrays(ctx, tx, "customer_field_origins", originArrayColumns, len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			return []any{r.OrgID, r.CustomerID, r.Field, r.Kind, r.Source, pgTime(r.At), nullIfEmpty(r.Fields)}, nil
		})
	}
	_, err := s.db.NewInsert().Comment(s.heldWriteComment()).Model(&rows).Returning("NULL").Exec(ctx)
	return interpretError(err)
}

// originArrayColumns are the customer_field_origins columns of
// FieldOriginInsertMany's insert as arrays (pgInsertArrays).
var originArrayColumns = []pgColumn{{"org_id", "text"}, {"customer_id", "uuid"}, {"field", "text"}, {"kind", "text"},
	{"source", "text"}, {"at", "timestamptz"}, {"fields", "text"}}

// ImportBatchListByNumber implements crm.ImportStore.
func (s *DB) ImportBatchListByNumber(ctx context.Context, orgID string, number int64) ([]crm.ImportBatch, error) {
	var rows []importBatchRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("first_number <= ?", number).Where("last_number >= ?", number).
		OrderExpr("import_id, seq").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ImportBatch, len(rows))
	for i, r := range rows {
		out[i] = crm.ImportBatch{OrgID: r.OrgID, ImportID: r.ImportID, Seq: r.Seq, FromRow: r.FromRow, First: r.First, Last: r.Last}
	}
	return out, nil
}

// BookingCountMany implements crm.ExportStore: one grouped count over the
// bookings' customer index (org, customer id, ..., status, ..., customer
// number), for the ids of the customers with those numbers.
func (s *DB) BookingCountMany(ctx context.Context, orgID string, numbers []int64) (map[int64]int64, error) {
	var rows []struct {
		Number int64 `bun:"customer_number"`
		Count  int64 `bun:"n"`
	}
	ids := s.numbersIn(s.db.NewSelect().Model((*customerRow)(nil)).Column("id").Where("org_id = ?", orgID), "number", numbers)
	if err := s.db.NewSelect().TableExpr("bookings").ColumnExpr("customer_number, count(*) AS n").
		Where("org_id = ?", orgID).Where("customer_id IN (?)", ids).
		Where("status NOT IN ('cancelled', 'deleted')").GroupExpr("customer_number").Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.Number] = r.Count
	}
	return out, nil
}
