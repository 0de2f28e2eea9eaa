package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// DocumentVisibility says who sees a document.
type DocumentVisibility string

// The document visibilities.
const (
	// VisibilityPortal: the customer sees it in the portal (and staff).
	VisibilityPortal DocumentVisibility = "portal"
	// VisibilityInternal: staff only.
	VisibilityInternal DocumentVisibility = "internal"
)

// DocumentOrigin says where a document came from.
type DocumentOrigin string

// The document origins.
const (
	OriginUpload DocumentOrigin = "upload"
	// OriginReport: a report Dossier generated (Documents.FileReport).
	OriginReport DocumentOrigin = "report"
)

// DefaultMaxDocumentBytes is the largest document when
// Config.MaxDocumentBytes is not set: 20 MiB.
const DefaultMaxDocumentBytes = 20 << 20

// Document is a file kept with a customer (C6). Its contents are in the
// BlobStore under its SHA256; the store keeps the description.
type Document struct {
	ID         string `json:"id"`
	CustomerID string `json:"customerId"`
	Title      string `json:"title"`
	FileName   string `json:"fileName"`
	// ContentType is sniffed from the contents, never taken from the client.
	ContentType string             `json:"contentType"`
	Size        int64              `json:"size"`
	SHA256      string             `json:"sha256"`
	Visibility  DocumentVisibility `json:"visibility"`
	// AttributeID is the document attribute that groups it, if any.
	AttributeID string         `json:"attributeId,omitempty"`
	Origin      DocumentOrigin `json:"origin"`
	AddedBy     Actor          `json:"addedBy"`
	AddedAt     time.Time      `json:"addedAt"`
	// SentAt is when the document was last mailed to the customer.
	SentAt *time.Time `json:"sentAt,omitempty"`
}

// NewDocument describes an upload.
type NewDocument struct {
	// Title defaults to the file name.
	Title    string `json:"title,omitempty" validate:"max=200"`
	FileName string `json:"fileName" validate:"required,max=255"`
	// Visibility defaults to internal.
	Visibility  DocumentVisibility `json:"visibility,omitempty" validate:"omitempty,oneof=portal internal"`
	AttributeID string             `json:"attributeId,omitempty"`
}

// DocumentPatch changes a document's description; its contents never change.
type DocumentPatch struct {
	Title       *string             `json:"title,omitempty" validate:"omitempty,min=1,max=200"`
	Visibility  *DocumentVisibility `json:"visibility,omitempty" validate:"omitempty,oneof=portal internal"`
	AttributeID *string             `json:"attributeId,omitempty"`
}

// DocumentAttribute groups documents, so that an automatic action can send
// a whole group at once (C6).
type DocumentAttribute struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// BlobStore keeps document contents by key. Keys are the organisation and
// the SHA-256 of the contents ("acme/9f86d0..."), so equal files are kept
// once per organisation and a key's contents never change. Put must be
// atomic: a reader sees the whole file or none. crm/store/cloudblob
// implements it over a gocloud.dev/blob bucket (a folder, memory, S3, Google
// Cloud Storage, Azure Blob Storage); any other store implements these
// three methods.
type BlobStore interface {
	// Put stores the contents under key, replacing any earlier ones.
	Put(ctx context.Context, key string, r io.Reader) error
	// Open returns the contents, or an error matching ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the contents; an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// DocumentStore keeps document descriptions and the reference counts of
// their contents.
//
// Contents are shared by the documents of an organisation with the same
// SHA-256. BlobAcquire and BlobRelease lock the count's row until the
// transaction ends, so an upload and the deletion of the last document
// with the same contents never interleave: the deletion removes the file
// only while nothing refers to it, and an upload writes the file after
// taking its reference.
type DocumentStore interface {
	DocumentInsert(ctx context.Context, orgID string, d *Document) error
	// DocumentGet returns one document of the organisation or ErrNotFound.
	DocumentGet(ctx context.Context, orgID, id string) (*Document, error)
	DocumentUpdate(ctx context.Context, orgID string, d *Document) error
	DocumentDelete(ctx context.Context, orgID, id string) error
	// DocumentList returns a customer's documents, newest first; with
	// portalOnly, only those visible in the portal.
	DocumentList(ctx context.Context, orgID, customerID string, portalOnly bool) ([]Document, error)
	// DocumentsUnsent returns up to limit documents with the attribute that
	// were never sent, oldest first, after afterID.
	DocumentsUnsent(ctx context.Context, orgID, attributeID, afterID string, limit int) ([]Document, error)
	// DocumentsUnsentOf returns a customer's documents with the attribute
	// that were never sent.
	DocumentsUnsentOf(ctx context.Context, orgID, customerID, attributeID string) ([]Document, error)
	// DocumentMarkSent records that documents were mailed.
	DocumentMarkSent(ctx context.Context, orgID string, ids []string, at time.Time) error
	// BlobAcquire counts one more reference to the contents.
	BlobAcquire(ctx context.Context, orgID, sha string, size int64) error
	// BlobRelease counts one reference less and reports whether none is left.
	BlobRelease(ctx context.Context, orgID, sha string) (unused bool, err error)
	// BlobForget removes the count of contents nothing refers to; false
	// when something took a reference meanwhile.
	BlobForget(ctx context.Context, orgID, sha string) (bool, error)
	DocumentAttributeInsert(ctx context.Context, orgID string, a *DocumentAttribute) error
	DocumentAttributeList(ctx context.Context, orgID string) ([]DocumentAttribute, error)
}

// The timeline events of documents. Each names its document in a change
// of field "document.id" (New, or Old for a deletion), and a deletion also
// the visibility the document had ("document.visibility", Old): the
// customer's export shows only the events of documents the customer sees.
const (
	EventDocumentAdded   EventKind = "document.added"
	EventDocumentChanged EventKind = "document.changed"
	EventDocumentDeleted EventKind = "document.deleted"
)

// DocumentService keeps documents per customer (C6).
type DocumentService struct {
	*core
	privacy *PrivacyService
	outbox  *OutboxService
}

func blobKey(orgID, sha string) string { return orgID + "/" + sha }

func (c *core) blobs() (BlobStore, error) {
	if c.cfg.Blobs == nil {
		return nil, errors.New("crm: documents need Config.Blobs")
	}
	return c.cfg.Blobs, nil
}

// Add stores a document for a customer from r, at most
// Config.MaxDocumentBytes long and not empty. The content type is sniffed
// from the contents.
func (s *DocumentService) Add(ctx context.Context, customerID string, in NewDocument, r io.Reader) (*Document, error) {
	return s.add(ctx, customerID, in, r, OriginUpload)
}

func (s *DocumentService) add(ctx context.Context, customerID string, in NewDocument, r io.Reader, origin DocumentOrigin) (*Document, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	blobs, err := s.blobs()
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.FileName = cleanFileName(in.FileName)
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		in.Title = in.FileName
	}
	if in.Visibility == "" {
		in.Visibility = VisibilityInternal
	}
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	if err := s.checkAttribute(ctx, sc, v, in.AttributeID); err != nil {
		return nil, err
	}
	// An unknown customer is answered before the upload is read.
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	// The upload is spooled to a temporary file while it is hashed and
	// measured: the key is its hash, known only at the end.
	spool, err := os.CreateTemp("", "dossier-upload-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	h := sha256.New()
	limit := s.cfg.MaxDocumentBytes
	n, err := io.Copy(io.MultiWriter(spool, h), io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		v.add("file", "empty", "")
	} else if n > limit {
		v.add("file", "maxBytes", formatBytes(limit))
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	head := make([]byte, 3072)
	k, _ := spool.ReadAt(head, 0)
	d := &Document{
		ID: newID(), CustomerID: customerID, Title: in.Title, FileName: in.FileName,
		ContentType: mimetype.Detect(head[:k]).String(), Size: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		Visibility: in.Visibility, AttributeID: in.AttributeID, Origin: origin, AddedBy: sc.actor, AddedAt: s.now(),
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CustomerTouch(ctx, sc.org, customerID, d.AddedAt); err != nil {
			return err
		}
		// The reference first: it locks the count, so a deletion of the same
		// contents cannot remove the file between our write and our commit.
		if err := tx.BlobAcquire(ctx, sc.org, d.SHA256, d.Size); err != nil {
			return err
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := blobs.Put(ctx, blobKey(sc.org, d.SHA256), spool); err != nil {
			return err
		}
		if err := tx.DocumentInsert(ctx, sc.org, d); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, EventDocumentAdded, d.AddedAt, []FieldChange{
			{Field: "document", New: d.Title}, {Field: "fileName", New: d.FileName}, {Field: "document.id", New: d.ID},
		}))
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// cleanFileName keeps the last path element of a client's file name,
// without control characters.
func cleanFileName(name string) string {
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, "\\", "/")))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" {
		return ""
	}
	return name
}

func formatBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func (s *DocumentService) checkAttribute(ctx context.Context, sc scope, v *validation, id string) error {
	if id == "" {
		return nil
	}
	attrs, err := s.store.DocumentAttributeList(ctx, sc.org)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if a.ID == id {
			return nil
		}
	}
	v.add("attributeId", "unknown", "")
	return v.err()
}

// MaxBytes is the largest document Add accepts (Config.MaxDocumentBytes).
func (s *DocumentService) MaxBytes() int64 { return s.cfg.MaxDocumentBytes }

// Get returns a document's description.
func (s *DocumentService) Get(ctx context.Context, id string) (*Document, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "document " + id}
	}
	return s.store.DocumentGet(ctx, sc.org, id)
}

// Open returns a document's description and contents; the caller closes them.
func (s *DocumentService) Open(ctx context.Context, id string) (*Document, io.ReadCloser, error) {
	d, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	blobs, err := s.blobs()
	if err != nil {
		return nil, nil, err
	}
	sc, _ := readScope(ctx)
	rc, err := blobs.Open(ctx, blobKey(sc.org, d.SHA256))
	if err != nil {
		return nil, nil, err
	}
	return d, rc, nil
}

// List returns a customer's documents, newest first. With portalOnly it
// returns what the customer sees in the portal.
func (s *DocumentService) List(ctx context.Context, customerID string, portalOnly bool) ([]Document, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	docs, err := s.store.DocumentList(ctx, sc.org, customerID, portalOnly)
	return nonNil(docs), err
}

// Update changes a document's title, visibility or attribute.
func (s *DocumentService) Update(ctx context.Context, id string, p DocumentPatch) (*Document, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	if err := v.err(); err != nil {
		return nil, err
	}
	if p.AttributeID != nil {
		if err := s.checkAttribute(ctx, sc, v, *p.AttributeID); err != nil {
			return nil, err
		}
	}
	if !validID(id) {
		return nil, &notFoundError{what: "document " + id}
	}
	var out *Document
	err = s.store.InTx(ctx, func(tx Store) error {
		d, err := tx.DocumentGet(ctx, sc.org, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, d.CustomerID, now); err != nil {
			return err
		}
		old := *d
		if p.Title != nil {
			d.Title = strings.TrimSpace(*p.Title)
		}
		if p.Visibility != nil {
			d.Visibility = *p.Visibility
		}
		if p.AttributeID != nil {
			d.AttributeID = *p.AttributeID
		}
		var changes []FieldChange
		for _, c := range []struct {
			field    string
			old, new string
		}{{"title", old.Title, d.Title}, {"visibility", string(old.Visibility), string(d.Visibility)}, {"attributeId", old.AttributeID, d.AttributeID}} {
			if c.old != c.new {
				changes = append(changes, FieldChange{Field: "document." + c.field, Old: nilIfBlank(c.old), New: nilIfBlank(c.new)})
			}
		}
		out = d
		if len(changes) == 0 {
			return nil
		}
		if err := tx.DocumentUpdate(ctx, sc.org, d); err != nil {
			return err
		}
		changes = append(changes, FieldChange{Field: "document.id", New: d.ID})
		return tx.HistoryAppend(ctx, s.event(sc, d.CustomerID, EventDocumentChanged, now, changes))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nilIfBlank(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Delete removes a document, and its contents when no other document of
// the organisation has the same.
func (s *DocumentService) Delete(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	if !validID(id) {
		return &notFoundError{what: "document " + id}
	}
	var d *Document
	var unused bool
	err = s.store.InTx(ctx, func(tx Store) error {
		if d, err = tx.DocumentGet(ctx, sc.org, id); err != nil {
			return err
		}
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, d.CustomerID, now); err != nil && !errors.Is(err, ErrAnonymised) {
			return err
		}
		if err := tx.DocumentDelete(ctx, sc.org, id); err != nil {
			return err
		}
		if unused, err = tx.BlobRelease(ctx, sc.org, d.SHA256); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, d.CustomerID, EventDocumentDeleted, now, []FieldChange{
			{Field: "document", Old: d.Title}, {Field: "document.id", Old: d.ID}, {Field: "document.visibility", Old: string(d.Visibility)},
		}))
	})
	if err != nil || !unused {
		return err
	}
	return s.removeBlob(ctx, sc.org, d.SHA256)
}

// removeBlob deletes contents nothing refers to, under the lock of their
// count, so an upload of the same contents waits and then writes them anew.
func (c *core) removeBlob(ctx context.Context, orgID, sha string) error {
	blobs, err := c.blobs()
	if err != nil {
		return err
	}
	return c.store.InTx(ctx, func(tx Store) error {
		forget, err := tx.BlobForget(ctx, orgID, sha)
		if err != nil || !forget {
			return err
		}
		return blobs.Delete(ctx, blobKey(orgID, sha))
	})
}

// DefineAttribute adds a document attribute.
func (s *DocumentService) DefineAttribute(ctx context.Context, name string) (*DocumentAttribute, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkString("name", &name)
	name = strings.TrimSpace(name)
	switch {
	case v.has("name"):
	case name == "":
		v.add("name", "required", "")
	case utf8.RuneCountInString(name) > 60:
		v.add("name", "max", "60")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	a := &DocumentAttribute{ID: newID(), Name: name, CreatedAt: s.now()}
	if err := s.store.DocumentAttributeInsert(ctx, sc.org, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Attributes lists the organisation's document attributes by name.
func (s *DocumentService) Attributes(ctx context.Context) ([]DocumentAttribute, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	attrs, err := s.store.DocumentAttributeList(ctx, sc.org)
	return nonNil(attrs), err
}
