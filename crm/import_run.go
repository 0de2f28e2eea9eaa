package crm

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("crm: dry run")

// importRun is the state of one run of an import.
type importRun struct {
	im      *FileImport
	sc      scope // the import acts: Import(id)
	org     *Organisation
	defs    []CustomFieldDefinition
	tags    map[string]Qualifier // by folded name
	attrs   map[string]Qualifier
	headers []string
}

// reportLine is one row's outcome in the report.
type reportLine struct {
	line     int
	outcome  ImportOutcome
	customer string
	reason   string
	cells    []string
}

// Run works the import from where it stopped: batch by batch, each in one
// transaction that also moves the import's position, so that a run cut
// off (a crash, a restart) resumes at the first batch not written and no
// row is written twice; two runs of one import at once write each batch
// once. It returns after the last row, after a cancel, or once budget has
// passed (zero: no limit; the import is then still running and Run is to
// be called again). progress, when set, sees the import after each batch.
//
// A dry run writes nothing: it runs in one transaction that is rolled
// back, and reports what the real run would do row by row.
func (s *ImportService) Run(ctx context.Context, id string, budget time.Duration, progress func(*FileImport)) (*FileImport, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	im, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if im.Status != ImportQueued && im.Status != ImportRunning {
		return im, nil
	}
	if im.DryRun {
		// Nothing of an earlier try was kept: start again.
		im.Rows, im.Created, im.Updated, im.Skipped, im.Refused, im.Batches = 0, 0, 0, 0, 0, 0
	}
	if im.Status == ImportQueued {
		from := im.Rows
		im.Status, im.UpdatedAt = ImportRunning, s.now()
		if err := s.store.ImportUpdate(ctx, im, ImportUpdateParams{Rows: from, Statuses: []ImportStatus{ImportQueued}}); err != nil {
			if errors.Is(err, ErrStaleVersion) {
				return s.Get(ctx, id)
			}
			return nil, err
		}
	}
	run := &importRun{im: im, sc: scope{org: sc.org, actor: Import(id), lang: sc.lang}}
	if run.org, err = s.organisation(ctx, s.store, run.sc); err != nil {
		return nil, err
	}
	run.sc.lang = run.org.DefaultLanguage
	if run.defs, err = s.store.CustomFieldList(ctx, sc.org); err != nil {
		return nil, err
	}
	f, err := s.cfg.Blobs.Open(ctx, importFileKey(sc.org, id))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := s.cfg.Tables.Open(f, im.Options)
	if err != nil {
		return s.fail(ctx, im, "the file cannot be read: "+err.Error())
	}
	defer tr.Close()
	run.headers = tr.Header()
	for range im.Rows {
		if _, _, err := tr.Next(); err != nil {
			return s.fail(ctx, im, "the file is shorter than the rows already read")
		}
	}
	rd := s.readAhead(ctx, run, tr)
	defer rd.stop()
	var deadline time.Time
	if budget > 0 {
		deadline = time.Now().Add(budget)
	}
	if im.DryRun {
		err = s.store.InTx(ctx, func(tx Store) error {
			if err := s.loadQualifiers(ctx, tx, run); err != nil {
				return err
			}
			for {
				done, err := s.batch(ctx, tx, run, rd)
				if err != nil {
					return err
				}
				if progress != nil {
					progress(im)
				}
				if done {
					return errDryRun
				}
			}
		})
		if !errors.Is(err, errDryRun) {
			return nil, err
		}
		return s.finish(ctx, im, im.Rows)
	}
	if err := s.loadQualifiers(ctx, s.store, run); err != nil {
		return nil, err
	}
	for {
		from := im.Rows
		var done bool
		err := s.store.InTx(ctx, func(tx Store) error {
			// A failed try leaves nothing behind: start the batch again
			// from the import as stored.
			run.im = ptrCopy(im)
			if done, err = s.batch(ctx, tx, run, rd); err != nil {
				return err
			}
			run.im.UpdatedAt = s.now()
			return tx.ImportUpdate(ctx, run.im, ImportUpdateParams{Rows: from, Statuses: []ImportStatus{ImportRunning}})
		})
		if errors.Is(err, ErrStaleVersion) {
			// Cancelled, or another run wrote this batch: see which.
			cur, gerr := s.Get(ctx, id)
			if gerr != nil {
				return nil, gerr
			}
			return cur, nil
		}
		if err != nil {
			// Tags made inside the rolled-back transaction are gone.
			_ = s.loadQualifiers(ctx, s.store, run)
			return nil, err
		}
		im = run.im
		if (!done && refreshAfter(im.Batches)) || (done && im.Batches >= 2) {
			refreshStatistics(ctx, s.store, done)
		}
		if progress != nil {
			progress(im)
		}
		if done {
			return s.finish(ctx, im, from)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return im, nil
		}
	}
}

func ptrCopy[T any](v *T) *T { c := *v; return &c }

// statisticsStore is a Store that refreshes the query planner's
// statistics (crm/store does).
type statisticsStore interface {
	// AnalyzeCustomers analyses the tables customers are looked up in.
	AnalyzeCustomers(ctx context.Context) error
	// AnalyzeChanged analyses the tables that changed much since their
	// last analysis.
	AnalyzeChanged(ctx context.Context) ([]string, error)
}

// refreshAfter says whether an import analyses the customers' tables
// after its batches-th batch (not its last): the 1st, 8th, 64th, ...
// Statistics that know no customers of the organisation (it was empty
// when they were taken, the common case of an import) make PostgreSQL
// plan the batch's lookups of the organisation's customers (the match's,
// and once the foreign key checks', 1.3 ms each instead of 5 µs in a
// 30,000-row import) as if it had none: an import's time would grow with
// the square of its size. A background component analyses tables
// (crm/background), but only once they changed by a tenth, which a new
// organisation's first rows in a large database are not; and it may not
// run. An analysis spaced out as the organisation grows eightfold costs
// little.
func refreshAfter(batches int) bool {
	return batches >= 1 && batches&(batches-1) == 0 && bits.TrailingZeros(uint(batches))%3 == 0
}

// refreshStatistics refreshes the planner's statistics when the store can:
// of the customers' tables, or (done) of every table the import changed
// much. It is best effort: without it the import is right, only slower.
func refreshStatistics(ctx context.Context, st Store, done bool) {
	if r, ok := st.(txRouter); ok {
		st = r.on(ctx)
	}
	a, ok := st.(statisticsStore)
	if !ok {
		return
	}
	if done {
		_, _ = a.AnalyzeChanged(ctx)
	} else {
		_ = a.AnalyzeCustomers(ctx)
	}
}

// finish marks the import done.
func (s *ImportService) finish(ctx context.Context, im *FileImport, _ int64) (*FileImport, error) {
	at := s.now()
	im.Status, im.UpdatedAt, im.Finished = ImportDone, at, &at
	expect := ImportUpdateParams{Rows: im.Rows, Statuses: []ImportStatus{ImportRunning}}
	if im.DryRun {
		expect.Rows = 0
	}
	if err := s.store.ImportUpdate(ctx, im, expect); err != nil {
		if errors.Is(err, ErrStaleVersion) {
			return s.Get(ctx, im.ID)
		}
		return nil, err
	}
	s.dropUpload(ctx, im)
	return im, nil
}

// fail marks the import failed with a message.
func (s *ImportService) fail(ctx context.Context, im *FileImport, msg string) (*FileImport, error) {
	at := s.now()
	from := im.Rows
	im.Status, im.Message, im.UpdatedAt, im.Finished = ImportFailed, msg, at, &at
	if err := s.store.ImportUpdate(ctx, im, ImportUpdateParams{Rows: from, Statuses: []ImportStatus{ImportRunning, ImportQueued}}); err != nil {
		return nil, err
	}
	s.dropUpload(ctx, im)
	return im, nil
}

// loadQualifiers reads the organisation's tags and attributes by name.
func (s *ImportService) loadQualifiers(ctx context.Context, st QualifierStore, run *importRun) error {
	run.tags, run.attrs = map[string]Qualifier{}, map[string]Qualifier{}
	for _, k := range []struct {
		kind QualifierKind
		m    map[string]Qualifier
	}{{KindTag, run.tags}, {KindAttribute, run.attrs}} {
		qs, err := st.QualifierList(ctx, run.sc.org, k.kind)
		if err != nil {
			return err
		}
		for _, q := range qs {
			k.m[i18n.SearchKey(q.Name)] = q
		}
	}
	return nil
}

// pendingCustomer is a customer a batch will create.
type pendingCustomer struct {
	c     *Customer
	tags  []string // qualifier ids
	attrs []string
	line  int
	as    *newFields // c's fields and what its creation records
}

// batch reads up to ImportBatchSize rows and does what they say in tx. It
// reports whether the file ended.
func (s *ImportService) batch(ctx context.Context, tx Store, run *importRun, rd *importReader) (bool, error) {
	im := run.im
	var (
		report  []reportLine
		pending []pendingCustomer
		keys    = map[string]int{} // match keys of pending customers → index
		now     = s.now()
		changes []ImportChange
		flushed [][2]int64 // numbers of the customers the batch wrote so far
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		first, err := tx.OrganisationReserveCustomerNumbers(ctx, run.sc.org, len(pending))
		if err != nil {
			return err
		}
		cs := make([]*Customer, len(pending))
		events := make([]HistoryEvent, 0, len(pending))
		var links []CustomerQualifier
		var origins []CustomerFieldOrigin
		for i := range pending {
			p := &pending[i]
			p.c.Number = first + int64(i)
			cs[i] = p.c
			for _, o := range NewOrigins(p.as.set, OriginImport, im.ID, now) {
				origins = append(origins, CustomerFieldOrigin{CustomerID: p.c.ID, FieldOrigin: o})
			}
			events = append(events, s.event(run.sc, p.c.ID, EventCustomerCreated, now, p.as.changes))
			links = append(links, s.links(run, p.c, KindTag, nil, p.tags, now)...)
			links = append(links, s.links(run, p.c, KindAttribute, nil, p.attrs, now)...)
			if len(p.tags) > 0 {
				events = append(events, s.event(run.sc, p.c.ID, EventTagsChanged, now, []FieldChange{{Field: "tags", New: namesIn(run.tags, p.tags)}}))
			}
			if len(p.attrs) > 0 {
				events = append(events, s.event(run.sc, p.c.ID, EventAttributesChanged, now, []FieldChange{{Field: "attributes", New: namesIn(run.attrs, p.attrs)}}))
			}
		}
		if err := tx.CustomerInsertMany(ctx, cs); err != nil {
			return err
		}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		if err := enqueueDuplicateCheck(ctx, tx, run.sc.org, ids...); err != nil {
			return err
		}
		if err := tx.HistoryAppend(ctx, events...); err != nil {
			return err
		}
		if err := tx.FieldOriginInsertMany(ctx, run.sc.org, origins); err != nil {
			return err
		}
		if err := tx.CustomerQualifierInsert(ctx, links...); err != nil {
			return err
		}
		for _, c := range cs {
			if c.NoPost || c.NoMailings {
				if err := s.consents.recordContactFlags(ctx, tx, run.sc, nil, c); err != nil {
					return err
				}
			}
		}
		if err := tx.ImportBatchInsert(ctx, ImportBatch{OrgID: run.sc.org, ImportID: im.ID, Seq: first, FromRow: im.Rows,
			First: first, Last: first + int64(len(pending)) - 1}); err != nil {
			return err
		}
		flushed = append(flushed, [2]int64{first, first + int64(len(pending)) - 1})
		pending, keys = pending[:0], map[string]int{}
		return nil
	}
	// The batch's rows come read and parsed (see importReader); the
	// database is asked once which of their keys exist: a row none of
	// whose keys exists (nor belongs to an earlier row of the batch) is a
	// new person, found without a statement of its own; the others are
	// matched one by one.
	chunk, err := rd.next(ctx)
	if err != nil {
		return false, err
	}
	items, rows, done := chunk.items, len(chunk.items), chunk.done
	present, err := s.probe(ctx, tx, run, func(yield func(*importRow) bool) {
		for _, it := range items {
			if it.row != nil && !yield(it.row) {
				return
			}
		}
	})
	if err != nil {
		return false, err
	}
	seen := map[string]bool{} // keys of the batch's earlier rows
	for n := range items {
		it := &items[n]
		r, row, rk := it.r, it.row, it.rk
		if row == nil {
			report = append(report, r)
			continue
		}
		if slices.ContainsFunc(rk, func(k string) bool { _, ok := keys[k]; return ok }) {
			// The same person as an earlier row of this batch: write
			// that one first, so that this row finds it.
			if err := flush(); err != nil {
				return false, err
			}
		}
		var old *Customer
		if !present.isNew(row, rk, seen, flushed, run.org.DefaultCountry) {
			if old, err = s.match(ctx, tx, run, row); err != nil {
				return false, err
			}
		}
		for _, k := range rk {
			seen[k] = true
		}
		switch {
		case old == nil && im.Mode == ImportUpdate:
			r.outcome, r.reason = RowSkipped, "no customer matches"
		case old != nil && im.Mode == ImportAdd:
			r.outcome, r.customer, r.reason = RowSkipped, old.ID, "matches customer "+strconv.FormatInt(old.Number, 10)
		case old != nil && old.AnonymisedAt != nil:
			r.outcome, r.customer, r.reason = RowSkipped, old.ID, "matches an anonymised customer"
		case old == nil:
			p, reason, err := s.newCustomer(ctx, tx, run, row, now)
			if err != nil {
				return false, err
			}
			if reason != "" {
				r.outcome, r.reason = RowRefused, reason
				break
			}
			for _, k := range rk {
				keys[k] = len(pending)
			}
			p.line = r.line
			pending = append(pending, p)
			r.outcome, r.customer = RowCreated, p.c.ID
		default:
			ch, reason, err := s.update(ctx, tx, run, row, old, now)
			if err != nil {
				return false, err
			}
			switch {
			case reason != "":
				r.outcome, r.customer, r.reason = RowRefused, old.ID, reason
			case ch == nil:
				r.outcome, r.customer, r.reason = RowSkipped, old.ID, "nothing to change"
			default:
				ch.Seq = im.Rows + int64(n+1)
				changes = append(changes, *ch)
				r.outcome, r.customer = RowUpdated, old.ID
			}
		}
		report = append(report, r)
	}
	if err := flush(); err != nil {
		return false, err
	}
	if err := tx.ImportChangeInsert(ctx, changes...); err != nil {
		return false, err
	}
	for _, r := range report {
		switch r.outcome {
		case RowCreated:
			im.Created++
		case RowUpdated:
			im.Updated++
		case RowSkipped:
			im.Skipped++
		case RowRefused:
			im.Refused++
		}
	}
	if rows > 0 {
		if err := s.putReport(ctx, run, im.Batches, report); err != nil {
			return false, err
		}
		im.Batches++
	}
	im.Rows += int64(rows)
	return done, nil
}

// putReport stores a batch's report: a CSV of line, outcome, customer,
// reason and the row's cells.
func (s *ImportService) putReport(ctx context.Context, run *importRun, seq int, lines []reportLine) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, l := range lines {
		rec := append([]string{strconv.Itoa(l.line), string(l.outcome), l.customer, l.reason}, l.cells...)
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return s.cfg.Blobs.Put(ctx, importReportKey(run.sc.org, run.im.ID, seq), &buf)
}

// links returns the links of customer c to the qualifiers ids it does not
// carry yet (have), tags in free slots. They carry c's number, which the
// store would otherwise read.
func (s *ImportService) links(run *importRun, c *Customer, kind QualifierKind, have []CustomerQualifier, ids []string, now time.Time) []CustomerQualifier {
	used := map[int]bool{}
	for _, l := range have {
		used[l.Slot] = true
	}
	var out []CustomerQualifier
	slot := 0
	for _, id := range ids {
		if slices.ContainsFunc(have, func(l CustomerQualifier) bool { return l.QualifierID == id }) {
			continue
		}
		l := CustomerQualifier{OrgID: run.sc.org, CustomerID: c.ID, QualifierID: id, Kind: kind, AddedAt: now, AddedBy: run.sc.actor,
			CustomerNumber: c.Number}
		if kind == KindTag {
			for slot++; used[slot]; slot++ {
			}
			l.Slot = slot
		}
		out = append(out, l)
	}
	return out
}

func namesIn(m map[string]Qualifier, ids []string) []string {
	var out []string
	for _, q := range m {
		if slices.Contains(ids, q.ID) {
			out = append(out, q.Name)
		}
	}
	slices.Sort(out)
	return out
}

// qualifierIDs returns the ids of the named tags or attributes, defining
// the ones the organisation does not have yet.
func (s *ImportService) qualifierIDs(ctx context.Context, tx Store, run *importRun, kind QualifierKind, names []string, now time.Time) ([]string, error) {
	m := run.tags
	if kind == KindAttribute {
		m = run.attrs
	}
	var ids []string
	for _, n := range names {
		key := i18n.SearchKey(n)
		q, ok := m[key]
		if !ok {
			q = Qualifier{ID: newID(), Kind: kind, Name: n, CreatedAt: now, UpdatedAt: now, Position: len(m)}
			if err := tx.QualifierInsert(ctx, run.sc.org, q); err != nil {
				return nil, err
			}
			m[key] = q
		}
		if !slices.Contains(ids, q.ID) {
			ids = append(ids, q.ID)
		}
	}
	return ids, nil
}

// newCustomer builds and checks the customer a row creates; reason says
// why the row is refused.
func (s *ImportService) newCustomer(ctx context.Context, tx Store, run *importRun, row *importRow, now time.Time) (pendingCustomer, string, error) {
	as := row.asNew
	if today := DateOf(now); as == nil || row.fields.FirstContact == nil && as.today != today {
		as = s.asNew(run, row, today)
	}
	if as.reason != "" {
		return pendingCustomer{}, as.reason, nil
	}
	if len(row.tags) > MaxTagsPerCustomer {
		return pendingCustomer{}, ErrTooManyTags.Error(), nil
	}
	tags, err := s.qualifierIDs(ctx, tx, run, KindTag, row.tags, now)
	if err != nil {
		return pendingCustomer{}, "", err
	}
	attrs, err := s.qualifierIDs(ctx, tx, run, KindAttribute, row.attrs, now)
	if err != nil {
		return pendingCustomer{}, "", err
	}
	c := &Customer{ID: newID(), OrgID: run.sc.org, CustomerFields: as.fields, CreatedAt: now, UpdatedAt: now,
		LastActivityAt: now, Version: 1, SortKey: as.sortKey}
	return pendingCustomer{c: c, tags: tags, attrs: attrs, as: as}, "", nil
}

// newFields is an import row as a new customer: its checked fields and
// what its creation records, or why it is refused.
type newFields struct {
	today   Date // the day whose date a missing first contact took
	fields  CustomerFields
	sortKey []byte
	changes []FieldChange // the customer.created event's
	set     []string      // the fields the import gave a value (their origins)
	reason  string
}

// asNew works out row as a new customer made on today: the defaults of a
// new customer, the checks, and from one rendering of the checked fields
// what the creation records (MergeFields(nil, ...)'s set and
// diffCustomer(nil, ...)). It reads only what does not change during a
// run, so the reader works it out ahead of the batch for every row that
// may become a customer (most rows of an import): the checks (phone
// numbers above all) are then off the path of the batch's transaction.
func (s *ImportService) asNew(run *importRun, row *importRow, today Date) *newFields {
	in := row.fields
	if in.Status == "" {
		in.Status = StatusCustomer
	}
	if in.Language == "" {
		in.Language = run.org.DefaultLanguage
	}
	if in.FirstContact == nil {
		in.FirstContact = &today
	}
	fields, err := s.customers.check(run.sc, run.org, run.defs, in, nil)
	if err != nil {
		return &newFields{today: today, reason: reasonOf(err)}
	}
	flat := flatFields(&fields)
	return &newFields{today: today, fields: fields, sortKey: SortKey(run.org.DefaultLanguage, &fields),
		changes: diffFlat(true, map[string]any{}, flat), set: createdSet(flat)}
}

// update changes a matched customer with what the row gives: every field
// the row has a value for (empty cells leave fields alone), phone numbers
// and e-mail addresses added to those the customer has, tags and
// attributes added. It returns nil when nothing changes.
func (s *ImportService) update(ctx context.Context, tx Store, run *importRun, row *importRow, old *Customer, now time.Time) (*ImportChange, string, error) {
	// The row's values, checked and normalised on their own first.
	in, err := s.customers.check(run.sc, run.org, run.defs, row.incoming(old), old)
	if err != nil {
		return nil, reasonOf(err), nil
	}
	list, err := tx.FieldOriginList(ctx, run.sc.org, old.ID)
	if err != nil {
		return nil, "", err
	}
	// The field-origin rule: the import fills empty fields and refreshes
	// what imports and interactions set, never what staff set.
	merged, set := MergeFields(&old.CustomerFields, originsOf(list), &in, OriginImport)
	if row.given["noPost"] {
		merged.NoPost = in.NoPost
	}
	if row.given["noMailings"] {
		merged.NoMailings = in.NoMailings
	}
	next := *old
	fields, err := s.customers.check(run.sc, run.org, run.defs, merged, old)
	if err != nil {
		return nil, reasonOf(err), nil
	}
	next.CustomerFields = fields
	next.SortKey = SortKey(run.org.DefaultLanguage, &fields)
	var addLinks []CustomerQualifier
	var events []HistoryEvent
	for _, k := range []struct {
		kind  QualifierKind
		names []string
		event EventKind
		field string
		m     map[string]Qualifier
	}{{KindTag, row.tags, EventTagsChanged, "tags", run.tags}, {KindAttribute, row.attrs, EventAttributesChanged, "attributes", run.attrs}} {
		if len(k.names) == 0 {
			continue
		}
		ids, err := s.qualifierIDs(ctx, tx, run, k.kind, k.names, now)
		if err != nil {
			return nil, "", err
		}
		have, err := tx.CustomerQualifierList(ctx, run.sc.org, k.kind, []string{old.ID})
		if err != nil {
			return nil, "", err
		}
		add := s.links(run, old, k.kind, have, ids, now)
		if len(add) == 0 {
			continue
		}
		if k.kind == KindTag && len(have)+len(add) > MaxTagsPerCustomer {
			return nil, ErrTooManyTags.Error(), nil
		}
		haveIDs := make([]string, len(have))
		for i, l := range have {
			haveIDs[i] = l.QualifierID
		}
		addLinks = append(addLinks, add...)
		afterIDs := append(slices.Clone(haveIDs), ids...)
		events = append(events, s.event(run.sc, old.ID, k.event, now,
			[]FieldChange{{Field: k.field, Old: nilIfEmpty(namesIn(k.m, haveIDs)), New: namesIn(k.m, afterIDs)}}))
	}
	changes := diffCustomer(old, &next)
	if len(changes) == 0 && len(addLinks) == 0 {
		return nil, "", nil
	}
	next.UpdatedAt, next.LastActivityAt, next.Version = now, now, old.Version+1
	if err := tx.CustomerUpdate(ctx, &next, old); err != nil {
		return nil, "", err
	}
	if len(changes) > 0 {
		events = append([]HistoryEvent{s.event(run.sc, old.ID, EventCustomerUpdated, now, changes)}, events...)
	}
	if duplicateFieldsChanged(changes) {
		if err := enqueueDuplicateCheck(ctx, tx, run.sc.org, old.ID); err != nil {
			return nil, "", err
		}
	}
	if err := tx.HistoryAppend(ctx, events...); err != nil {
		return nil, "", err
	}
	if err := tx.CustomerQualifierInsert(ctx, addLinks...); err != nil {
		return nil, "", err
	}
	if err := tx.FieldOriginSet(ctx, run.sc.org, old.ID, NewOrigins(set, OriginImport, run.im.ID, now)); err != nil {
		return nil, "", err
	}
	if err := s.consents.recordContactFlags(ctx, tx, run.sc, old, &next); err != nil {
		return nil, "", err
	}
	return &ImportChange{OrgID: run.sc.org, ImportID: run.im.ID, CustomerID: old.ID, VersionAfter: next.Version, Before: old.CustomerFields}, "", nil
}

// reasonOf is the text of a row's refusal.
func reasonOf(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			parts[i] = f.Message
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// importItem is one row of a batch as read: its report line (refused
// already when it could not be parsed), its fields and its match keys.
type importItem struct {
	r   reportLine
	row *importRow
	rk  []string
}

// importChunk is the rows of one batch, read and parsed; done says the
// file ended after them.
type importChunk struct {
	items []importItem
	done  bool
	err   error
}

// importReader reads and parses the file's rows a batch ahead, on a
// goroutine of its own, while the batch before is written: parsing (the
// file's decoding, phone numbers, dates, e-mail checks) is the import's
// own processor work, and overlapped it no longer adds to the database's.
// Parsing reads only what does not change during a run (the mapping, the
// organisation's country, the custom field definitions).
type importReader struct {
	chunks chan importChunk
	cancel context.CancelFunc
	done   chan struct{}
}

// readAhead starts reading tr's rows in batches of Config.ImportBatch.
func (s *ImportService) readAhead(ctx context.Context, run *importRun, tr TableReader) *importReader {
	// Its own copy of what parsing reads: each batch's transaction
	// replaces run.im.
	run = &importRun{im: ptrCopy(run.im), sc: run.sc, org: run.org, defs: run.defs}
	mayCreate := run.im.Mode != ImportUpdate
	ctx, cancel := context.WithCancel(ctx)
	rd := &importReader{chunks: make(chan importChunk, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rd.done)
		defer close(rd.chunks)
		for {
			var ch importChunk
			today := DateOf(s.now())
			for len(ch.items) < s.cfg.ImportBatch {
				cells, line, err := tr.Next()
				if errors.Is(err, io.EOF) {
					ch.done = true
					break
				}
				if err != nil {
					ch.err = err
					break
				}
				it := importItem{r: reportLine{line: line, cells: cells}}
				row, reason := s.parseRow(run, cells)
				if reason != "" {
					it.r.outcome, it.r.reason = RowRefused, reason
				} else {
					it.row, it.rk = row, row.matchKeys(run.org.DefaultCountry)
					if mayCreate {
						row.asNew = s.asNew(run, row, today)
					}
				}
				ch.items = append(ch.items, it)
			}
			select {
			case rd.chunks <- ch:
			case <-ctx.Done():
				return
			}
			if ch.done || ch.err != nil {
				return
			}
		}
	}()
	return rd
}

// next returns the next batch's rows. After the file's end or a failure
// to read it, it keeps returning an empty, done batch.
func (rd *importReader) next(ctx context.Context) (importChunk, error) {
	select {
	case ch, ok := <-rd.chunks:
		if !ok {
			return importChunk{done: true}, nil
		}
		return ch, ch.err
	case <-ctx.Done():
		return importChunk{}, ctx.Err()
	}
}

// stop ends the reading and waits for it, so that the file can be closed.
func (rd *importReader) stop() {
	rd.cancel()
	<-rd.done
}
