package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type qualifierRow struct {
	bun.BaseModel `bun:"table:qualifiers"`

	ID        string    `bun:"id,pk"`
	OrgID     string    `bun:"org_id,pk"`
	Kind      string    `bun:"kind"`
	Name      string    `bun:"name"`
	NameKey   string    `bun:"name_key"`
	Colour    string    `bun:"colour"`
	Position  int       `bun:"position"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func qualifierToRow(orgID string, q *crm.Qualifier) qualifierRow {
	return qualifierRow{ID: q.ID, OrgID: orgID, Kind: string(q.Kind), Name: q.Name, NameKey: qualifierNameKey(q.Name),
		Colour: q.Colour, Position: q.Position, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
}

// qualifierNameKey is how names compare for uniqueness: "vip" and "VIP"
// are one tag.
func qualifierNameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

func (r *qualifierRow) toDomain() crm.Qualifier {
	return crm.Qualifier{ID: r.ID, Kind: crm.QualifierKind(r.Kind), Name: r.Name, Colour: r.Colour, Position: r.Position,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

type customerQualifierRow struct {
	bun.BaseModel `bun:"table:customer_qualifiers"`

	OrgID       string    `bun:"org_id,pk"`
	CustomerID  string    `bun:"customer_id,pk"`
	Number      int64     `bun:"number"`
	QualifierID string    `bun:"qualifier_id,pk"`
	Kind        string    `bun:"kind"`
	Slot        int       `bun:"slot"`
	AddedAt     time.Time `bun:"added_at"`
	AddedBy     string    `bun:"added_by"`
}

// QualifierInsert implements crm.QualifierStore.
func (s *DB) QualifierInsert(ctx context.Context, orgID string, qs ...crm.Qualifier) error {
	rows := make([]qualifierRow, len(qs))
	for i := range qs {
		rows[i] = qualifierToRow(orgID, &qs[i])
	}
	return insertAll(ctx, s.db, rows)
}

// QualifierUpdate implements crm.QualifierStore.
func (s *DB) QualifierUpdate(ctx context.Context, orgID string, q *crm.Qualifier) error {
	row := qualifierToRow(orgID, q)
	res, err := s.db.NewUpdate().Model(&row).Column("name", "name_key", "colour", "position", "updated_at").
		Where("org_id = ?", orgID).Where("kind = ?", row.Kind).Where("id = ?", q.ID).Exec(ctx)
	return oneRow(res, err)
}

// QualifierDelete implements crm.QualifierStore. The links go with the
// definition (ON DELETE CASCADE).
func (s *DB) QualifierDelete(ctx context.Context, orgID string, kind crm.QualifierKind, id string) error {
	res, err := s.db.NewDelete().Model((*qualifierRow)(nil)).
		Where("org_id = ?", orgID).Where("kind = ?", kind).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// QualifierList implements crm.QualifierStore.
func (s *DB) QualifierList(ctx context.Context, orgID string, kind crm.QualifierKind) ([]crm.Qualifier, error) {
	var rows []qualifierRow
	err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("kind = ?", kind).
		OrderExpr("position, name_key, id").Scan(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Qualifier, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// CustomerQualifierList implements crm.QualifierStore.
func (s *DB) CustomerQualifierList(ctx context.Context, orgID string, kind crm.QualifierKind, customerIDs []string) ([]crm.CustomerQualifier, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	var rows []customerQualifierRow
	err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("kind = ?", kind).
		Where("customer_id IN (?)", bun.List(customerIDs)).OrderExpr("customer_id, slot, qualifier_id").Scan(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.CustomerQualifier, len(rows))
	for i, r := range rows {
		kind, id, _ := strings.Cut(r.AddedBy, ":")
		out[i] = crm.CustomerQualifier{OrgID: r.OrgID, CustomerID: r.CustomerID, QualifierID: r.QualifierID,
			Kind: crm.QualifierKind(r.Kind), Slot: r.Slot, AddedAt: utc(r.AddedAt), AddedBy: crm.Actor{Kind: crm.ActorKind(kind), ID: id},
			CustomerNumber: r.Number}
	}
	return out, nil
}

// QualifierCustomerIDs implements crm.QualifierStore.
func (s *DB) QualifierCustomerIDs(ctx context.Context, orgID, qualifierID string) ([]string, error) {
	var ids []string
	err := s.db.NewSelect().Model((*customerQualifierRow)(nil)).Column("customer_id").
		Where("org_id = ?", orgID).Where("qualifier_id = ?", qualifierID).OrderExpr("customer_id").Scan(ctx, &ids)
	return ids, interpretError(err)
}

// CustomerQualifierInsert implements crm.QualifierStore. Links carry their
// customer's number: the caller's when it gave it, read here otherwise.
func (s *DB) CustomerQualifierInsert(ctx context.Context, links ...crm.CustomerQualifier) error {
	if len(links) == 0 {
		return nil
	}
	numbers := map[string]int64{}
	var ids []string
	for _, l := range links {
		if l.CustomerNumber == 0 {
			ids = append(ids, l.CustomerID)
		}
	}
	if len(ids) > 0 {
		var customers []customerRow
		if err := s.db.NewSelect().Model(&customers).Column("id", "number").Where("org_id = ?", links[0].OrgID).
			Where("id IN (?)", bun.List(dedupe(ids, func(s string) string { return s }))).Scan(ctx); err != nil {
			return interpretError(err)
		}
		for _, c := range customers {
			numbers[c.ID] = c.Number
		}
	}
	rows := make([]customerQualifierRow, len(links))
	for i, l := range links {
		number, ok := l.CustomerNumber, l.CustomerNumber != 0
		if !ok {
			number, ok = numbers[l.CustomerID]
		}
		if !ok || l.OrgID != links[0].OrgID {
			return crm.ErrNotFound
		}
		rows[i] = customerQualifierRow{OrgID: l.OrgID, CustomerID: l.CustomerID, Number: number, QualifierID: l.QualifierID,
			Kind: string(l.Kind), Slot: l.Slot, AddedAt: l.AddedAt, AddedBy: l.AddedBy.String()}
	}
	if tx, ok := s.bulkArraysTx(len(rows)); ok {
		// An import batch's tags and attributes.
		return pgInsertArrays(ctx, tx, "customer_qualifiers", qualifierArrayColumns, len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			return []any{r.OrgID, r.CustomerID, strconv.FormatInt(r.Number, 10), r.QualifierID, r.Kind,
				strconv.Itoa(r.Slot), pgTime(r.AddedAt), r.AddedBy}, nil
		})
	}
	return insertAll(ctx, s.db, rows)
}

// qualifierArrayColumns are the customer_qualifiers columns of
// CustomerQualifierInsert's insert as arrays (pgInsertArrays).
var qualifierArrayColumns = []pgColumn{{"org_id", "text"}, {"customer_id", "uuid"}, {"number", "bigint"}, {"qualifier_id", "uuid"},
	{"kind", "text"}, {"slot", "smallint"}, {"added_at", "timestamptz"}, {"added_by", "text"}}

// CustomerQualifierDelete implements crm.QualifierStore.
func (s *DB) CustomerQualifierDelete(ctx context.Context, orgID, customerID string, qualifierIDs []string) error {
	_, err := s.db.NewDelete().Model((*customerQualifierRow)(nil)).Where("org_id = ?", orgID).
		Where("customer_id = ?", customerID).Where("qualifier_id IN (?)", bun.List(qualifierIDs)).Exec(ctx)
	return interpretError(err)
}

// CustomerTouch implements crm.CustomerStore. The UPDATE takes the row
// lock on PostgreSQL; on SQLite every write transaction holds the database
// lock from its start.
func (s *DB) CustomerTouch(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := s.db.NewUpdate().Comment(preparedComment).Model((*customerRow)(nil)).Set("last_activity_at = ?", at).
		Where("org_id = ?", orgID).Where("id = ?", id).Where("anonymised_at IS NULL").Exec(ctx)
	err = oneRow(res, err)
	if !errors.Is(err, crm.ErrNotFound) {
		return err
	}
	// Absent, or an anonymised shell: only the second needs another look.
	exists, xerr := s.db.NewSelect().Model((*customerRow)(nil)).Where("org_id = ?", orgID).Where("id = ?", id).Exists(ctx)
	if xerr != nil {
		return interpretError(xerr)
	}
	if exists {
		return crm.ErrAnonymised
	}
	return err
}
