package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type interactionRow struct {
	bun.BaseModel `bun:"table:interactions"`

	OrgID       string                  `bun:"org_id,pk"`
	ID          string                  `bun:"id,pk"`
	CustomerID  string                  `bun:"customer_id"`
	Kind        string                  `bun:"kind"`
	Source      string                  `bun:"source"`
	SourceID    string                  `bun:"source_id"`
	FormKey     string                  `bun:"form_key"`
	At          time.Time               `bun:"at"`
	Created     bool                    `bun:"created"`
	MatchedBy   string                  `bun:"matched_by"`
	Data        *crm.InteractionContent `bun:"data,type:jsonb"`
	ReviewScore *int                    `bun:"review_score"`
	ReviewMax   *int                    `bun:"review_max"`
	ReviewText  string                  `bun:"review_text"`
	ActorKind   string                  `bun:"actor_kind"`
	ActorID     string                  `bun:"actor_id"`
	RecordedAt  time.Time               `bun:"recorded_at"`
}

func interactionToRow(it *crm.Interaction) *interactionRow {
	content := it.Content
	r := &interactionRow{
		OrgID: it.OrgID, ID: it.ID, CustomerID: it.CustomerID, Kind: string(it.Kind), Source: it.Source,
		SourceID: it.SourceID, FormKey: it.Form, At: it.At, Created: it.Created, MatchedBy: string(it.MatchedBy),
		Data: &content, ActorKind: string(it.Actor.Kind), ActorID: it.Actor.ID, RecordedAt: it.RecordedAt,
	}
	if it.Review != nil {
		score, maxScore := it.Review.Score, it.Review.Max
		r.ReviewScore, r.ReviewMax, r.ReviewText = &score, &maxScore, it.Review.Text
	}
	return r
}

func (r *interactionRow) toDomain() crm.Interaction {
	it := crm.Interaction{
		ID: r.ID, OrgID: r.OrgID, CustomerID: r.CustomerID, Kind: crm.InteractionKind(r.Kind), Source: r.Source,
		SourceID: r.SourceID, Form: r.FormKey, At: utc(r.At), Created: r.Created, MatchedBy: crm.MatchBy(r.MatchedBy),
		Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, RecordedAt: utc(r.RecordedAt),
	}
	if r.Data != nil {
		it.Content = *r.Data
	}
	if r.ReviewScore != nil {
		it.Review = &crm.Review{Score: *r.ReviewScore, Text: r.ReviewText}
		if r.ReviewMax != nil {
			it.Review.Max = *r.ReviewMax
		}
	}
	return it
}

type reviewRow struct {
	bun.BaseModel `bun:"table:customer_reviews,alias:cr"`

	OrgID         string    `bun:"org_id,pk"`
	CustomerID    string    `bun:"customer_id,pk"`
	Score         int       `bun:"score"`
	MaxScore      int       `bun:"max_score"`
	Source        string    `bun:"source"`
	At            time.Time `bun:"at"`
	InteractionID string    `bun:"interaction_id"`
}

// ReviewSet implements crm.InteractionStore: an older review than the
// one kept changes nothing.
func (s *DB) ReviewSet(ctx context.Context, orgID, customerID string, r crm.CustomerReview) error {
	row := reviewRow{OrgID: orgID, CustomerID: customerID, Score: r.Score, MaxScore: r.Max, Source: r.Source, At: r.At, InteractionID: r.InteractionID}
	_, err := s.db.NewInsert().Model(&row).On("CONFLICT (org_id, customer_id) DO UPDATE").
		Set("score = EXCLUDED.score").Set("max_score = EXCLUDED.max_score").Set("source = EXCLUDED.source").
		Set("at = EXCLUDED.at").Set("interaction_id = EXCLUDED.interaction_id").
		Where("cr.at <= EXCLUDED.at").Exec(ctx)
	return interpretError(err)
}

// ReviewGet implements crm.InteractionStore.
func (s *DB) ReviewGet(ctx context.Context, orgID, customerID string) (*crm.CustomerReview, error) {
	var row reviewRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return &crm.CustomerReview{Score: row.Score, Max: row.MaxScore, Source: row.Source, At: utc(row.At), InteractionID: row.InteractionID}, nil
}

// InteractionInsert implements crm.InteractionStore.
func (s *DB) InteractionInsert(ctx context.Context, it *crm.Interaction) error {
	_, err := s.db.NewInsert().Model(interactionToRow(it)).Exec(ctx)
	return interpretError(err)
}

// InteractionGet implements crm.InteractionStore.
func (s *DB) InteractionGet(ctx context.Context, orgID, id string) (*crm.Interaction, error) {
	var row interactionRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	it := row.toDomain()
	return &it, nil
}

// InteractionList implements crm.InteractionStore.
func (s *DB) InteractionList(ctx context.Context, p crm.InteractionListParams) ([]crm.Interaction, error) {
	var rows []interactionRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.CustomerID)
	if p.BeforeID != "" {
		q = q.Where("(at < ? OR (at = ? AND id < ?))", p.BeforeAt, p.BeforeAt, p.BeforeID)
	}
	if err := q.OrderExpr("at DESC, id DESC").Limit(int64(p.Limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Interaction, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// InteractionsAnonymise implements crm.InteractionStore. The interactions
// stay (kind, source, when: the relationship's history) without what they
// carried; platform ids, field origins and conflicts go.
func (s *DB) InteractionsAnonymise(ctx context.Context, orgID, customerID string) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if _, err := db.NewUpdate().Model((*interactionRow)(nil)).
			Set("data = NULL").Set("source_id = ''").Set("review_text = ''").
			Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx); err != nil {
			return interpretError(err)
		}
		for _, m := range []any{(*sourceIDRow)(nil), (*fieldOriginRow)(nil)} {
			if _, err := db.NewDelete().Model(m).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx); err != nil {
				return interpretError(err)
			}
		}
		if _, err := db.NewDelete().Model((*matchConflictRow)(nil)).Where("org_id = ?", orgID).
			WhereGroup(" AND ", func(q *bun.DeleteQuery) *bun.DeleteQuery {
				return q.Where("customer_id = ?", customerID).WhereOr("other_customer_id = ?", customerID)
			}).Exec(ctx); err != nil {
			return interpretError(err)
		}
		_, err := db.NewDelete().Model((*reviewRow)(nil)).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx)
		return interpretError(err)
	})
}

type formRow struct {
	bun.BaseModel `bun:"table:forms"`

	OrgID     string          `bun:"org_id,pk"`
	Key       string          `bun:"key,pk"`
	Name      string          `bun:"name"`
	Kind      string          `bun:"kind"`
	Fields    []crm.FormField `bun:"fields,type:jsonb"`
	CreatedAt time.Time       `bun:"created_at"`
	UpdatedAt time.Time       `bun:"updated_at"`
}

func (r *formRow) toDomain() crm.Form {
	return crm.Form{Key: r.Key, Name: r.Name, Kind: crm.InteractionKind(r.Kind), Fields: r.Fields,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

func formToRow(orgID string, f *crm.Form) *formRow {
	fields := f.Fields
	if fields == nil {
		fields = []crm.FormField{}
	}
	return &formRow{OrgID: orgID, Key: f.Key, Name: f.Name, Kind: string(f.Kind), Fields: fields,
		CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

// FormInsert implements crm.FormStore.
func (s *DB) FormInsert(ctx context.Context, orgID string, f *crm.Form) error {
	_, err := s.db.NewInsert().Model(formToRow(orgID, f)).Exec(ctx)
	return interpretError(err)
}

// FormGet implements crm.FormStore.
func (s *DB) FormGet(ctx context.Context, orgID, key string) (*crm.Form, error) {
	var row formRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("key = ?", key).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	f := row.toDomain()
	return &f, nil
}

// FormList implements crm.FormStore.
func (s *DB) FormList(ctx context.Context, orgID string) ([]crm.Form, error) {
	var rows []formRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("key").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Form, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// FormUpdate implements crm.FormStore.
func (s *DB) FormUpdate(ctx context.Context, orgID string, f *crm.Form) error {
	res, err := s.db.NewUpdate().Model(formToRow(orgID, f)).Column("name", "kind", "fields", "updated_at").
		Where("org_id = ?", orgID).Where("key = ?", f.Key).Exec(ctx)
	return oneRow(res, err)
}

// FormDelete implements crm.FormStore.
func (s *DB) FormDelete(ctx context.Context, orgID, key string) error {
	res, err := s.db.NewDelete().Model((*formRow)(nil)).Where("org_id = ?", orgID).Where("key = ?", key).Exec(ctx)
	return oneRow(res, err)
}

// InteractionTarget implements crm.InteractionStore: UPDATE ... RETURNING
// the customer's columns, on both databases.
func (s *DB) InteractionTarget(ctx context.Context, orgID, id string, at time.Time) (*crm.Customer, error) {
	var rows []customerRow
	err := s.db.NewUpdate().Model((*customerRow)(nil)).Set("last_activity_at = ?", at).
		Where("org_id = ?", orgID).Where("id = ?", id).Where("anonymised_at IS NULL").
		Returning(customerColumns).Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	if len(rows) == 0 {
		// Absent or anonymised: CustomerTouch tells which.
		if err := s.CustomerTouch(ctx, orgID, id, at); err != nil {
			return nil, err
		}
		return nil, crm.ErrNotFound
	}
	c := rows[0].toDomain()
	return &c, nil
}
