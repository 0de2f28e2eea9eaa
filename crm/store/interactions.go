package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	if err := s.db.NewSelect().Comment(preparedComment).Model(&row).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return row.toDomain(), nil
}

func (r *reviewRow) toDomain() *crm.CustomerReview {
	return &crm.CustomerReview{Score: r.Score, Max: r.MaxScore, Source: r.Source, At: utc(r.At), InteractionID: r.InteractionID}
}

// InteractionInsert implements crm.InteractionStore.
func (s *DB) InteractionInsert(ctx context.Context, it *crm.Interaction) error {
	_, err := s.db.NewInsert().Comment(s.heldWriteComment()).Model(interactionToRow(it)).Returning("NULL").Exec(ctx)
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

// InteractionTarget implements crm.InteractionStore: a read of the
// customer's row, FOR UPDATE on PostgreSQL (on SQLite the transaction holds
// the write lock from its start). On PostgreSQL, where each statement is a
// round trip, the same statement returns the customer's field origins and
// latest review (as JSON); on SQLite two more reads by primary key follow
// it. It used to count the activity with an UPDATE: a matched interaction
// that changes a field then wrote the row twice, and on PostgreSQL each
// write of a row whose indexed activity time changes adds an entry to
// every one of the customer's twelve indexes.
func (s *DB) InteractionTarget(ctx context.Context, orgID, id string) (*crm.Customer, []crm.FieldOrigin, error) {
	pg := s.dialect.name == postgresDialect.name
	var rows []targetRow
	q := s.db.NewSelect().Comment(preparedComment).Model(&rows).ColumnExpr(customerColumns).
		Where("org_id = ?", orgID).Where("id = ?", id)
	if pg {
		q = q.ColumnExpr(`(SELECT json_agg(json_build_array(o.field, o.kind, o.source, (extract(epoch FROM o.at) * 1000000)::bigint, o.fields))
			FROM customer_field_origins AS o WHERE o.org_id = ?TableAlias.org_id AND o.customer_id = ?TableAlias.id) AS origins_json,
			(SELECT json_build_array(r.score, r.max_score, r.source, (extract(epoch FROM r.at) * 1000000)::bigint, r.interaction_id)
			FROM customer_reviews AS r WHERE r.org_id = ?TableAlias.org_id AND r.customer_id = ?TableAlias.id) AS review_json`).
			For("UPDATE OF ?TableAlias")
	}
	// On SQLite the transaction holds the database's write lock already.
	if err := q.Scan(ctx); err != nil {
		return nil, nil, interpretError(err)
	}
	if len(rows) == 0 {
		return nil, nil, crm.ErrNotFound
	}
	if rows[0].AnonymisedAt != nil {
		return nil, nil, crm.ErrAnonymised
	}
	c := rows[0].toDomain()
	if !pg {
		origins, err := s.FieldOriginList(ctx, orgID, id)
		if err != nil {
			return nil, nil, err
		}
		r, err := s.ReviewGet(ctx, orgID, id)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			return nil, nil, err
		}
		c.LatestReview = r
		return &c, origins, nil
	}
	origins, review, err := rows[0].decode(orgID, id)
	if err != nil {
		return nil, nil, err
	}
	c.LatestReview = review
	return &c, origins, nil
}

// targetRow is a customer row with its field origins and latest review as
// PostgreSQL's InteractionTarget returns them: JSON arrays of the columns,
// times in microseconds since 1970.
type targetRow struct {
	customerRow `bun:",extend"`

	OriginsJSON *string `bun:"origins_json"`
	ReviewJSON  *string `bun:"review_json"`
}

// decode reads the origins and the review of a targetRow.
func (r *targetRow) decode(orgID, customerID string) ([]crm.FieldOrigin, *crm.CustomerReview, error) {
	// values decodes one JSON array into dst, value by value.
	values := func(what string, a []json.RawMessage, dst ...any) error {
		if len(a) != len(dst) {
			return fmt.Errorf("%s of customer %s: %d values", what, customerID, len(a))
		}
		for i := range a {
			if err := json.Unmarshal(a[i], dst[i]); err != nil {
				return fmt.Errorf("%s of customer %s: %w", what, customerID, err)
			}
		}
		return nil
	}
	var origins []crm.FieldOrigin
	if r.OriginsJSON != nil {
		var list [][]json.RawMessage
		if err := json.Unmarshal([]byte(*r.OriginsJSON), &list); err != nil {
			return nil, nil, fmt.Errorf("field origins of customer %s: %w", customerID, err)
		}
		rows := make([]fieldOriginRow, len(list))
		for i, a := range list {
			var us int64
			var fields *string
			o := &rows[i]
			if err := values("field origins", a, &o.Field, &o.Kind, &o.Source, &us, &fields); err != nil {
				return nil, nil, err
			}
			o.OrgID, o.CustomerID, o.At = orgID, customerID, time.UnixMicro(us)
			if fields != nil {
				o.Fields = *fields
			}
		}
		slices.SortFunc(rows, func(a, b fieldOriginRow) int { return strings.Compare(a.Field, b.Field) })
		origins = fieldOrigins(rows)
	}
	if r.ReviewJSON == nil {
		return origins, nil, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal([]byte(*r.ReviewJSON), &a); err != nil {
		return nil, nil, fmt.Errorf("latest review of customer %s: %w", customerID, err)
	}
	var rv crm.CustomerReview
	var us int64
	if err := values("latest review", a, &rv.Score, &rv.Max, &rv.Source, &us, &rv.InteractionID); err != nil {
		return nil, nil, err
	}
	rv.At = time.UnixMicro(us).UTC()
	return origins, &rv, nil
}
