package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type bookingRow struct {
	bun.BaseModel `bun:"table:bookings"`

	OrgID              string            `bun:"org_id,pk"`
	ID                 string            `bun:"id,pk"`
	Reference          string            `bun:"reference"`
	CustomerID         string            `bun:"customer_id"`
	CustomerNumber     int64             `bun:"customer_number"`
	Kind               string            `bun:"kind"`
	Status             string            `bun:"status"`
	PlatformStatus     string            `bun:"platform_status"`
	Channel            string            `bun:"channel"`
	RegisteredOn       date              `bun:"registered_on"`
	StartsOn           *date             `bun:"starts_on"`
	StartsAt           *time.Time        `bun:"starts_at"`
	EndsOn             *date             `bun:"ends_on"`
	EndsAt             *time.Time        `bun:"ends_at"`
	ListDay            date              `bun:"list_day"`
	DestinationCountry string            `bun:"destination_country"`
	DestinationPlace   string            `bun:"destination_place"`
	PlaceKey           string            `bun:"place_key"`
	Venue              string            `bun:"venue"`
	Description        string            `bun:"description"`
	Lines              []crm.BookingLine `bun:"booking_lines,type:jsonb"`
	Labels             []string          `bun:"labels,type:jsonb"`
	Participants       []string          `bun:"participants,type:jsonb"`
	Total              int64             `bun:"total"`
	Currency           string            `bun:"currency"`
	Invoiced           bool              `bun:"invoiced"`
	InvoiceNumber      string            `bun:"invoice_number"`
	DepositDue         *date             `bun:"deposit_due"`
	DepositAmount      *int64            `bun:"deposit_amount"`
	DepositPaid        *int64            `bun:"deposit_paid"`
	FinalDue           *date             `bun:"final_due"`
	FinalAmount        *int64            `bun:"final_amount"`
	FinalPaid          *int64            `bun:"final_paid"`
	NextDueOn          *date             `bun:"next_due_on"`
	Link               string            `bun:"link"`
	SourceVersion      int64             `bun:"source_version"`
	SourceUpdatedAt    *time.Time        `bun:"source_updated_at"`
	InformedAt         *time.Time        `bun:"informed_at"`
	InformedByKind     *string           `bun:"informed_by_kind"`
	InformedByID       *string           `bun:"informed_by_id"`
	LastReminderAt     *time.Time        `bun:"last_reminder_at"`
	CreatedAt          time.Time         `bun:"created_at"`
	UpdatedAt          time.Time         `bun:"updated_at"`
	RowVersion         int               `bun:"row_version"`
}

// bookingWorkRow is a booking with its customer's name, for worklists.
type bookingWorkRow struct {
	bookingRow `bun:",extend"`

	FirstName string `bun:"first_name"`
	LastName  string `bun:"last_name"`
	Company   string `bun:"company"`
}

func payment(due *date, amount, paid *int64) *crm.Payment {
	if due == nil || amount == nil {
		return nil
	}
	p := &crm.Payment{DueOn: due.Date, Amount: *amount}
	if paid != nil {
		p.Paid = *paid
	}
	return p
}

func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := utc(*t)
	return &v
}

func (r *bookingRow) toDomain() crm.Booking {
	b := crm.Booking{
		ID: r.ID, Reference: r.Reference, CustomerID: r.CustomerID, CustomerNumber: r.CustomerNumber,
		Kind: crm.BookingKind(r.Kind), Status: crm.BookingStatus(r.Status), PlatformStatus: r.PlatformStatus,
		Channel: crm.BookingChannel(r.Channel), RegisteredOn: r.RegisteredOn.Date,
		StartsOn: r.StartsOn.domain(), StartsAt: optTime(r.StartsAt), EndsOn: r.EndsOn.domain(), EndsAt: optTime(r.EndsAt),
		DestinationCountry: r.DestinationCountry, DestinationPlace: r.DestinationPlace, Venue: r.Venue,
		Description: r.Description, Lines: r.Lines, Total: r.Total, Currency: r.Currency, Labels: r.Labels,
		Invoiced: r.Invoiced, InvoiceNumber: r.InvoiceNumber,
		Deposit: payment(r.DepositDue, r.DepositAmount, r.DepositPaid), Final: payment(r.FinalDue, r.FinalAmount, r.FinalPaid),
		Participants: r.Participants, Link: r.Link, SourceVersion: r.SourceVersion, SourceUpdatedAt: optTime(r.SourceUpdatedAt),
		InformedAt: optTime(r.InformedAt), LastReminderAt: optTime(r.LastReminderAt),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), RowVersion: r.RowVersion,
	}
	if r.InformedByKind != nil {
		a := crm.Actor{Kind: crm.ActorKind(*r.InformedByKind)}
		if r.InformedByID != nil {
			a.ID = *r.InformedByID
		}
		b.InformedBy = &a
	}
	b.NextPayment = nextPaymentOf(&b)
	return b
}

// nextPaymentOf mirrors crm's rule (the first payment not paid in full),
// for the stored next_due_on column and for reads.
func nextPaymentOf(b *crm.Booking) *crm.PaymentDue {
	if b.Status == crm.StatusCancelled || b.Status == crm.StatusDeleted {
		return nil
	}
	for _, p := range []struct {
		kind crm.PaymentKind
		p    *crm.Payment
	}{{crm.PaymentDeposit, b.Deposit}, {crm.PaymentFinal, b.Final}} {
		if p.p != nil && p.p.Paid < p.p.Amount {
			return &crm.PaymentDue{Kind: p.kind, DueOn: p.p.DueOn, Amount: p.p.Amount, Paid: p.p.Paid, Missing: p.p.Amount - p.p.Paid}
		}
	}
	return nil
}

// bookingToRow is the row of b. placeKeys, when not nil, keeps the place
// keys made so far (a batch names the same few destinations again and again).
func bookingToRow(orgID string, b *crm.Booking, placeKeys map[string]string) *bookingRow {
	key, ok := placeKeys[b.DestinationPlace]
	if !ok {
		key = crm.PlaceKey(b.DestinationPlace)
		if placeKeys != nil {
			placeKeys[b.DestinationPlace] = key
		}
	}
	r := &bookingRow{
		OrgID: orgID, ID: b.ID, Reference: b.Reference, CustomerID: b.CustomerID, CustomerNumber: b.CustomerNumber,
		Kind: string(b.Kind), Status: string(b.Status), PlatformStatus: b.PlatformStatus, Channel: string(b.Channel),
		RegisteredOn: date{b.RegisteredOn}, StartsOn: toDate(b.StartsOn), StartsAt: b.StartsAt, EndsOn: toDate(b.EndsOn), EndsAt: b.EndsAt,
		ListDay: date{b.Day()}, DestinationCountry: b.DestinationCountry, DestinationPlace: b.DestinationPlace,
		PlaceKey: key, Venue: b.Venue, Description: b.Description,
		Lines: b.Lines, Labels: b.Labels, Participants: b.Participants, Total: b.Total, Currency: b.Currency,
		Invoiced: b.Invoiced, InvoiceNumber: b.InvoiceNumber, Link: b.Link, SourceVersion: b.SourceVersion,
		SourceUpdatedAt: b.SourceUpdatedAt, InformedAt: b.InformedAt, LastReminderAt: b.LastReminderAt,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, RowVersion: b.RowVersion,
	}
	if len(r.Lines) == 0 {
		r.Lines = nil
	}
	if len(r.Labels) == 0 {
		r.Labels = nil
	}
	if len(r.Participants) == 0 {
		r.Participants = nil
	}
	if p := b.Deposit; p != nil {
		r.DepositDue, r.DepositAmount, r.DepositPaid = toDate(&p.DueOn), &p.Amount, &p.Paid
	}
	if p := b.Final; p != nil {
		r.FinalDue, r.FinalAmount, r.FinalPaid = toDate(&p.DueOn), &p.Amount, &p.Paid
	}
	if due := nextPaymentOf(b); due != nil {
		r.NextDueOn = toDate(&due.DueOn)
	}
	if a := b.InformedBy; a != nil {
		kind, id := string(a.Kind), a.ID
		r.InformedByKind, r.InformedByID = &kind, &id
	}
	return r
}

// BookingGet implements crm.BookingStore.
func (s *DB) BookingGet(ctx context.Context, orgID, reference string) (*crm.Booking, error) {
	var row bookingRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("reference = ?", reference).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	b := row.toDomain()
	return &b, nil
}

// BookingGetMany implements crm.BookingStore.
func (s *DB) BookingGetMany(ctx context.Context, orgID string, references []string) (map[string]*crm.Booking, error) {
	out := make(map[string]*crm.Booking, len(references))
	if len(references) == 0 {
		return out, nil
	}
	var rows []bookingRow
	// Marked: a batch upsert reads its stored bookings with this statement,
	// compiled once on SQLite for each number of references.
	if err := s.db.NewSelect().Comment(preparedComment).Model(&rows).Where("org_id = ?", orgID).Where("reference IN (?)", bun.List(references)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	for i := range rows {
		b := rows[i].toDomain()
		out[b.Reference] = &b
	}
	return out, nil
}

// BookingInsertMany implements crm.BookingStore, in one statement. It
// reads nothing back: without Returning("NULL") bun would add RETURNING
// for every column left NULL (15 of them) and scan the rows it gave.
func (s *DB) BookingInsertMany(ctx context.Context, orgID string, bs []*crm.Booking) error {
	if len(bs) == 0 {
		return nil
	}
	rows := make([]bookingRow, len(bs))
	placeKeys := map[string]string{}
	for i, b := range bs {
		b.RowVersion = 1
		rows[i] = *bookingToRow(orgID, b, placeKeys)
	}
	if s.dialect.name == sqliteDialect.name {
		return s.sqliteBookingInsert(ctx, rows)
	}
	_, err := s.db.NewInsert().Model(&rows).Returning("NULL").Exec(ctx)
	return interpretError(err)
}

// BookingCustomers implements crm.BookingStore: one UPDATE touches (and
// locks) the leads and returns their numbers; one SELECT reads the other
// customers named (participants, and leads the UPDATE did not touch:
// anonymised or unknown), when there are any.
func (s *DB) BookingCustomers(ctx context.Context, orgID string, leads, others []string, at time.Time) (map[string]crm.BookingCustomer, error) {
	out := map[string]crm.BookingCustomer{}
	type customer struct {
		ID           string     `bun:"id"`
		Number       int64      `bun:"number"`
		AnonymisedAt *time.Time `bun:"anonymised_at"`
	}
	if len(leads) > 0 {
		var touched []customer
		// Marked, like the read of the stored bookings (BookingGetMany).
		if err := s.db.NewUpdate().Comment(preparedComment).Model((*customerRow)(nil)).Set("last_activity_at = ?", at).
			Where("org_id = ?", orgID).Where("id IN (?)", bun.List(leads)).Where("anonymised_at IS NULL").
			Returning("id, number").Scan(ctx, &touched); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, interpretError(err)
		}
		for _, c := range touched {
			out[c.ID] = crm.BookingCustomer{Number: c.Number}
		}
	}
	var ids []string
	for _, id := range append(slices.Clone(leads), others...) {
		if _, ok := out[id]; !ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var rows []customer
	if err := s.db.NewSelect().Model((*customerRow)(nil)).Column("id", "number", "anonymised_at").
		Where("org_id = ?", orgID).Where("id IN (?)", bun.List(ids)).Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	for _, r := range rows {
		out[r.ID] = crm.BookingCustomer{Number: r.Number, Anonymised: r.AnonymisedAt != nil}
	}
	return out, nil
}

// BookingUpdate implements crm.BookingStore.
func (s *DB) BookingUpdate(ctx context.Context, orgID string, b *crm.Booking, expected int) error {
	b.RowVersion = expected + 1
	res, err := s.db.NewUpdate().Model(bookingToRow(orgID, b, nil)).ExcludeColumn("org_id", "id", "created_at").
		Where("org_id = ?", orgID).Where("id = ?", b.ID).Where("row_version = ?", expected).Exec(ctx)
	if err := oneRow(res, err); err != nil {
		b.RowVersion = expected
		if errors.Is(err, crm.ErrNotFound) {
			return crm.ErrConflict
		}
		return err
	}
	return nil
}

// BookingList implements crm.BookingStore.
func (s *DB) BookingList(ctx context.Context, p crm.BookingListParams) ([]crm.Booking, error) {
	var rows []bookingRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.CustomerID)
	today := date{p.Today}
	switch p.Group {
	case crm.GroupUpcoming:
		q = q.Where("status <> ?", crm.StatusDeleted).Where("list_day >= ?", today)
	case crm.GroupPast:
		q = q.Where("status <> ?", crm.StatusDeleted).Where("list_day < ?", today)
	case crm.GroupDeleted:
		q = q.Where("status = ?", crm.StatusDeleted)
	}
	if p.BeforeID != "" {
		d := date{p.BeforeDay}
		q = q.Where("(list_day < ? OR (list_day = ? AND id < ?))", d, d, p.BeforeID)
	}
	if err := q.OrderExpr("list_day DESC, id DESC").Limit(int64(p.Limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Booking, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// BookingStats implements crm.BookingStore.
func (s *DB) BookingStats(ctx context.Context, orgID, customerID string, today crm.Date) (*crm.BookingStats, error) {
	var rows []struct {
		Status   string `bun:"status"`
		Upcoming int    `bun:"upcoming"`
		Currency string `bun:"currency"`
		N        int    `bun:"n"`
		Sum      int64  `bun:"sum"`
	}
	err := s.db.NewSelect().TableExpr("bookings").
		ColumnExpr("status").ColumnExpr("CASE WHEN list_day >= ? THEN 1 ELSE 0 END AS upcoming", date{today}).
		ColumnExpr("currency").ColumnExpr("count(*) AS n").ColumnExpr("CAST(sum(total) AS bigint) AS sum").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		GroupExpr("1, 2, 3").OrderExpr("3").Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	out := &crm.BookingStats{LifetimeValue: []crm.Money{}}
	for _, r := range rows {
		switch st := crm.BookingStatus(r.Status); {
		case st == crm.StatusDeleted:
			out.Deleted += r.N
			continue
		case st == crm.StatusCancelled:
			out.Cancelled += r.N
		case st != crm.StatusOption:
			if n := len(out.LifetimeValue); n > 0 && out.LifetimeValue[n-1].Currency == r.Currency {
				out.LifetimeValue[n-1].Amount += r.Sum
			} else {
				out.LifetimeValue = append(out.LifetimeValue, crm.Money{Amount: r.Sum, Currency: r.Currency})
			}
		}
		if r.Upcoming == 1 {
			out.Upcoming += r.N
		} else {
			out.Past += r.N
		}
	}
	return out, nil
}

// worklist reads a page of bookings with their customers' names, by
// (day column, id), from the index on that column.
func (s *DB) worklist(ctx context.Context, p crm.WorklistParams, day string, extra func(*bun.SelectQuery) *bun.SelectQuery) ([]crm.WorklistItem, error) {
	var rows []bookingWorkRow
	q := s.db.NewSelect().TableExpr("bookings AS b").
		ColumnExpr("b.*").ColumnExpr("c.first_name, c.last_name, c.company").
		Join("JOIN customers AS c ON c.org_id = b.org_id AND c.id = b.customer_id").
		Where("b.org_id = ?", p.OrgID).Where("b."+day+" <= ?", date{p.To})
	if !p.Overdue {
		q = q.Where("b."+day+" >= ?", date{p.From})
	} else {
		q = q.Where("b." + day + " IS NOT NULL")
	}
	if p.AfterID != "" {
		d := date{p.AfterDay}
		q = q.Where("(b."+day+" > ? OR (b."+day+" = ? AND b.id > ?))", d, d, p.AfterID)
	}
	q = extra(q).OrderExpr("b." + day + ", b.id").Limit(int64(p.Limit))
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.WorklistItem, len(rows))
	for i := range rows {
		out[i] = crm.WorklistItem{Booking: rows[i].toDomain(), CustomerName: crm.CustomerName(rows[i].FirstName, rows[i].LastName, rows[i].Company)}
	}
	return out, nil
}

// BookingDepartures implements crm.BookingStore.
func (s *DB) BookingDepartures(ctx context.Context, p crm.WorklistParams) ([]crm.WorklistItem, error) {
	return s.worklist(ctx, p, "starts_on", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("b.status NOT IN (?)", bun.List([]crm.BookingStatus{crm.StatusCancelled, crm.StatusDeleted}))
	})
}

// BookingPaymentsDue implements crm.BookingStore. next_due_on is NULL for
// bookings paid in full, cancelled or deleted.
func (s *DB) BookingPaymentsDue(ctx context.Context, p crm.WorklistParams) ([]crm.WorklistItem, error) {
	return s.worklist(ctx, p, "next_due_on", func(q *bun.SelectQuery) *bun.SelectQuery {
		if p.NotRemindedSince != nil {
			q = q.Where("(b.last_reminder_at IS NULL OR b.last_reminder_at < ?)", *p.NotRemindedSince)
		}
		return q
	})
}

type bookingReminderRow struct {
	bun.BaseModel `bun:"table:booking_reminders"`

	OrgID     string    `bun:"org_id,pk"`
	ID        string    `bun:"id,pk"`
	BookingID string    `bun:"booking_id"`
	Channel   string    `bun:"channel"`
	Payment   string    `bun:"payment"`
	Missing   int64     `bun:"missing"`
	Note      string    `bun:"note"`
	ActorKind string    `bun:"actor_kind"`
	ActorID   string    `bun:"actor_id"`
	At        time.Time `bun:"at"`
}

// BookingParticipations implements crm.BookingStore. No index leads to a
// participant: the statement reads the organisation's bookings that have
// participants, their JSON compared as text (as merge does), and the exact
// match is made here. An export is rare; its cost is one pass over the
// bookings table.
func (s *DB) BookingParticipations(ctx context.Context, orgID, customerID string) ([]crm.Booking, error) {
	var rows []bookingRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("participants IS NOT NULL").
		Where("CAST(participants AS TEXT) LIKE ? ESCAPE '\\'", "%"+escapeLike(customerID)+"%").OrderExpr("list_day, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Booking, 0, len(rows))
	for i := range rows {
		if rows[i].CustomerID != customerID && slices.Contains(rows[i].Participants, customerID) {
			out = append(out, rows[i].toDomain())
		}
	}
	return out, nil
}

// BookingReminderInsert implements crm.BookingStore.
func (s *DB) BookingReminderInsert(ctx context.Context, orgID string, r *crm.PaymentReminder) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if _, err := db.NewInsert().Model(&bookingReminderRow{OrgID: orgID, ID: r.ID, BookingID: r.BookingID, Channel: r.Channel,
			Payment: string(r.Payment), Missing: r.Missing, Note: r.Note, ActorKind: string(r.Actor.Kind), ActorID: r.Actor.ID,
			At: r.At}).Exec(ctx); err != nil {
			return interpretError(err)
		}
		res, err := db.NewUpdate().Model((*bookingRow)(nil)).Set("last_reminder_at = ?", r.At).Set("row_version = row_version + 1").
			Where("org_id = ?", orgID).Where("id = ?", r.BookingID).Exec(ctx)
		return oneRow(res, err)
	})
}

// BookingReminderList implements crm.BookingStore.
func (s *DB) BookingReminderList(ctx context.Context, orgID, customerID string) ([]crm.PaymentReminder, error) {
	var rows []struct {
		bookingReminderRow `bun:",extend"`
		Reference          string `bun:"reference"`
	}
	err := s.db.NewSelect().TableExpr("booking_reminders AS r").ColumnExpr("r.*, b.reference").
		Join("JOIN bookings AS b ON b.org_id = r.org_id AND b.id = r.booking_id").
		Where("r.org_id = ?", orgID).Where("b.customer_id = ?", customerID).OrderExpr("r.at, r.id").Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.PaymentReminder, len(rows))
	for i, r := range rows {
		out[i] = crm.PaymentReminder{ID: r.ID, BookingID: r.BookingID, Reference: r.Reference, Channel: r.Channel,
			Payment: crm.PaymentKind(r.Payment), Missing: r.Missing, Note: r.Note,
			Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, At: utc(r.At)}
	}
	return out, nil
}

type bookingSettingsRow struct {
	bun.BaseModel `bun:"table:booking_settings"`

	OrgID     string                       `bun:"org_id,pk"`
	TimeZone  string                       `bun:"time_zone"`
	StatusMap map[string]crm.BookingStatus `bun:"status_map,type:jsonb"`
	UpdatedAt time.Time                    `bun:"updated_at"`
}

// BookingSettingsGet implements crm.BookingStore.
func (s *DB) BookingSettingsGet(ctx context.Context, orgID string) (*crm.BookingSettings, error) {
	var row bookingSettingsRow
	err := s.db.NewSelect().Comment(preparedComment).Model(&row).Where("org_id = ?", orgID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return &crm.BookingSettings{}, nil
	}
	if err != nil {
		return nil, interpretError(err)
	}
	return &crm.BookingSettings{TimeZone: row.TimeZone, StatusMap: row.StatusMap, UpdatedAt: utc(row.UpdatedAt)}, nil
}

// BookingSettingsSet implements crm.BookingStore.
func (s *DB) BookingSettingsSet(ctx context.Context, orgID string, set *crm.BookingSettings) error {
	_, err := s.db.NewInsert().Model(&bookingSettingsRow{OrgID: orgID, TimeZone: set.TimeZone, StatusMap: set.StatusMap, UpdatedAt: set.UpdatedAt}).
		On("CONFLICT (org_id) DO UPDATE").
		Set("time_zone = EXCLUDED.time_zone").Set("status_map = EXCLUDED.status_map").Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return interpretError(err)
}

// bookingFilter adds the booking criteria of a customer filter, on the
// customers' numbers (number is the qualified column): the customers with
// a booking matching all single-booking criteria, and those whose
// bookings' count and last day are in range.
func (s *DB) bookingFilter(q *bun.SelectQuery, number, orgID string, c crm.BookingConditions) *bun.SelectQuery {
	if c.One {
		sub := s.db.NewSelect().TableExpr("bookings AS bk").ColumnExpr("bk.customer_number").Where("bk.org_id = ?", orgID)
		if c.DestinationCountry != "" {
			sub = sub.Where("bk.destination_country = ?", c.DestinationCountry)
		}
		if c.PlaceKey != "" {
			sub = sub.Where("bk.place_key = ?", c.PlaceKey)
		}
		if c.DepartureFrom != nil {
			sub = sub.Where("bk.starts_on >= ?", toDate(c.DepartureFrom))
		}
		if c.DepartureTo != nil {
			sub = sub.Where("bk.starts_on <= ?", toDate(c.DepartureTo))
		}
		if c.Currency != "" {
			sub = sub.Where("bk.currency = ?", c.Currency)
		}
		if c.ValueMin != nil {
			sub = sub.Where("bk.total >= ?", *c.ValueMin)
		}
		if c.ValueMax != nil {
			sub = sub.Where("bk.total <= ?", *c.ValueMax)
		}
		if len(c.Statuses) == 1 {
			sub = sub.Where("bk.status = ?", c.Statuses[0])
		} else {
			sub = sub.Where("bk.status IN (?)", bun.List(c.Statuses))
		}
		if c.Channel != "" {
			sub = sub.Where("bk.channel = ?", c.Channel)
		}
		if c.Kind != "" {
			sub = sub.Where("bk.kind = ?", c.Kind)
		}
		q = q.Where(number+" IN (?)", sub)
	}
	if c.CountMin == nil && c.CountMax == nil && c.LastFrom == nil && c.LastTo == nil {
		return q
	}
	// Grouped by customer id on bookings_customer_idx, which carries the
	// status, the registered day and the customer number: every booking of
	// a customer has the customer's number, max() names it.
	grouped := func() *bun.SelectQuery {
		return s.db.NewSelect().TableExpr("bookings AS bc").ColumnExpr("max(bc.customer_number)").Where("bc.org_id = ?", orgID).
			Where("bc.status NOT IN (?)", bun.List([]crm.BookingStatus{crm.StatusCancelled, crm.StatusDeleted})).
			GroupExpr("bc.customer_id")
	}
	needsOne := (c.CountMin != nil && *c.CountMin > 0) || c.LastFrom != nil || c.LastTo != nil
	if !needsOne {
		// Zero bookings qualify: leave out those with more than CountMax.
		if c.CountMax != nil {
			q = q.Where(number+" NOT IN (?)", grouped().Having("count(*) > ?", *c.CountMax))
		}
		return q
	}
	g := grouped()
	if c.CountMin != nil {
		g = g.Having("count(*) >= ?", *c.CountMin)
	}
	if c.CountMax != nil {
		g = g.Having("count(*) <= ?", *c.CountMax)
	}
	if c.LastFrom != nil {
		g = g.Having("max(bc.registered_on) >= ?", toDate(c.LastFrom))
	}
	if c.LastTo != nil {
		g = g.Having("max(bc.registered_on) <= ?", toDate(c.LastTo))
	}
	return q.Where(number+" IN (?)", g)
}

// anonymiseBookings keeps the customer's bookings (the platform's
// invoices need them) but detaches every personal value: the free-text
// description, the lines' descriptions, the link to the platform's page,
// and the notes of payment reminders.
func anonymiseBookings(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	var rows []bookingRow
	if err := db.NewSelect().Model(&rows).Column("id", "booking_lines").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return interpretError(err)
	}
	for _, r := range rows {
		for i := range r.Lines {
			r.Lines[i].Description = ""
		}
		if len(r.Lines) == 0 {
			r.Lines = nil
		}
		if _, err := db.NewUpdate().Model(&r).Column("booking_lines").Set("description = ''").Set("link = ''").
			Where("org_id = ?", orgID).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return interpretError(err)
		}
	}
	_, err := db.NewUpdate().Model((*bookingReminderRow)(nil)).Set("note = ''").
		Where("org_id = ?", orgID).Where("note <> ''").
		Where("booking_id IN (?)", db.NewSelect().Model((*bookingRow)(nil)).Column("id").
			Where("org_id = ?", orgID).Where("customer_id = ?", customerID)).Exec(ctx)
	return interpretError(err)
}
