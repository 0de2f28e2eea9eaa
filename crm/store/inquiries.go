package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

type inquiryRow struct {
	bun.BaseModel `bun:"table:inquiries,alias:i"`

	OrgID          string            `bun:"org_id,pk"`
	ID             string            `bun:"id,pk"`
	CustomerID     string            `bun:"customer_id"`
	Title          string            `bun:"title"`
	Destination    string            `bun:"destination"`
	Period         string            `bun:"period"`
	Duration       int               `bun:"duration"`
	BudgetAmount   *int64            `bun:"budget_amount"`
	BudgetCurrency string            `bun:"budget_currency"`
	Travellers     int               `bun:"travellers"`
	Board          string            `bun:"board"`
	Notes          string            `bun:"notes"`
	Fields         map[string]string `bun:"fields,type:jsonb"`
	SearchText     string            `bun:"search_text"`
	Status         string            `bun:"status"`
	PlannedOn      *date             `bun:"planned_on"`
	HandlerID      string            `bun:"handler_id"`
	Visibility     string            `bun:"visibility"`
	VisibleTo      string            `bun:"visible_to"`
	CreatedBy      string            `bun:"created_by"`
	CreatedAt      time.Time         `bun:"created_at"`
	UpdatedAt      time.Time         `bun:"updated_at"`
	ClosedAt       *time.Time        `bun:"closed_at"`
	Version        int               `bun:"version"`
}

func inquiryToRow(orgID string, q *crm.Inquiry) *inquiryRow {
	r := &inquiryRow{OrgID: orgID, ID: q.ID, CustomerID: q.CustomerID, Title: q.Title, Destination: q.Destination,
		Period: q.Period, Duration: q.Duration, Travellers: q.Travellers, Board: q.Board, Notes: q.Notes, Fields: q.Fields,
		SearchText: i18n.SearchKey(q.Title + " " + q.Destination), Status: string(q.Status), PlannedOn: toDate(q.PlannedOn),
		HandlerID: q.HandlerID, Visibility: string(q.Visibility), VisibleTo: q.VisibleTo, CreatedBy: q.CreatedBy,
		CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt, ClosedAt: q.ClosedAt, Version: q.Version}
	if q.Budget != nil {
		r.BudgetAmount, r.BudgetCurrency = &q.Budget.Amount, q.Budget.Currency
	}
	return r
}

func (r *inquiryRow) toDomain() crm.Inquiry {
	q := crm.Inquiry{ID: r.ID, CustomerID: r.CustomerID, InquiryFields: crm.InquiryFields{Title: r.Title,
		Destination: r.Destination, Period: r.Period, Duration: r.Duration, Travellers: r.Travellers, Board: r.Board,
		Notes: r.Notes, Fields: r.Fields, Status: crm.InquiryStatus(r.Status), PlannedOn: r.PlannedOn.domain(),
		HandlerID: r.HandlerID, Visibility: crm.InquiryVisibility(r.Visibility), VisibleTo: r.VisibleTo},
		CreatedBy: r.CreatedBy, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), ClosedAt: utcPtr(r.ClosedAt), Version: r.Version}
	if r.BudgetAmount != nil {
		q.Budget = &crm.Money{Amount: *r.BudgetAmount, Currency: r.BudgetCurrency}
	}
	return q
}

type inquiryEventRow struct {
	bun.BaseModel `bun:"table:inquiry_events"`

	OrgID      string            `bun:"org_id,pk"`
	ID         string            `bun:"id,pk"`
	InquiryID  string            `bun:"inquiry_id"`
	CustomerID string            `bun:"customer_id"`
	Kind       string            `bun:"kind"`
	ActorKind  string            `bun:"actor_kind"`
	ActorID    string            `bun:"actor_id"`
	At         time.Time         `bun:"at"`
	Changes    []crm.FieldChange `bun:"changes,type:jsonb"`
	Comment    string            `bun:"comment"`
}

// visibleTo keeps the inquiries (under alias) v may see: its own (as
// handler or creator), the company's, those shown to it by name, and
// those shown to one of its departments. Every read of inquiries goes
// through it.
func visibleTo(q *bun.SelectQuery, alias string, v crm.Viewer) *bun.SelectQuery {
	if v.All {
		return q
	}
	if v.StaffID == "" {
		return q.Where("1 = 0")
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where(alias+".visibility = ?", crm.VisibleToCompany).
			WhereOr(alias+".handler_id = ?", v.StaffID).
			WhereOr(alias+".created_by = ?", v.StaffID).
			WhereOr("("+alias+".visibility = ? AND "+alias+".visible_to = ?)", crm.VisibleToPerson, v.StaffID)
		if len(v.Departments) > 0 {
			q = q.WhereOr("("+alias+".visibility = ? AND "+alias+".visible_to IN (?))", crm.VisibleToDepartment, bun.List(v.Departments))
		}
		return q
	})
}

// InquiryInsert implements crm.InquiryStore.
func (s *DB) InquiryInsert(ctx context.Context, orgID string, q *crm.Inquiry) error {
	_, err := s.db.NewInsert().Model(inquiryToRow(orgID, q)).Exec(ctx)
	return interpretError(err)
}

// InquiryUpdate implements crm.InquiryStore.
func (s *DB) InquiryUpdate(ctx context.Context, orgID string, q *crm.Inquiry, expectedVersion int) error {
	res, err := s.db.NewUpdate().Model(inquiryToRow(orgID, q)).ExcludeColumn("org_id", "id", "customer_id", "created_by", "created_at").
		Where("org_id = ?", orgID).Where("id = ?", q.ID).Where("version = ?", expectedVersion).Exec(ctx)
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			return crm.ErrStaleVersion
		}
		return err
	}
	return nil
}

// InquiryGet implements crm.InquiryStore.
func (s *DB) InquiryGet(ctx context.Context, orgID string, v crm.Viewer, id string) (*crm.Inquiry, error) {
	var row inquiryRow
	q := s.db.NewSelect().Model(&row).Where("i.org_id = ?", orgID).Where("i.id = ?", id)
	if err := visibleTo(q, "i", v).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := row.toDomain()
	return &out, nil
}

// inquiryQuery is the query of the inquiries p selects.
func (s *DB) inquiryQuery(q *bun.SelectQuery, p crm.InquiryListParams) *bun.SelectQuery {
	q = visibleTo(q.Where("i.org_id = ?", p.OrgID), "i", p.Viewer)
	if p.CustomerID != "" {
		q = q.Where("i.customer_id = ?", p.CustomerID)
	}
	if p.HandlerID != "" {
		q = q.Where("i.handler_id = ?", p.HandlerID)
	}
	if len(p.Status) > 0 {
		statuses := make([]string, len(p.Status))
		for i, st := range p.Status {
			statuses[i] = string(st)
		}
		q = q.Where("i.status IN (?)", bun.List(statuses))
	}
	if p.Open || p.Overdue {
		q = q.Where("i.closed_at IS NULL")
	}
	if p.Overdue {
		q = q.Where("i.planned_on < ?", toDate(&p.Today))
	}
	if p.PlannedFrom != nil {
		q = q.Where("i.planned_on >= ?", toDate(p.PlannedFrom))
	}
	if p.PlannedTo != nil {
		q = q.Where("i.planned_on <= ?", toDate(p.PlannedTo))
	}
	if p.Search != "" {
		q = q.Where("i.search_text LIKE ? ESCAPE '\\'", "%"+escapeLike(i18n.SearchKey(p.Search))+"%")
	}
	return q
}

// InquiryList implements crm.InquiryStore, newest first.
func (s *DB) InquiryList(ctx context.Context, p crm.InquiryListParams) ([]crm.Inquiry, error) {
	var rows []inquiryRow
	q := s.inquiryQuery(s.db.NewSelect().Model(&rows), p)
	if p.After != "" {
		q = q.Where("i.id < ?", p.After)
	}
	if err := q.OrderExpr("i.id DESC").Limit(int64(p.Limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Inquiry, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// InquiryCount implements crm.InquiryStore.
func (s *DB) InquiryCount(ctx context.Context, p crm.InquiryListParams) (int64, error) {
	n, err := s.inquiryQuery(s.db.NewSelect().TableExpr("inquiries AS i"), p).Count(ctx)
	return int64(n), interpretError(err)
}

// InquiryEventAppend implements crm.InquiryStore; each event carries its
// inquiry's customer, for the export and anonymisation.
func (s *DB) InquiryEventAppend(ctx context.Context, orgID string, events ...crm.InquiryEvent) error {
	rows := make([]inquiryEventRow, len(events))
	for i, e := range events {
		rows[i] = inquiryEventRow{OrgID: orgID, ID: e.ID, InquiryID: e.InquiryID, Kind: string(e.Kind),
			ActorKind: string(e.Actor.Kind), ActorID: e.Actor.ID, At: e.At, Changes: e.Changes, Comment: e.Comment}
	}
	return s.atomic(ctx, func(db bun.IDB) error {
		for i := range rows {
			if err := db.NewSelect().Model((*inquiryRow)(nil)).Column("customer_id").
				Where("org_id = ?", orgID).Where("id = ?", rows[i].InquiryID).Scan(ctx, &rows[i].CustomerID); err != nil {
				return interpretError(err)
			}
		}
		return insertAll(ctx, db, rows)
	})
}

// InquiryEvents implements crm.InquiryStore, oldest first.
func (s *DB) InquiryEvents(ctx context.Context, orgID, inquiryID string) ([]crm.InquiryEvent, error) {
	var rows []inquiryEventRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("inquiry_id = ?", inquiryID).
		OrderExpr("at, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.InquiryEvent, len(rows))
	for i, r := range rows {
		out[i] = crm.InquiryEvent{ID: r.ID, InquiryID: r.InquiryID, Kind: crm.InquiryEventKind(r.Kind),
			Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, At: utc(r.At), Changes: r.Changes, Comment: r.Comment}
	}
	return out, nil
}

// InquiryOutcomes implements crm.InquiryStore: the inquiries of the
// customers the report's filter selects (joined as every report joins
// them), visible to v, by handler and status.
func (s *DB) InquiryOutcomes(ctx context.Context, q crm.ReportQuery, v crm.Viewer, from, to time.Time) ([]crm.ReportGroup, error) {
	sel, err := s.restrict(ctx, q, "inquiries AS i", "i", "i.handler_id AS k1, i.status AS k2, count(*) AS n, 0 AS s")
	if err != nil {
		return nil, err
	}
	sel = visibleTo(sel, "i", v)
	if !from.IsZero() {
		sel = sel.Where("i.created_at >= ?", from)
	}
	if !to.IsZero() {
		sel = sel.Where("i.created_at < ?", to)
	}
	return groups(ctx, sel.GroupExpr("1, 2"))
}

// anonymiseInquiries clears what a customer asked for and what staff wrote
// about it; the inquiries stay, for the counts of won and lost.
func anonymiseInquiries(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	if _, err := db.NewUpdate().Model((*inquiryRow)(nil)).
		Set("title = ''").Set("destination = ''").Set("period = ''").Set("board = ''").Set("notes = ''").
		Set("fields = NULL").Set("search_text = ''").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx); err != nil {
		return interpretError(err)
	}
	var rows []inquiryEventRow
	if err := db.NewSelect().Model(&rows).Column("id", "changes").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return interpretError(err)
	}
	for _, r := range rows {
		redacted := make([]crm.FieldChange, len(r.Changes))
		for i, c := range r.Changes {
			redacted[i] = crm.FieldChange{Field: c.Field}
		}
		r.Changes, r.Comment = redacted, ""
		if _, err := db.NewUpdate().Model(&r).Column("changes", "comment").
			Where("org_id = ?", orgID).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return interpretError(err)
		}
	}
	return nil
}

// InquiryTimeline implements crm.InquiryTimelineStore: the events of the
// customer's inquiries (by the events' customer column, kept with the
// inquiry's), joined to their inquiries for the visibility filter.
func (s *DB) InquiryTimeline(ctx context.Context, p crm.InquiryTimelineParams) ([]crm.InquiryEvent, error) {
	var rows []inquiryEventRow
	q := s.db.NewSelect().Model(&rows).ColumnExpr("e.*").ModelTableExpr("inquiry_events AS e").
		Join("JOIN inquiries AS i ON i.org_id = e.org_id AND i.id = e.inquiry_id").
		Where("e.org_id = ?", p.OrgID).Where("e.customer_id = ?", p.CustomerID).
		OrderExpr("e.at DESC, e.id DESC").Limit(int64(p.Limit))
	if p.BeforeID != "" {
		q = q.Where("(e.at < ? OR (e.at = ? AND e.id < ?))", p.BeforeAt, p.BeforeAt, p.BeforeID)
	}
	if err := visibleTo(q, "i", p.Viewer).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.InquiryEvent, len(rows))
	for i, r := range rows {
		out[i] = crm.InquiryEvent{ID: r.ID, InquiryID: r.InquiryID, Kind: crm.InquiryEventKind(r.Kind),
			Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, At: utc(r.At), Changes: r.Changes, Comment: r.Comment}
	}
	return out, nil
}
