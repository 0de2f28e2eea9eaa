package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// customerUpdateExcluded are the columns an update leaves alone: the
// identity (id, organisation, number) and the creation time.
var customerUpdateExcluded = []string{"id", "org_id", "number", "created_at"}

// CustomerInsert implements crm.CustomerStore.
func (s *DB) CustomerInsert(ctx context.Context, c *crm.Customer) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if _, err := db.NewInsert().Model(customerToRow(c)).Exec(ctx); err != nil {
			return interpretError(err)
		}
		return insertSearchIndex(ctx, db, c)
	})
}

// CustomerGet implements crm.CustomerStore.
func (s *DB) CustomerGet(ctx context.Context, p crm.CustomerGetParams) (*crm.Customer, error) {
	var row customerRow
	q := s.db.NewSelect().Model(&row).Where("org_id = ?", p.OrgID)
	switch {
	case p.ID != "":
		q = q.Where("id = ?", p.ID)
	case p.Number != 0:
		q = q.Where("number = ?", p.Number)
	case p.LoginEmailKey != "":
		q = q.Where("login_email_key = ?", p.LoginEmailKey)
	default:
		return nil, crm.ErrNotFound
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	c := row.toDomain()
	return &c, nil
}

// CustomerUpdate implements crm.CustomerStore. The version in the WHERE
// clause is what makes optimistic locking hold when two transactions read
// the same version: the second UPDATE finds no row.
func (s *DB) CustomerUpdate(ctx context.Context, c *crm.Customer, expectedVersion int) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		res, err := db.NewUpdate().Model(customerToRow(c)).
			ExcludeColumn(customerUpdateExcluded...).
			Where("org_id = ?", c.OrgID).
			Where("id = ?", c.ID).
			Where("version = ?", expectedVersion).
			Exec(ctx)
		if err := oneRow(res, err); err != nil {
			if !errors.Is(err, crm.ErrNotFound) {
				return err
			}
			exists, err := db.NewSelect().Model((*customerRow)(nil)).
				Where("org_id = ?", c.OrgID).Where("id = ?", c.ID).Exists(ctx)
			if err != nil {
				return interpretError(err)
			}
			if exists {
				return crm.ErrStaleVersion
			}
			return crm.ErrNotFound
		}
		if err := deleteSearchIndex(ctx, db, c.OrgID, c.ID); err != nil {
			return err
		}
		return insertSearchIndex(ctx, db, c)
	})
}

// CustomerDelete implements crm.CustomerStore. The search index rows go with
// the customer (ON DELETE CASCADE); history rows have no foreign key and are
// deleted here.
func (s *DB) CustomerDelete(ctx context.Context, orgID, id string) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		res, err := db.NewDelete().Model((*customerRow)(nil)).
			Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		_, err = db.NewDelete().Model((*historyRow)(nil)).
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx)
		return interpretError(err)
	})
}

// maxKey is above every valid UTF-8 string that starts with the same prefix:
// prefix <= key < prefix+maxKey is a prefix match that uses the index.
const maxKey = "\U0010FFFF"

// CustomerList implements crm.CustomerStore.
func (s *DB) CustomerList(ctx context.Context, p crm.CustomerListParams) ([]crm.Customer, error) {
	var rows []customerRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", p.OrgID)
	if p.NamePrefix != "" {
		// Matching on number, not id: the list of matching numbers comes
		// sorted out of the key index, so the database can fetch customers in
		// page order and stop when the page is full instead of sorting every match.
		q = q.Where("number IN (?)", s.db.NewSelect().Model((*nameKeyRow)(nil)).Column("number").
			Where("org_id = ?", p.OrgID).
			Where("key >= ?", p.NamePrefix).
			Where("key < ?", p.NamePrefix+maxKey))
	}
	if p.EmailKey != "" {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("login_email_key = ?", p.EmailKey).
				WhereOr("email_key = ?", p.EmailKey).
				WhereOr("id IN (?)", s.db.NewSelect().Model((*emailRow)(nil)).Column("customer_id").
					Where("org_id = ?", p.OrgID).Where("email_key = ?", p.EmailKey))
		})
	}
	if p.Phone != "" {
		q = q.Where("id IN (?)", s.db.NewSelect().Model((*phoneRow)(nil)).Column("customer_id").
			Where("org_id = ?", p.OrgID).Where("number = ?", p.Phone))
	}
	if p.BirthDate != nil {
		q = q.Where("birth_date = ?", toDate(p.BirthDate))
	}
	if p.Number != 0 {
		q = q.Where("number = ?", p.Number)
	}
	if p.Status != "" {
		q = q.Where("status = ?", p.Status)
	}
	if p.Origin != "" {
		q = q.Where("origin = ?", p.Origin)
	}
	if p.Language != "" {
		q = q.Where("(language = ? OR language LIKE ?)", p.Language, p.Language+"-%")
	}
	if p.AssignedTo != "" {
		q = q.Where("assigned_to = ?", p.AssignedTo)
	}
	if !p.CreatedFrom.IsZero() {
		q = q.Where("created_at >= ?", p.CreatedFrom)
	}
	if !p.CreatedTo.IsZero() {
		q = q.Where("created_at < ?", p.CreatedTo)
	}
	if p.AfterNumber > 0 {
		q = q.Where("number > ?", p.AfterNumber)
	}
	if err := q.OrderExpr("number").Limit(int64(p.Limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Customer, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// insertSearchIndex writes the name keys, alternative e-mails and phone
// numbers under which c is found.
func insertSearchIndex(ctx context.Context, db bun.IDB, c *crm.Customer) error {
	var names []nameKeyRow
	for _, k := range crm.NameKeys(&c.CustomerFields) {
		names = append(names, nameKeyRow{OrgID: c.OrgID, CustomerID: c.ID, Key: k, Number: c.Number})
	}
	var emails []emailRow
	for _, e := range dedupe(c.AltEmails, crm.EmailKey) {
		emails = append(emails, emailRow{OrgID: c.OrgID, CustomerID: c.ID, EmailKey: e})
	}
	var phones []phoneRow
	numbers := make([]string, len(c.Phones))
	for i, p := range c.Phones {
		numbers[i] = p.Number
	}
	for _, n := range dedupe(numbers, strings.TrimSpace) {
		phones = append(phones, phoneRow{OrgID: c.OrgID, CustomerID: c.ID, Number: n})
	}
	if err := insertAll(ctx, db, names); err != nil {
		return err
	}
	if err := insertAll(ctx, db, emails); err != nil {
		return err
	}
	return insertAll(ctx, db, phones)
}

// insertAll inserts rows in one statement; bun refuses an empty slice.
func insertAll[T any](ctx context.Context, db bun.IDB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := db.NewInsert().Model(&rows).Exec(ctx)
	return interpretError(err)
}

func deleteSearchIndex(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	for _, model := range []any{(*nameKeyRow)(nil), (*emailRow)(nil), (*phoneRow)(nil)} {
		_, err := db.NewDelete().Model(model).
			Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx)
		if err != nil {
			return interpretError(err)
		}
	}
	return nil
}

// dedupe returns the distinct non-empty keys of values.
func dedupe(values []string, key func(string) string) []string {
	seen := make(map[string]bool, len(values))
	var out []string
	for _, v := range values {
		if k := key(v); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// atomic runs fn in the current transaction, or in a new one when s is not
// in a transaction: a multi-row write is never half done.
func (s *DB) atomic(ctx context.Context, fn func(db bun.IDB) error) error {
	if _, inTx := s.db.(bun.Tx); inTx {
		return fn(s.db)
	}
	return s.bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
}

// oneRow turns "no row affected" into ErrNotFound.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return interpretError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return interpretError(err)
	}
	if n == 0 {
		return crm.ErrNotFound
	}
	return nil
}
