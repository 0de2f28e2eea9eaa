package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type noteTypeRow struct {
	bun.BaseModel `bun:"table:note_types"`

	OrgID      string            `bun:"org_id,pk"`
	ID         string            `bun:"id,pk"`
	Names      map[string]string `bun:"names,type:jsonb"`
	BuiltIn    bool              `bun:"built_in"`
	Position   int               `bun:"position"`
	ArchivedAt *time.Time        `bun:"archived_at"`
	CreatedAt  time.Time         `bun:"created_at"`
	UpdatedAt  time.Time         `bun:"updated_at"`
}

type noteRow struct {
	bun.BaseModel `bun:"table:notes"`

	OrgID      string    `bun:"org_id,pk"`
	ID         string    `bun:"id,pk"`
	CustomerID string    `bun:"customer_id"`
	BookingID  string    `bun:"booking_id,nullzero"`
	TypeID     string    `bun:"type_id"`
	Text       string    `bun:"text"`
	At         time.Time `bun:"at"`
	AuthorID   string    `bun:"author_id"`
	Pinned     bool      `bun:"pinned"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
	Version    int       `bun:"version"`
}

func noteRowOf(orgID string, n *crm.Note) *noteRow {
	return &noteRow{OrgID: orgID, ID: n.ID, CustomerID: n.CustomerID, BookingID: n.BookingID, TypeID: n.TypeID, Text: n.Text,
		At: n.At, AuthorID: n.AuthorID, Pinned: n.Pinned, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, Version: n.Version}
}

func (r *noteRow) toDomain() crm.Note {
	return crm.Note{ID: r.ID, CustomerID: r.CustomerID, BookingID: r.BookingID, TypeID: r.TypeID, Text: r.Text, At: utc(r.At),
		AuthorID: r.AuthorID, Pinned: r.Pinned, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), Version: r.Version}
}

// NoteTypeInsert implements crm.NoteStore.
func (s *DB) NoteTypeInsert(ctx context.Context, orgID string, types ...crm.NoteType) error {
	if len(types) == 0 {
		return nil
	}
	rows := make([]noteTypeRow, len(types))
	for i, t := range types {
		rows[i] = noteTypeRow{OrgID: orgID, ID: t.ID, Names: t.Names, BuiltIn: t.BuiltIn, Position: t.Position,
			CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
		if t.Archived {
			rows[i].ArchivedAt = &rows[i].UpdatedAt
		}
	}
	_, err := s.db.NewInsert().Model(&rows).Exec(ctx)
	return interpretError(err)
}

// NoteTypeList implements crm.NoteStore.
func (s *DB) NoteTypeList(ctx context.Context, orgID string) ([]crm.NoteType, error) {
	var rows []noteTypeRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.NoteType, len(rows))
	for i, r := range rows {
		out[i] = crm.NoteType{ID: r.ID, Names: r.Names, BuiltIn: r.BuiltIn, Position: r.Position, Archived: r.ArchivedAt != nil,
			CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
	}
	return out, nil
}

// NoteTypeUpdate implements crm.NoteStore.
func (s *DB) NoteTypeUpdate(ctx context.Context, orgID string, t *crm.NoteType) error {
	var archived *time.Time
	if t.Archived {
		archived = &t.UpdatedAt
	}
	res, err := s.db.NewUpdate().Model(&noteTypeRow{Names: t.Names}).Column("names").
		Set("archived_at = ?", archived).Set("updated_at = ?", t.UpdatedAt).
		Where("org_id = ?", orgID).Where("id = ?", t.ID).Exec(ctx)
	return oneRow(res, err)
}

// NoteInsert implements crm.NoteStore.
func (s *DB) NoteInsert(ctx context.Context, orgID string, n *crm.Note) error {
	_, err := s.db.NewInsert().Model(noteRowOf(orgID, n)).Exec(ctx)
	return interpretError(err)
}

// NoteGet implements crm.NoteStore.
func (s *DB) NoteGet(ctx context.Context, orgID, id string) (*crm.Note, error) {
	var row noteRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	n := row.toDomain()
	return &n, nil
}

// NoteList implements crm.NoteStore.
func (s *DB) NoteList(ctx context.Context, p crm.NoteListParams) ([]crm.Note, error) {
	var rows []noteRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", p.OrgID).Where("customer_id = ?", p.CustomerID).
		OrderExpr("pinned DESC, at DESC, id DESC").Limit(int64(p.Limit))
	if p.PinnedOnly {
		q = q.Where("pinned = ?", true)
	}
	if a := p.After; a != nil {
		if a.Pinned {
			q = q.Where("(pinned = ? OR (pinned = ? AND (at < ? OR (at = ? AND id < ?))))", false, true, a.At, a.At, a.ID)
		} else {
			q = q.Where("pinned = ?", false).Where("(at < ? OR (at = ? AND id < ?))", a.At, a.At, a.ID)
		}
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Note, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// NoteLatest implements crm.NoteStore.
func (s *DB) NoteLatest(ctx context.Context, orgID, customerID string) (*crm.Note, error) {
	var row noteRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("at DESC, id DESC").Limit(1).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	n := row.toDomain()
	return &n, nil
}

// NoteUpdate implements crm.NoteStore.
func (s *DB) NoteUpdate(ctx context.Context, orgID string, n *crm.Note) error {
	res, err := s.db.NewUpdate().Model(noteRowOf(orgID, n)).
		Column("type_id", "text", "at", "pinned", "updated_at", "version").
		Where("org_id = ?", orgID).Where("id = ?", n.ID).Where("version = ?", n.Version-1).Exec(ctx)
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			if _, gerr := s.NoteGet(ctx, orgID, n.ID); gerr == nil {
				return crm.ErrStaleVersion
			}
		}
		return err
	}
	return nil
}

// anonymiseNotesAndTasks removes what notes and tasks say about an
// anonymised customer: its notes go (their text is about the person), its
// tasks stay (work that was done, for reports) without title or description.
func anonymiseNotesAndTasks(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	if _, err := db.NewDelete().Model((*noteRow)(nil)).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx); err != nil {
		return interpretError(err)
	}
	_, err := db.NewUpdate().Model((*taskRow)(nil)).Set("title = ''").Set("description = ''").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx)
	return interpretError(err)
}
