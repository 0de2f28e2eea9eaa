package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// ImportMode says what an import does with the rows of its file.
type ImportMode string

// The import modes. A row is matched to a customer the way interactions
// are: by an id or number column, then the login e-mail, then another
// e-mail address, then a phone number.
const (
	// ImportAdd creates customers for rows that match none; matched rows
	// are skipped.
	ImportAdd ImportMode = "add"
	// ImportUpdate changes the customers rows match; other rows are skipped.
	ImportUpdate ImportMode = "update"
	// ImportUpsert does both (the default).
	ImportUpsert ImportMode = "upsert"
)

// ImportStatus is where an import stands.
type ImportStatus string

// The import statuses.
const (
	ImportQueued    ImportStatus = "queued"    // waiting for a worker
	ImportRunning   ImportStatus = "running"   // rows being read
	ImportDone      ImportStatus = "done"      // every row read
	ImportCancelled ImportStatus = "cancelled" // stopped on request; what was written stays until reverted
	ImportFailed    ImportStatus = "failed"    // the file could not be read
	ImportReverted  ImportStatus = "reverted"  // undone (see ImportService.Revert)
)

// ImportOutcome is what happened to one row.
type ImportOutcome string

// The row outcomes.
const (
	RowCreated ImportOutcome = "created"
	RowUpdated ImportOutcome = "updated"
	RowSkipped ImportOutcome = "skipped"
	RowRefused ImportOutcome = "refused"
)

// ImportBatchSize is how many rows an import writes in one transaction
// unless Config.ImportBatch says otherwise: the unit of progress, of
// resuming after a crash and of cancelling.
const ImportBatchSize = 1000

// ImportColumn maps one column of the file to a customer field: a key of
// ExportColumns (id and number only match, createdAt and updatedAt are
// ignored), "phone", "tags", "attributes" (names, separated by ";"), or
// "custom.KEY". An empty Key leaves the column out.
type ImportColumn struct {
	Index  int    `json:"index"`
	Header string `json:"header"`
	Key    string `json:"key,omitempty"`
}

// FileImport is one file import: what it reads, how far it got, what it did.
type FileImport struct {
	ID       string       `json:"id"`
	OrgID    string       `json:"-"`
	FileName string       `json:"fileName"`
	Options  TableOptions `json:"options"`
	Mode     ImportMode   `json:"mode"`
	// DryRun: the import reports what it would do and writes nothing.
	DryRun  bool           `json:"dryRun"`
	Mapping []ImportColumn `json:"mapping"`
	Status  ImportStatus   `json:"status"`
	// Rows is how many rows were read so far (the position to resume at).
	Rows    int64 `json:"rows"`
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
	Skipped int64 `json:"skipped"`
	Refused int64 `json:"refused"`
	// Batches is how many batches of rows were written.
	Batches   int        `json:"batches"`
	Message   string     `json:"message,omitempty"`
	CreatedBy Actor      `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	Finished  *time.Time `json:"finishedAt,omitempty"`
}

// ImportBatch is one batch an import wrote: its rows and the numbers of
// the customers it created (First to Last, none when Last < First).
type ImportBatch struct {
	OrgID    string
	ImportID string
	// Seq orders the batches (the first number).
	Seq     int64
	FromRow int64
	First   int64
	Last    int64
}

// ImportChange is a customer an import changed, with the values before
// (the revert restores them) and the version the import left.
type ImportChange struct {
	OrgID        string
	ImportID     string
	CustomerID   string
	Seq          int64
	VersionAfter int
	Before       CustomerFields
}

// CustomerFieldOrigin is the origin of one field of one customer.
type CustomerFieldOrigin struct {
	CustomerID string
	FieldOrigin
}

// ImportUpdateParams says which state an ImportStore.ImportUpdate expects.
type ImportUpdateParams struct {
	// Rows is the position the import must still be at.
	Rows int64
	// Statuses are those it must be in.
	Statuses []ImportStatus
}

// ImportStore keeps imports, their batches and changes, and writes new
// customers many at a time.
type ImportStore interface {
	ImportInsert(ctx context.Context, im *FileImport) error
	// ImportGet returns one import or ErrNotFound.
	ImportGet(ctx context.Context, orgID, id string) (*FileImport, error)
	// ImportList returns imports newest first, older than before (all
	// when empty), up to limit.
	ImportList(ctx context.Context, orgID, before string, limit int) ([]FileImport, error)
	// ImportUpdate stores im if the stored import is as expect says
	// (position and status); ErrStaleVersion otherwise.
	ImportUpdate(ctx context.Context, im *FileImport, expect ImportUpdateParams) error
	ImportBatchInsert(ctx context.Context, b ImportBatch) error
	ImportBatchList(ctx context.Context, orgID, importID string) ([]ImportBatch, error)
	ImportChangeInsert(ctx context.Context, cs ...ImportChange) error
	// ImportChangeList returns the changes of an import with Seq below
	// beforeSeq (all when 0), newest first, up to limit.
	ImportChangeList(ctx context.Context, orgID, importID string, beforeSeq int64, limit int) ([]ImportChange, error)
	// ImportChangeListByCustomer returns the import changes of a
	// customer (for its export), oldest first.
	ImportChangeListByCustomer(ctx context.Context, orgID, customerID string) ([]ImportChange, error)
	// ImportBatchListByNumber returns the batches whose created customers
	// (First to Last) hold the customer number, for anonymisation.
	ImportBatchListByNumber(ctx context.Context, orgID string, number int64) ([]ImportBatch, error)
	// CustomerInsertMany stores new customers like CustomerInsert, many
	// in a few statements.
	CustomerInsertMany(ctx context.Context, cs []*Customer) error
	// FieldOriginInsertMany records the origins of new customers' fields
	// (customers without recorded origins yet), many customers in one
	// statement; the origins of one customer are consecutive. A store may
	// keep a customer's origins of one kind, source and moment as one
	// value; FieldOriginList reads them back as they were given.
	FieldOriginInsertMany(ctx context.Context, orgID string, origins []CustomerFieldOrigin) error
	// OrganisationReserveCustomerNumbers takes n customer numbers at once
	// and returns the first (the others follow it).
	OrganisationReserveCustomerNumbers(ctx context.Context, orgID string, n int) (int64, error)
}

// ImportJob is the background job that runs an import.
type ImportJob struct {
	OrgID    string `json:"orgId"`
	ImportID string `json:"importId"`
}

// JobImport is the kind of ImportJob.
const JobImport = "import.run"

// Kind implements Job.
func (ImportJob) Kind() string { return JobImport }

// ImportService reads customers from files: a preview that shows the
// mapping, then an import run as a background job in batches, resumable,
// cancellable and revertible. It needs Config.Tables and Config.Blobs (the
// file and the row report are kept there).
type ImportService struct {
	*core
	customers *CustomerService
	consents  *ConsentService
}

// NewImport is the input of ImportService.Start and Preview.
type NewImport struct {
	FileName string       `json:"fileName" validate:"max=200"`
	Options  TableOptions `json:"options"`
	// Mode is add, update or upsert (default).
	Mode   ImportMode `json:"mode,omitempty"`
	DryRun bool       `json:"dryRun,omitempty"`
	// Mapping maps headers of the file to column keys; headers it does
	// not name are mapped automatically (ImportPreview shows how). A
	// header mapped to "" is left out.
	Mapping map[string]string `json:"mapping,omitempty"`
}

// ImportPreview is how a file would be read: detected format, the mapping
// of every column, and the first rows. Nothing is written.
type ImportPreview struct {
	Options TableOptions   `json:"options"`
	Mapping []ImportColumn `json:"mapping"`
	Rows    [][]string     `json:"rows"`
}

// importFileKey and importReportKey name an import's blobs. Blob keys
// are an organisation and a SHA-256 (see BlobStore): these hash a name
// that no document's contents can have.
func importFileKey(orgID, id string) string { return importBlobKey(orgID, "import-file:"+id) }
func importReportKey(orgID, id string, seq int) string {
	return importBlobKey(orgID, fmt.Sprintf("import-report:%s:%d", id, seq))
}

func importBlobKey(orgID, name string) string {
	sum := sha256.Sum256([]byte(name))
	return blobKey(orgID, hex.EncodeToString(sum[:]))
}

func (s *ImportService) ready() error {
	if s.cfg.Tables == nil || s.cfg.Blobs == nil {
		return fmt.Errorf("%w: imports need Config.Tables and Config.Blobs", ErrFeatureOff)
	}
	return nil
}

// Preview reads the start of a file and says how it would be imported.
func (s *ImportService) Preview(ctx context.Context, r io.Reader, in NewImport) (*ImportPreview, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	tr, mapping, err := s.open(ctx, sc, v, r, &in)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	p := &ImportPreview{Options: tr.Detected(), Mapping: mapping, Rows: [][]string{}}
	for range 10 {
		row, _, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fileError(v, err)
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

// fileError is a file that cannot be read, as a validation error on "file".
func fileError(v *validation, err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return err
	}
	v.add("file", "invalid", "")
	return v.err()
}

// open opens the table and resolves the mapping.
func (s *ImportService) open(ctx context.Context, sc scope, v *validation, r io.Reader, in *NewImport) (TableReader, []ImportColumn, error) {
	v.checkText("", in)
	v.addStruct(s.validate, *in)
	switch in.Mode {
	case "":
		in.Mode = ImportUpsert
	case ImportAdd, ImportUpdate, ImportUpsert:
	default:
		v.add("mode", "oneof", "add, update, upsert")
	}
	switch in.Options.Format {
	case "", FormatCSV, FormatXLSX:
	default:
		v.add("options.format", "oneof", "csv, xlsx")
	}
	switch in.Options.Encoding {
	case "", "utf-8", "utf-16le", "utf-16be", "windows-1252", "iso-8859-2":
	default:
		v.add("options.encoding", "oneof", "utf-8, utf-16le, utf-16be, windows-1252, iso-8859-2")
	}
	switch in.Options.Delimiter {
	case "", ",", ";", "\t":
	default:
		v.add("options.delimiter", "oneof", `",", ";", "\t"`)
	}
	if err := v.err(); err != nil {
		return nil, nil, err
	}
	tr, err := s.cfg.Tables.Open(r, in.Options)
	if err != nil {
		return nil, nil, fileError(v, err)
	}
	mapping, err := s.mapping(ctx, sc, v, tr.Header(), in.Mapping)
	if err == nil {
		err = v.err()
	}
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	return tr, mapping, nil
}

// importKeys are the column keys an import writes (besides custom.KEY).
var importKeys = func() map[string]bool {
	m := map[string]bool{"phone": true, "tags": true, "attributes": true}
	for _, k := range ExportColumns {
		m[k] = true
	}
	delete(m, "createdAt")
	delete(m, "updatedAt")
	return m
}()

// mapping maps each header to a column key: explicitly, else by the
// organisation's custom fields (key or label), else by the header names
// of the five languages (i18n.ColumnFromHeader).
func (s *ImportService) mapping(ctx context.Context, sc scope, v *validation, header []string, explicit map[string]string) ([]ImportColumn, error) {
	defs, err := s.store.CustomFieldList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	valid := func(key string) bool {
		if importKeys[key] {
			return true
		}
		ck, ok := strings.CutPrefix(key, "custom.")
		return ok && slices.ContainsFunc(defs, func(d CustomFieldDefinition) bool { return d.Key == ck && !d.Archived() })
	}
	for h, key := range explicit {
		if key != "" && !valid(key) {
			v.add("mapping."+h, "unknown", "")
		}
		if !slices.Contains(header, h) {
			v.add("mapping."+h, "unknown", "")
		}
	}
	out := make([]ImportColumn, len(header))
	used := map[string]bool{}
	for i, h := range header {
		out[i] = ImportColumn{Index: i, Header: h}
		key, ok := explicit[h]
		if !ok {
			hk := i18n.HeaderKey(h)
			for _, d := range defs {
				if !d.Archived() && (i18n.HeaderKey(d.Label) == hk || d.Key == h || "custom."+d.Key == h) {
					key = "custom." + d.Key
					break
				}
			}
			if key == "" {
				if strings.HasPrefix(h, "custom.") && valid(h) {
					key = h
				} else {
					key = i18n.ColumnFromHeader(h)
				}
			}
			if !valid(key) {
				key = ""
			}
		}
		if key != "" && used[key] {
			if ok {
				v.add("mapping."+h, "duplicate", "")
			}
			key = "" // the first column with that meaning wins
		}
		used[key] = key != ""
		out[i].Key = key
	}
	return out, nil
}

// Start stores the file and queues its import as a background job. The
// mapping is resolved now (see Preview); a file that cannot be read or a
// mapping that names unknown columns is a *ValidationError and nothing is
// stored.
func (s *ImportService) Start(ctx context.Context, r io.Reader, in NewImport) (*FileImport, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	id := newID()
	key := importFileKey(sc.org, id)
	if err := s.cfg.Blobs.Put(ctx, key, r); err != nil {
		return nil, err
	}
	f, err := s.cfg.Blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v := newValidation(sc.lang)
	tr, mapping, err := s.open(ctx, sc, v, f, &in)
	if err != nil {
		_ = s.cfg.Blobs.Delete(ctx, key)
		return nil, err
	}
	opts := tr.Detected()
	tr.Close()
	if !slices.ContainsFunc(mapping, func(c ImportColumn) bool { return c.Key != "" }) {
		v.add("mapping", "required", "")
		_ = s.cfg.Blobs.Delete(ctx, key)
		return nil, v.err()
	}
	now := s.now()
	im := &FileImport{ID: id, OrgID: sc.org, FileName: in.FileName, Options: opts, Mode: in.Mode, DryRun: in.DryRun,
		Mapping: mapping, Status: ImportQueued, CreatedBy: sc.actor, CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.ImportInsert(ctx, im); err != nil {
			return err
		}
		return tx.JobEnqueue(ctx, ImportJob{OrgID: sc.org, ImportID: id})
	})
	if err != nil {
		_ = s.cfg.Blobs.Delete(ctx, key)
		return nil, err
	}
	return im, nil
}

// Get returns one import.
func (s *ImportService) Get(ctx context.Context, id string) (*FileImport, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "import " + id}
	}
	return s.store.ImportGet(ctx, sc.org, id)
}

// List returns the organisation's imports, newest first.
func (s *ImportService) List(ctx context.Context, page PageRequest) (Page[FileImport], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[FileImport]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && !validID(cur.ID)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[FileImport]{}, err
	}
	items, err := s.store.ImportList(ctx, sc.org, cur.ID, limit+1)
	if err != nil {
		return Page[FileImport]{}, err
	}
	out := Page[FileImport]{Items: items}
	if out.Items == nil {
		out.Items = []FileImport{}
	}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = cursor{ID: items[limit-1].ID}.encode()
	}
	return out, nil
}

// Cancel stops a queued or running import after the batch it is writing.
// What it wrote stays (Revert undoes it). An import that already ended is
// a *ConflictError.
func (s *ImportService) Cancel(ctx context.Context, id string) (*FileImport, error) {
	if _, err := s.writeScope(ctx); err != nil {
		return nil, err
	}
	for {
		im, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if im.Status != ImportQueued && im.Status != ImportRunning {
			return nil, &ConflictError{Field: "status", Reason: "the import has ended (" + string(im.Status) + ")"}
		}
		at := s.now()
		from := im.Rows
		im.Status, im.UpdatedAt, im.Finished = ImportCancelled, at, &at
		err = s.store.ImportUpdate(ctx, im, ImportUpdateParams{Rows: from, Statuses: []ImportStatus{ImportQueued, ImportRunning}})
		if errors.Is(err, ErrStaleVersion) {
			continue // a batch landed meanwhile: read again
		}
		if err != nil {
			return nil, err
		}
		s.dropUpload(ctx, im)
		return im, nil
	}
}
