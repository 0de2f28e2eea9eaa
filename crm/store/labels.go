package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type labelRow struct {
	bun.BaseModel `bun:"table:labels"`

	ID         string    `bun:"id,pk"`
	OrgID      string    `bun:"org_id,pk"`
	Name       string    `bun:"name"`
	NameKey    string    `bun:"name_key"`
	Benefits   string    `bun:"benefits"`
	Colour     string    `bun:"colour"`
	Membership bool      `bun:"membership"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

func labelToRow(orgID string, l *crm.Label) *labelRow {
	return &labelRow{ID: l.ID, OrgID: orgID, Name: l.Name, NameKey: qualifierNameKey(l.Name), Benefits: l.Benefits,
		Colour: l.Colour, Membership: l.Membership, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

type customerLabelRow struct {
	bun.BaseModel `bun:"table:customer_labels"`

	OrgID      string    `bun:"org_id,pk"`
	CustomerID string    `bun:"customer_id,pk"`
	LabelID    string    `bun:"label_id,pk"`
	AddedAt    time.Time `bun:"added_at"`
}

type membershipRow struct {
	bun.BaseModel `bun:"table:memberships"`

	ID          string     `bun:"id,pk"`
	OrgID       string     `bun:"org_id,pk"`
	LabelID     string     `bun:"label_id"`
	HolderID    string     `bun:"holder_id"`
	StartsOn    date       `bun:"starts_on"`
	EndsOn      date       `bun:"ends_on"`
	CancelledAt *time.Time `bun:"cancelled_at"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
}

type membershipShareRow struct {
	bun.BaseModel `bun:"table:membership_shares"`

	OrgID        string `bun:"org_id,pk"`
	MembershipID string `bun:"membership_id,pk"`
	CustomerID   string `bun:"customer_id,pk"`
}

type benefitUseRow struct {
	bun.BaseModel `bun:"table:benefit_uses"`

	ID           string    `bun:"id,pk"`
	OrgID        string    `bun:"org_id,pk"`
	CustomerID   string    `bun:"customer_id"`
	LabelID      string    `bun:"label_id"`
	MembershipID string    `bun:"membership_id,nullzero"`
	Note         string    `bun:"note"`
	Channel      string    `bun:"channel"`
	At           time.Time `bun:"at"`
	ActorKind    string    `bun:"actor_kind"`
	ActorID      string    `bun:"actor_id"`
}

// LabelInsert implements crm.LabelStore.
func (s *DB) LabelInsert(ctx context.Context, orgID string, l *crm.Label) error {
	_, err := s.db.NewInsert().Model(labelToRow(orgID, l)).Exec(ctx)
	return interpretError(err)
}

// LabelUpdate implements crm.LabelStore.
func (s *DB) LabelUpdate(ctx context.Context, orgID string, l *crm.Label) error {
	res, err := s.db.NewUpdate().Model(labelToRow(orgID, l)).Column("name", "name_key", "benefits", "colour", "updated_at").
		Where("org_id = ?", orgID).Where("id = ?", l.ID).Exec(ctx)
	return oneRow(res, err)
}

// LabelDelete implements crm.LabelStore. Assignments, memberships, their
// shares and benefit uses go with the label (ON DELETE CASCADE).
func (s *DB) LabelDelete(ctx context.Context, orgID, id string) error {
	res, err := s.db.NewDelete().Model((*labelRow)(nil)).Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// LabelList implements crm.LabelStore.
func (s *DB) LabelList(ctx context.Context, orgID string) ([]crm.Label, error) {
	var rows []labelRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("name_key, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Label, len(rows))
	for i, r := range rows {
		out[i] = crm.Label{ID: r.ID, Name: r.Name, Benefits: r.Benefits, Colour: r.Colour, Membership: r.Membership,
			CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
	}
	return out, nil
}

// LabelCustomerIDs implements crm.LabelStore.
func (s *DB) LabelCustomerIDs(ctx context.Context, orgID, labelID string) ([]string, error) {
	var ids []string
	err := s.db.NewSelect().Model((*customerLabelRow)(nil)).Column("customer_id").
		Where("org_id = ?", orgID).Where("label_id = ?", labelID).
		UnionAll(s.db.NewSelect().Model((*membershipRow)(nil)).ColumnExpr("holder_id").
			Where("org_id = ?", orgID).Where("label_id = ?", labelID)).
		UnionAll(s.db.NewSelect().TableExpr("membership_shares AS s").ColumnExpr("s.customer_id").
			Join("JOIN memberships AS m ON m.org_id = s.org_id AND m.id = s.membership_id").
			Where("s.org_id = ?", orgID).Where("m.label_id = ?", labelID)).
		Scan(ctx, &ids)
	if err != nil {
		return nil, interpretError(err)
	}
	return dedupe(ids, func(s string) string { return s }), nil
}

// CustomerLabelInsert implements crm.LabelStore.
func (s *DB) CustomerLabelInsert(ctx context.Context, l crm.CustomerLabelLink) error {
	_, err := s.db.NewInsert().Model(&customerLabelRow{OrgID: l.OrgID, CustomerID: l.CustomerID, LabelID: l.LabelID, AddedAt: l.AddedAt}).Exec(ctx)
	return interpretError(err)
}

// CustomerLabelDelete implements crm.LabelStore.
func (s *DB) CustomerLabelDelete(ctx context.Context, orgID, customerID, labelID string) error {
	res, err := s.db.NewDelete().Model((*customerLabelRow)(nil)).Where("org_id = ?", orgID).
		Where("customer_id = ?", customerID).Where("label_id = ?", labelID).Exec(ctx)
	return oneRow(res, err)
}

// CustomerLabelList implements crm.LabelStore.
func (s *DB) CustomerLabelList(ctx context.Context, orgID, customerID string) ([]crm.CustomerLabelLink, error) {
	var rows []customerLabelRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("added_at, label_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.CustomerLabelLink, len(rows))
	for i, r := range rows {
		out[i] = crm.CustomerLabelLink{OrgID: r.OrgID, CustomerID: r.CustomerID, LabelID: r.LabelID, AddedAt: utc(r.AddedAt)}
	}
	return out, nil
}

func membershipToRow(orgID string, m *crm.Membership) *membershipRow {
	return &membershipRow{ID: m.ID, OrgID: orgID, LabelID: m.LabelID, HolderID: m.HolderID, StartsOn: date{m.StartsOn},
		EndsOn: date{m.EndsOn}, CancelledAt: m.CancelledAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

// MembershipInsert implements crm.LabelStore.
func (s *DB) MembershipInsert(ctx context.Context, orgID string, m *crm.Membership) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if _, err := db.NewInsert().Model(membershipToRow(orgID, m)).Exec(ctx); err != nil {
			return interpretError(err)
		}
		return insertShares(ctx, db, orgID, m)
	})
}

func insertShares(ctx context.Context, db bun.IDB, orgID string, m *crm.Membership) error {
	rows := make([]membershipShareRow, len(m.SharedWith))
	for i, c := range m.SharedWith {
		rows[i] = membershipShareRow{OrgID: orgID, MembershipID: m.ID, CustomerID: c}
	}
	return insertAll(ctx, db, rows)
}

// MembershipGet implements crm.LabelStore.
func (s *DB) MembershipGet(ctx context.Context, orgID, id string) (*crm.Membership, error) {
	ms, err := s.memberships(ctx, s.db.NewSelect().Model((*membershipRow)(nil)).Where("org_id = ?", orgID).Where("id = ?", id), orgID)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, crm.ErrNotFound
	}
	return &ms[0], nil
}

// MembershipUpdate implements crm.LabelStore.
func (s *DB) MembershipUpdate(ctx context.Context, orgID string, m *crm.Membership) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		res, err := db.NewUpdate().Model(membershipToRow(orgID, m)).
			Column("holder_id", "starts_on", "ends_on", "cancelled_at", "updated_at").
			Where("org_id = ?", orgID).Where("id = ?", m.ID).Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if _, err := db.NewDelete().Model((*membershipShareRow)(nil)).
			Where("org_id = ?", orgID).Where("membership_id = ?", m.ID).Exec(ctx); err != nil {
			return interpretError(err)
		}
		return insertShares(ctx, db, orgID, m)
	})
}

// MembershipList implements crm.LabelStore.
func (s *DB) MembershipList(ctx context.Context, orgID, customerID string) ([]crm.Membership, error) {
	q := s.db.NewSelect().Model((*membershipRow)(nil)).Where("org_id = ?", orgID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("holder_id = ?", customerID).
				WhereOr("id IN (?)", s.db.NewSelect().Model((*membershipShareRow)(nil)).Column("membership_id").
					Where("org_id = ?", orgID).Where("customer_id = ?", customerID))
		}).OrderExpr("created_at DESC, id DESC")
	return s.memberships(ctx, q, orgID)
}

// memberships runs a membership query and fills in who each is shared with.
func (s *DB) memberships(ctx context.Context, q *bun.SelectQuery, orgID string) ([]crm.Membership, error) {
	var rows []membershipRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var shares []membershipShareRow
	if err := s.db.NewSelect().Model(&shares).Where("org_id = ?", orgID).Where("membership_id IN (?)", bun.List(ids)).
		OrderExpr("customer_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Membership, len(rows))
	for i, r := range rows {
		out[i] = crm.Membership{ID: r.ID, LabelID: r.LabelID, HolderID: r.HolderID, StartsOn: r.StartsOn.Date, EndsOn: r.EndsOn.Date,
			CancelledAt: utcPtr(r.CancelledAt), CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
		for _, sh := range shares {
			if sh.MembershipID == r.ID {
				out[i].SharedWith = append(out[i].SharedWith, sh.CustomerID)
			}
		}
	}
	return out, nil
}

// BenefitUseInsert implements crm.LabelStore.
func (s *DB) BenefitUseInsert(ctx context.Context, u *crm.BenefitUse) error {
	q := s.db.NewInsert().Model(&benefitUseRow{ID: u.ID, OrgID: u.OrgID, CustomerID: u.CustomerID, LabelID: u.LabelID,
		MembershipID: u.MembershipID, Note: u.Note, Channel: string(u.Channel), At: u.At, ActorKind: string(u.Actor.Kind), ActorID: u.Actor.ID})
	if u.Channel == "" {
		// The column's default: a use without a channel is written as it
		// was before the column existed (the migration tests write on older schemas).
		q = q.ExcludeColumn("channel")
	}
	_, err := q.Exec(ctx)
	return interpretError(err)
}

// BenefitUseCounts implements crm.LabelStore.
func (s *DB) BenefitUseCounts(ctx context.Context, orgID, customerID string) (map[string]int, error) {
	var rows []struct {
		LabelID string `bun:"label_id"`
		Count   int    `bun:"n"`
	}
	err := s.db.NewSelect().Model((*benefitUseRow)(nil)).ColumnExpr("label_id, count(*) AS n").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).GroupExpr("label_id").Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.LabelID] = r.Count
	}
	return counts, nil
}
