package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type documentRow struct {
	bun.BaseModel `bun:"table:documents"`

	ID          string     `bun:"id,pk"`
	OrgID       string     `bun:"org_id,pk"`
	CustomerID  string     `bun:"customer_id"`
	Title       string     `bun:"title"`
	FileName    string     `bun:"file_name"`
	ContentType string     `bun:"content_type"`
	Size        int64      `bun:"size"`
	SHA256      string     `bun:"sha256"`
	Visibility  string     `bun:"visibility"`
	AttributeID string     `bun:"attribute_id,nullzero"`
	Origin      string     `bun:"origin"`
	ActorKind   string     `bun:"actor_kind"`
	ActorID     string     `bun:"actor_id"`
	AddedAt     time.Time  `bun:"added_at"`
	SentAt      *time.Time `bun:"sent_at"`
}

func documentToRow(orgID string, d *crm.Document) *documentRow {
	return &documentRow{ID: d.ID, OrgID: orgID, CustomerID: d.CustomerID, Title: d.Title, FileName: d.FileName,
		ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256, Visibility: string(d.Visibility), AttributeID: d.AttributeID,
		Origin: string(d.Origin), ActorKind: string(d.AddedBy.Kind), ActorID: d.AddedBy.ID, AddedAt: d.AddedAt, SentAt: d.SentAt}
}

func (r *documentRow) toDomain() crm.Document {
	return crm.Document{ID: r.ID, CustomerID: r.CustomerID, Title: r.Title, FileName: r.FileName, ContentType: r.ContentType,
		Size: r.Size, SHA256: r.SHA256, Visibility: crm.DocumentVisibility(r.Visibility), AttributeID: r.AttributeID,
		Origin: crm.DocumentOrigin(r.Origin), AddedBy: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID},
		AddedAt: utc(r.AddedAt), SentAt: utcPtr(r.SentAt)}
}

type blobRefRow struct {
	bun.BaseModel `bun:"table:blob_refs"`

	OrgID  string `bun:"org_id,pk"`
	SHA256 string `bun:"sha256,pk"`
	Size   int64  `bun:"size"`
	Refs   int    `bun:"refs"`
}

type documentAttributeRow struct {
	bun.BaseModel `bun:"table:document_attributes"`

	ID        string    `bun:"id,pk"`
	OrgID     string    `bun:"org_id,pk"`
	Name      string    `bun:"name"`
	NameKey   string    `bun:"name_key"`
	CreatedAt time.Time `bun:"created_at"`
}

// DocumentInsert implements crm.DocumentStore.
func (s *DB) DocumentInsert(ctx context.Context, orgID string, d *crm.Document) error {
	_, err := s.db.NewInsert().Model(documentToRow(orgID, d)).Exec(ctx)
	return interpretError(err)
}

// DocumentGet implements crm.DocumentStore.
func (s *DB) DocumentGet(ctx context.Context, orgID, id string) (*crm.Document, error) {
	var row documentRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	d := row.toDomain()
	return &d, nil
}

// DocumentUpdate implements crm.DocumentStore.
func (s *DB) DocumentUpdate(ctx context.Context, orgID string, d *crm.Document) error {
	res, err := s.db.NewUpdate().Model(documentToRow(orgID, d)).Column("title", "visibility", "attribute_id").
		Where("org_id = ?", orgID).Where("id = ?", d.ID).Exec(ctx)
	return oneRow(res, err)
}

// DocumentDelete implements crm.DocumentStore.
func (s *DB) DocumentDelete(ctx context.Context, orgID, id string) error {
	res, err := s.db.NewDelete().Model((*documentRow)(nil)).Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

func documents(rows []documentRow) []crm.Document {
	out := make([]crm.Document, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// DocumentList implements crm.DocumentStore.
func (s *DB) DocumentList(ctx context.Context, orgID, customerID string, portalOnly bool) ([]crm.Document, error) {
	var rows []documentRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("added_at DESC, id DESC")
	if portalOnly {
		q = q.Where("visibility = ?", crm.VisibilityPortal)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return documents(rows), nil
}

// DocumentsUnsent implements crm.DocumentStore.
func (s *DB) DocumentsUnsent(ctx context.Context, orgID, attributeID, afterID string, limit int) ([]crm.Document, error) {
	var rows []documentRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("attribute_id = ?", attributeID).
		Where("sent_at IS NULL").OrderExpr("id").Limit(int64(limit))
	if afterID != "" {
		q = q.Where("id > ?", afterID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return documents(rows), nil
}

// DocumentMarkSent implements crm.DocumentStore.
func (s *DB) DocumentMarkSent(ctx context.Context, orgID string, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Model((*documentRow)(nil)).Set("sent_at = ?", at).
		Where("org_id = ?", orgID).Where("id IN (?)", bun.List(ids)).Exec(ctx)
	return interpretError(err)
}

// BlobAcquire implements crm.DocumentStore: an upsert, which locks the
// count's row until the transaction ends.
func (s *DB) BlobAcquire(ctx context.Context, orgID, sha string, size int64) error {
	_, err := s.db.NewInsert().Model(&blobRefRow{OrgID: orgID, SHA256: sha, Size: size, Refs: 1}).
		On("CONFLICT (org_id, sha256) DO UPDATE").Set("refs = ?TableAlias.refs + 1").Exec(ctx)
	return interpretError(err)
}

// BlobRelease implements crm.DocumentStore.
func (s *DB) BlobRelease(ctx context.Context, orgID, sha string) (bool, error) {
	var refs int
	err := s.db.NewUpdate().Model((*blobRefRow)(nil)).Set("refs = refs - 1").
		Where("org_id = ?", orgID).Where("sha256 = ?", sha).Returning("refs").Scan(ctx, &refs)
	if err != nil {
		return false, interpretError(err)
	}
	return refs == 0, nil
}

// BlobForget implements crm.DocumentStore.
func (s *DB) BlobForget(ctx context.Context, orgID, sha string) (bool, error) {
	res, err := s.db.NewDelete().Model((*blobRefRow)(nil)).
		Where("org_id = ?", orgID).Where("sha256 = ?", sha).Where("refs = 0").Exec(ctx)
	if err != nil {
		return false, interpretError(err)
	}
	n, err := res.RowsAffected()
	return n == 1, interpretError(err)
}

// DocumentAttributeInsert implements crm.DocumentStore.
func (s *DB) DocumentAttributeInsert(ctx context.Context, orgID string, a *crm.DocumentAttribute) error {
	_, err := s.db.NewInsert().Model(&documentAttributeRow{ID: a.ID, OrgID: orgID, Name: a.Name,
		NameKey: strings.ToLower(a.Name), CreatedAt: a.CreatedAt}).Exec(ctx)
	return interpretError(err)
}

// DocumentAttributeList implements crm.DocumentStore.
func (s *DB) DocumentAttributeList(ctx context.Context, orgID string) ([]crm.DocumentAttribute, error) {
	var rows []documentAttributeRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("name_key").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.DocumentAttribute, len(rows))
	for i, r := range rows {
		out[i] = crm.DocumentAttribute{ID: r.ID, Name: r.Name, CreatedAt: utc(r.CreatedAt)}
	}
	return out, nil
}
