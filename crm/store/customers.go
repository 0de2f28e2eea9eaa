package store

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	bundialect "github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/dossiercrm/dossier/crm"
)

// customerColumns lists the customer columns unqualified. bun names each
// "customer_row"."col", and SQLite parses the statement on every call: the
// shorter text makes Get by id about a tenth faster there.
var customerColumns = func() string {
	t := reflect.TypeFor[customerRow]()
	var cols []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("bun"), ",")
		if name != "" && !strings.HasPrefix(name, "table:") {
			cols = append(cols, name)
		}
	}
	return strings.Join(cols, ", ")
}()

// customerUpdateExcluded are the columns an update leaves alone: the
// identity (id, organisation, number) and the creation time;
// anonymised_at is only ever set by CustomerAnonymise.
var customerUpdateExcluded = []string{"id", "org_id", "number", "created_at", "anonymised_at"}

// CustomerInsert implements crm.CustomerStore. On PostgreSQL the rows go
// to the server in one batch of statements (dialect.batchWrites): a create
// holds its organisation's number counter from OrganisationNextCustomerNumber
// until it commits, and the counter's next taker waits for every round
// trip in between.
func (s *DB) CustomerInsert(ctx context.Context, c *crm.Customer) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		search := searchRow{OrgID: c.OrgID, Number: c.Number, Text: crm.SearchText(&c.CustomerFields)}
		queries := []*bun.InsertQuery{db.NewInsert().Model(customerToRow(c)).Returning("NULL")} // see insertAll
		if s.batch != nil && s.dialect.oneWriter {
			s.batch.search = append(s.batch.search, search) // inserted after the batch's savepoints (groupbatch.go)
		} else {
			queries = append(queries, db.NewInsert().Model(&search))
		}
		queries = append(queries, searchIndexInserts(db, c, crm.NameKeys(&c.CustomerFields))...)
		return s.execAll(ctx, db, queries)
	})
}

// execAll runs queries in order: each on its own, or on PostgreSQL all in
// one round trip (bun puts the arguments into the statements' text, so the
// batch goes as one simple query; db is a transaction, in which the batch
// runs in whole or fails at its first failing statement).
func (s *DB) execAll(ctx context.Context, db bun.IDB, queries []*bun.InsertQuery) error {
	tx, inTx := db.(bun.Tx)
	pipelined := s.batch != nil && s.batch.pipelined && inTx
	if !pipelined && (!s.dialect.batchWrites || !inTx || len(queries) < 2) {
		for _, q := range queries {
			if _, err := q.Exec(ctx); err != nil {
				return interpretError(err)
			}
		}
		return nil
	}
	var (
		b   []byte
		err error
	)
	for _, q := range queries {
		if b, err = q.AppendQuery(s.bun.QueryGen(), b); err != nil {
			return err
		}
		b = append(b, ";\n"...)
	}
	if pipelined { // after the call's savepoint and history rows, if not sent yet
		return s.batch.flush(ctx, string(b))
	}
	_, err = tx.Tx.ExecContext(ctx, string(b))
	return interpretError(err)
}

// CustomerGet implements crm.CustomerStore. With p.Latest the customer's
// latest review and note come in the same statement (customerLatestRow).
func (s *DB) CustomerGet(ctx context.Context, p crm.CustomerGetParams) (*crm.Customer, error) {
	var row customerLatestRow // without Latest, its review and note stay NULL
	q := s.db.NewSelect().Comment(preparedComment).TableExpr("customers AS c")
	switch {
	case !p.Latest:
		q = q.ColumnExpr(customerColumns)
	case s.dialect.name == sqliteDialect.name:
		q = q.ColumnExpr(customerLatestColumns).
			Join("LEFT JOIN customer_reviews AS cr ON cr.org_id = c.org_id AND cr.customer_id = c.id").
			Join("LEFT JOIN notes AS n ON n.org_id = c.org_id AND n.id = (SELECT l.id FROM notes AS l" +
				" WHERE l.org_id = c.org_id AND l.customer_id = c.id ORDER BY l.at DESC, l.id DESC LIMIT 1)")
	default:
		// The function's plans are kept (its migration says why).
		q = q.ColumnExpr(pgCustomerLatestColumns).Join("LEFT JOIN LATERAL customer_latest(c.org_id, c.id) AS x ON true")
	}
	q = q.Where("c.org_id = ?", p.OrgID)
	switch {
	case p.ID != "":
		q = q.Where("c.id = ?", p.ID)
	case p.Number != 0:
		q = q.Where("c.number = ?", p.Number)
	case p.LoginEmailKey != "":
		q = q.Where("c.login_email_key = ?", p.LoginEmailKey)
	default:
		return nil, crm.ErrNotFound
	}
	if err := q.Scan(ctx, &row); err != nil {
		err = interpretError(err)
		if errors.Is(err, crm.ErrNotFound) {
			err = s.tombstoneFor(ctx, p, err)
		}
		return nil, err
	}
	return row.toDomain(), nil
}

// customerLatestRow is a customer with its latest review and note, for
// CustomerGet with Latest: one statement instead of three. On PostgreSQL
// each statement was a round trip and a plan, and the HTTP GET of a
// customer ran at 0.42 to 0.47 of the bare handler's rate (3,650 to 3,800
// a second at 16 clients, 100,000 customers); on SQLite at 8,500 a
// second. The review and note columns are NULL when the customer has
// none. PostgreSQL reads them with the function customer_latest, SQLite
// with joins.
type customerLatestRow struct {
	customerRow

	ReviewInteractionID *string    `bun:"review_interaction_id"`
	ReviewScore         *int       `bun:"review_score"`
	ReviewMaxScore      *int       `bun:"review_max_score"`
	ReviewSource        *string    `bun:"review_source"`
	ReviewAt            *time.Time `bun:"review_at"`

	NoteID        *string    `bun:"note_id"`
	NoteBookingID *string    `bun:"note_booking_id"`
	NoteTypeID    *string    `bun:"note_type_id"`
	NoteText      *string    `bun:"note_text"`
	NoteAt        *time.Time `bun:"note_at"`
	NoteAuthorID  *string    `bun:"note_author_id"`
	NotePinned    *bool      `bun:"note_pinned"`
	NoteCreatedAt *time.Time `bun:"note_created_at"`
	NoteUpdatedAt *time.Time `bun:"note_updated_at"`
	NoteVersion   *int       `bun:"note_version"`
}

// customerColumnsOfC are customerColumns qualified by the alias c, for
// statements that join other tables to customers.
var customerColumnsOfC = "c." + strings.ReplaceAll(customerColumns, ", ", ", c.")

// customerLatestColumns are customerLatestRow's columns on SQLite.
var customerLatestColumns = customerColumnsOfC +
	", cr.interaction_id AS review_interaction_id, cr.score AS review_score, cr.max_score AS review_max_score" +
	", cr.source AS review_source, cr.at AS review_at" +
	", n.id AS note_id, n.booking_id AS note_booking_id, n.type_id AS note_type_id, n.text AS note_text" +
	", n.at AS note_at, n.author_id AS note_author_id, n.pinned AS note_pinned" +
	", n.created_at AS note_created_at, n.updated_at AS note_updated_at, n.version AS note_version"

// pgCustomerLatestColumns are the same from customer_latest (alias x).
var pgCustomerLatestColumns = customerColumnsOfC + ", x.*"

func (r *customerLatestRow) toDomain() *crm.Customer {
	c := r.customerRow.toDomain()
	if r.ReviewInteractionID != nil {
		row := reviewRow{OrgID: c.OrgID, CustomerID: c.ID, Score: deref(r.ReviewScore), MaxScore: deref(r.ReviewMaxScore),
			Source: deref(r.ReviewSource), At: deref(r.ReviewAt), InteractionID: *r.ReviewInteractionID}
		c.LatestReview = row.toDomain()
	}
	if r.NoteID != nil {
		row := noteRow{OrgID: c.OrgID, ID: *r.NoteID, CustomerID: c.ID, BookingID: deref(r.NoteBookingID),
			TypeID: deref(r.NoteTypeID), Text: deref(r.NoteText), At: deref(r.NoteAt), AuthorID: deref(r.NoteAuthorID),
			Pinned: deref(r.NotePinned), CreatedAt: deref(r.NoteCreatedAt), UpdatedAt: deref(r.NoteUpdatedAt),
			Version: deref(r.NoteVersion)}
		n := row.toDomain()
		c.LatestNote = &n
	}
	return &c
}

// deref is *p, or the zero value when p is nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// CustomerUpdate implements crm.CustomerStore. The version in the WHERE
// clause is what makes optimistic locking hold when two transactions read
// the same version: the second UPDATE finds no row.
//
// The names and contacts before the change (whose keys are the ones to
// remove) are before's: the UPDATE applies only while the stored version
// is before's, and every write of a name or a contact raises the version,
// so the stored ones are before's whenever it applies.
func (s *DB) CustomerUpdate(ctx context.Context, c *crm.Customer, before *crm.Customer) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		res, err := db.NewUpdate().Comment(preparedComment).Model(customerToRow(c)).
			ExcludeColumn(customerUpdateExcluded...).
			Where("org_id = ?", c.OrgID).
			Where("id = ?", c.ID).
			Where("version = ?", before.Version).
			Exec(ctx)
		if err := oneRow(res, err); err != nil {
			if !errors.Is(err, crm.ErrNotFound) {
				return err
			}
			exists, err := db.NewSelect().Model((*customerRow)(nil)).
				Where("org_id = ?", c.OrgID).Where("id = ?", c.ID).Exists(ctx)
			if err != nil {
				return interpretError(err)
			}
			if exists {
				return crm.ErrStaleVersion
			}
			return crm.ErrNotFound
		}
		// The name keys are rewritten only when a name changed; the keys of
		// the old names are computed again to find them.
		oldKeys, newKeys := crm.NameKeys(&before.CustomerFields), crm.NameKeys(&c.CustomerFields)
		if sameSet(oldKeys, newKeys) {
			newKeys = nil
		} else if err := deleteNameKeys(ctx, db, c.OrgID, before.Number, oldKeys); err != nil {
			return err
		}
		// The search text holds the names only: most updates (a phone, an
		// address, remarks) leave it as it is, and rewriting it anyway
		// rewrites its trigram index entries (SQLite's FTS5 trigger fires
		// for any UPDATE OF text; PostgreSQL writes a new row version).
		text := crm.SearchText(&c.CustomerFields)
		textChanged := text != crm.SearchText(&before.CustomerFields)
		oldEmails, oldPhones := indexedContacts(&before.CustomerFields)
		newEmails, newPhones := indexedContacts(&c.CustomerFields)
		contactsChanged := !sameSet(oldEmails, newEmails) || !sameSet(oldPhones, newPhones)
		if s.dialect.name == postgresDialect.name {
			// One statement (a round trip) for the search text and the
			// e-mail and phone rows: the rows the record no longer has go,
			// those it gained come; the others stay as they are. None
			// when none of them changes.
			if textChanged || contactsChanged {
				if err := pgSearchIndexUpdate(ctx, db, c, oldPhones, text, textChanged); err != nil {
					return err
				}
			}
			return insertAll(ctx, db, nameKeyRows(c.OrgID, c.Number, newKeys))
		}
		// The search text is changed in place: on SQLite its row id orders
		// the trigram index's results, and stays the customer's for life.
		if textChanged {
			if _, err := db.NewUpdate().Comment(preparedComment).Model((*searchRow)(nil)).Set("text = ?", text).
				Where("org_id = ?", c.OrgID).Where("number = ?", c.Number).Exec(ctx); err != nil {
				return interpretError(err)
			}
		}
		if !contactsChanged {
			return insertAll(ctx, db, nameKeyRows(c.OrgID, c.Number, newKeys))
		}
		if err := deleteSearchIndex(ctx, db, before); err != nil {
			return err
		}
		for _, q := range searchIndexInserts(db, c, newKeys) {
			if _, err := q.Exec(ctx); err != nil {
				return interpretError(err)
			}
		}
		return nil
	})
}

// customerNames reads the number, the name fields, the phones and the
// alternative e-mail addresses of a customer, the inputs of its search
// indexes, locking its row on PostgreSQL (on SQLite the write transaction
// excludes every other writer): a writer that changes or removes them
// reads them first, to remove their keys or to see that they stay.
func customerNames(ctx context.Context, db bun.IDB, orgID, id string) (*crm.Customer, error) {
	var r customerRow
	q := db.NewSelect().Comment(preparedComment).Model(&r).Column("number", "first_name", "middle_name", "last_name", "company", "phones", "alt_emails").
		Where("org_id = ?", orgID).Where("id = ?", id)
	if db.Dialect().Name() == bundialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return &crm.Customer{Number: r.Number, CustomerFields: crm.CustomerFields{
		FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName, Company: r.Company,
		Phones: r.Phones, AltEmails: r.AltEmails}}, nil
}

// indexedContacts are the keys of a customer's alternative e-mail and
// phone rows (customer_emails, customer_phones), as searchIndexInserts
// and pgSearchIndexUpdate write them.
func indexedContacts(f *crm.CustomerFields) (emails, phones []string) {
	numbers := make([]string, len(f.Phones))
	for i, p := range f.Phones {
		numbers[i] = p.Number
	}
	return dedupe(f.AltEmails, crm.EmailKey), dedupe(numbers, strings.TrimSpace)
}

// deleteNameKeys removes the given name keys of the customer with number
// in orgID: each by its primary key.
func deleteNameKeys(ctx context.Context, db bun.IDB, orgID string, number int64, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := db.NewDelete().Model((*nameKeyRow)(nil)).
		Where("org_id = ?", orgID).Where("key IN (?)", bun.List(keys)).Where("number = ?", number).Exec(ctx)
	return interpretError(err)
}

// removeNameKeys removes every name key of the customer id of orgID,
// computed from the names its row holds, and returns the customer as
// customerNames reads it: call it before the names change or the row goes.
func removeNameKeys(ctx context.Context, db bun.IDB, orgID, id string) (*crm.Customer, error) {
	c, err := customerNames(ctx, db, orgID, id)
	if err != nil {
		return nil, err
	}
	return c, deleteNameKeys(ctx, db, orgID, c.Number, crm.NameKeys(&c.CustomerFields))
}

// removeRecordIndexes removes the rows that index the record of the
// customer id of orgID by its number: its name keys, its phone rows and
// its search row. Call it before the row goes. They have no foreign key to
// the customer, whose cascade would need an index by customer id about as
// large as they are.
func removeRecordIndexes(ctx context.Context, db bun.IDB, orgID, id string) error {
	c, err := removeNameKeys(ctx, db, orgID, id)
	if err != nil {
		return err
	}
	_, phones := indexedContacts(&c.CustomerFields)
	if err := deletePhoneRows(ctx, db, orgID, c.Number, phones); err != nil {
		return err
	}
	_, err = db.NewDelete().Model((*searchRow)(nil)).Where("org_id = ?", orgID).Where("number = ?", c.Number).Exec(ctx)
	return interpretError(err)
}

// CustomerDelete implements crm.CustomerStore. The e-mail rows go with the
// customer (ON DELETE CASCADE); the name keys, the phone and search rows
// and the history rows have no foreign key and are deleted here.
func (s *DB) CustomerDelete(ctx context.Context, orgID, id string) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if err := removeRecordIndexes(ctx, db, orgID, id); err != nil {
			return err
		}
		res, err := db.NewDelete().Model((*customerRow)(nil)).
			Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		_, err = db.NewDelete().Model((*historyRow)(nil)).
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx)
		return interpretError(err)
	})
}

// maxKey is above every valid UTF-8 string that starts with the same prefix:
// prefix <= key < prefix+maxKey is a prefix match that uses the index.
const maxKey = "\U0010FFFF"

// CustomerList implements crm.CustomerStore. It runs in two steps: the
// numbers of the page's customers, found with the filter's indexes alone,
// then those customers' rows. Only a page of rows is ever read whole.
func (s *DB) CustomerList(ctx context.Context, p crm.CustomerListParams) ([]crm.Customer, error) {
	keys, order, led, err := s.pageNumbers(ctx, p)
	if err != nil {
		return nil, err
	}
	var rows []customerRow
	query := func(db bun.IDB) *bun.SelectQuery {
		return db.NewSelect().Model(&rows).ColumnExpr(customerColumns).Where("org_id = ?", p.OrgID).Where("number IN (?)", keys).
			OrderExpr(order)
	}
	read := func(db bun.IDB) error { return query(db).Scan(ctx) }
	_, inTx := s.db.(bun.Tx)
	// The settings cost round trips; only the tag-led and contains-search
	// plans need them (plain and prefix lists read one index range, which
	// the planner never splits among workers).
	switch {
	case len(s.dialect.pageSettings) == 0 || (!led && p.NameContains == ""):
		err = read(s.db)
	case !inTx:
		// Outside a transaction the settings and the query go as one
		// simple query: PostgreSQL runs its statements in one implicit
		// transaction, to whose end SET LOCAL holds. One round trip
		// instead of four (BEGIN, SET LOCAL, SELECT, COMMIT).
		var b []byte
		if b, err = query(s.db).AppendQuery(s.bun.QueryGen(), nil); err == nil {
			var sqlRows *sql.Rows
			sqlRows, err = s.bun.DB.QueryContext(ctx, strings.Join(s.dialect.pageSettings, "; ")+"; "+string(b))
			if err == nil {
				err = s.bun.ScanRows(ctx, sqlRows, &rows)
			}
		}
	default:
		err = s.atomic(ctx, func(db bun.IDB) error {
			for _, stmt := range s.dialect.pageSettings {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return read(db)
		})
	}
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Customer, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// pageNumbers returns the query of the numbers of the customers on the page
// p asks for, the ORDER BY of that page for the rows, and whether a tag leads.
func (s *DB) pageNumbers(ctx context.Context, p crm.CustomerListParams) (*bun.SelectQuery, string, bool, error) {
	q := s.db.NewSelect().TableExpr("customers AS c").ColumnExpr("c.number")
	var drive *pageDriver
	if p.Sort == crm.SortNumber || p.Sort == "" {
		drive = chooseDriver(&p)
	}
	if drive != nil {
		// The page is read along the driving tag's (or consent's) links in
		// number order, looking up each customer and stopping at a full
		// page: the link narrows the search more than any index of
		// customers could.
		q = s.db.NewSelect().TableExpr(drive.table+" AS drv").ColumnExpr("c.number").
			Join(s.dialect.drivenJoin+" customers AS c ON c.org_id = drv.org_id AND c.number = drv.number").
			Where("drv.org_id = ?", p.OrgID)
		if drive.table == "customer_consents" {
			q = q.Where("drv.purpose_id = ?", drive.id).Where("drv.state = ?", crm.ConsentGranted)
		} else {
			q = q.Where("drv.kind = ?", drive.kind).Where("drv.qualifier_id = ?", drive.id)
		}
	}
	use := forPageOther
	if p.Sort == crm.SortNumber || p.Sort == "" {
		use = forPageByNumber
	}
	q, err := s.filter(ctx, q, p, "c", use)
	if err != nil {
		return nil, "", false, err
	}
	var order string
	switch p.Sort {
	case crm.SortName:
		if p.AfterNumber > 0 {
			q = q.Where("(c.sort_key > ? OR (c.sort_key = ? AND c.number > ?))", p.AfterSortKey, p.AfterSortKey, p.AfterNumber)
		}
		q, order = q.OrderExpr("c.sort_key, c.number"), "sort_key, number"
	case crm.SortCreated:
		if p.AfterNumber > 0 {
			q = q.Where("(c.created_at > ? OR (c.created_at = ? AND c.number > ?))", p.AfterCreated, p.AfterCreated, p.AfterNumber)
		}
		q, order = q.OrderExpr("c.created_at, c.number"), "created_at, number"
	case crm.SortCreatedDesc:
		if p.AfterNumber > 0 {
			q = q.Where("(c.created_at < ? OR (c.created_at = ? AND c.number < ?))", p.AfterCreated, p.AfterCreated, p.AfterNumber)
		}
		q, order = q.OrderExpr("c.created_at DESC, c.number DESC"), "created_at DESC, number DESC"
	default:
		by := "c.number"
		if drive != nil {
			by = "drv.number" // the same value; ordering by the driving index lets it stop early
		}
		if p.AfterNumber > 0 {
			q = q.Where(by+" > ?", p.AfterNumber)
			if drive != nil && s.dialect.boundBothSides {
				q = q.Where("c.number > ?", p.AfterNumber)
			}
		}
		q, order = q.OrderExpr(by), "number"
	}
	return q.Limit(int64(p.Limit)), order, drive != nil, nil
}

// pageDriver is a tag, attribute or granted consent whose links lead a
// page in number order.
type pageDriver struct {
	table string // customer_qualifiers or customer_consents
	kind  crm.QualifierKind
	id    string
}

// chooseDriver picks the tag or attribute that must be present (the single
// one of "any", or the first of "all"), else a consent that must be
// granted, to lead the page, and takes it out of p so that the filter does
// not test it twice.
func chooseDriver(p *crm.CustomerListParams) *pageDriver {
	for _, f := range []struct {
		kind crm.QualifierKind
		qf   *crm.QualifierFilter
	}{{crm.KindTag, &p.Tags}, {crm.KindAttribute, &p.Attributes}} {
		switch {
		case len(f.qf.All) > 0:
			d := &pageDriver{table: "customer_qualifiers", kind: f.kind, id: f.qf.All[0]}
			f.qf.All = f.qf.All[1:]
			return d
		case len(dedupe(f.qf.Any, func(s string) string { return s })) == 1:
			d := &pageDriver{table: "customer_qualifiers", kind: f.kind, id: f.qf.Any[0]}
			f.qf.Any = nil
			return d
		}
	}
	// A granted consent leads mailing selections: it is their one
	// condition that always holds.
	for i, c := range p.Consents {
		if c.State == crm.ConsentGranted {
			d := &pageDriver{table: "customer_consents", id: c.PurposeID}
			p.Consents = append(slices.Clip(p.Consents[:i]), p.Consents[i+1:]...)
			return d
		}
	}
	return nil
}

// CustomerCount implements crm.CustomerStore.
func (s *DB) CustomerCount(ctx context.Context, p crm.CustomerListParams) (int64, error) {
	q, err := s.filter(ctx, s.db.NewSelect().TableExpr("customers AS c"), p, "c", forCount)
	if err != nil {
		return 0, err
	}
	n, err := q.Count(ctx)
	return int64(n), interpretError(err)
}

// filterFor says what a filtered query of customers reads; how some
// criteria are best written depends on it.
type filterFor int

const (
	forPageByNumber filterFor = iota // a page in number order
	forPageOther                     // a page in another order
	forCount                         // a count, in no order
)

// filter adds the criteria of p to a query of customers (under alias c):
// every criterion is a condition the database evaluates with an index,
// never Go code. use says what the query reads.
func (s *DB) filter(ctx context.Context, q *bun.SelectQuery, p crm.CustomerListParams, c string, use filterFor) (*bun.SelectQuery, error) {
	pageOrder := use == forPageByNumber
	col := func(name string) string { return c + "." + name }
	q = q.Where(col("org_id")+" = ?", p.OrgID)
	if p.NamePrefix != "" {
		// Matching on number, not id: the list of matching numbers comes
		// sorted out of the key index, so the database can fetch customers in
		// page order and stop when the page is full instead of sorting every match.
		q = q.Where(col("number")+" IN (?)", s.db.NewSelect().Model((*nameKeyRow)(nil)).Column("number").
			Where("org_id = ?", p.OrgID).
			Where("key >= ?", p.NamePrefix).
			Where("key < ?", p.NamePrefix+maxKey))
	}
	if p.NameContains != "" {
		var err error
		if q, err = s.dialect.nameContains(&s.dialect, ctx, s.db, q, c, p.OrgID, p.NameContains, pageOrder); err != nil {
			return nil, interpretError(err)
		}
	}
	if p.EmailKey != "" {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where(col("login_email_key")+" = ?", p.EmailKey).
				WhereOr(col("email_key")+" = ?", p.EmailKey).
				WhereOr(col("id")+" IN (?)", s.db.NewSelect().Model((*emailRow)(nil)).Column("customer_id").
					Where("org_id = ?", p.OrgID).Where("email_key = ?", p.EmailKey))
		})
	}
	if p.Phone != "" {
		q = q.Where(col("number")+" IN (?)", s.db.NewSelect().Model((*phoneRow)(nil)).Column("customer_number").
			Where("org_id = ?", p.OrgID).Where("number = ?", p.Phone))
	}
	if p.BirthDate != nil {
		q = q.Where(col("birth_date")+" = ?", toDate(p.BirthDate))
	}
	if p.Number != 0 {
		q = q.Where(col("number")+" = ?", p.Number)
	}
	if p.Status != "" {
		q = q.Where(col("status")+" = ?", p.Status)
	}
	if p.Origin != "" {
		q = q.Where(col("origin")+" = ?", p.Origin)
	}
	if p.Language != "" {
		// The tag or any regional variant ("nl-BE"): tags hold letters,
		// digits and '-', and '-' is followed by '.' in byte order (the
		// column compares bytewise on both databases), so nothing else lies
		// between "nl" and "nl.".
		lang := col("language")
		// A count is written as a range on SQLite too: there the OR let
		// SQLite's planner, given sample statistics (sqlite_stat4, which a
		// full ANALYZE makes), combine the language and first-contact
		// indexes and read every row they found (a segment count at a
		// million customers: 256 ms instead of 156-188 ms on a quiet
		// machine); as a range it probes the covering page index for the
		// tag's customers. A count has no order, so the reason for the OR
		// (pages in name order, see languageAsRange) does not apply.
		if s.dialect.languageAsRange || use == forCount {
			q = q.Where(lang+" >= ?", p.Language).Where(lang+" < ?", p.Language+".")
		} else {
			q = q.Where("("+lang+" = ? OR ("+lang+" > ? AND "+lang+" < ?))", p.Language, p.Language+"-", p.Language+".")
		}
	}
	if p.AssignedTo != "" {
		q = q.Where(col("assigned_to")+" = ?", p.AssignedTo)
	}
	if p.FirstContactFrom != nil {
		q = q.Where(col("first_contact")+" >= ?", toDate(p.FirstContactFrom))
	}
	if p.FirstContactTo != nil {
		q = q.Where(col("first_contact")+" <= ?", toDate(p.FirstContactTo))
	}
	if !p.CreatedFrom.IsZero() {
		q = q.Where(col("created_at")+" >= ?", p.CreatedFrom)
	}
	if !p.CreatedTo.IsZero() {
		q = q.Where(col("created_at")+" < ?", p.CreatedTo)
	}
	q = s.qualifierFilter(q, col("number"), p.OrgID, crm.KindTag, p.Tags)
	q = s.qualifierFilter(q, col("number"), p.OrgID, crm.KindAttribute, p.Attributes)
	q = s.bookingFilter(q, col("number"), p.OrgID, p.Bookings)
	for _, cc := range p.Consents {
		holding := s.db.NewSelect().Model((*customerConsentRow)(nil)).Column("number").
			Where("org_id = ?", p.OrgID).Where("purpose_id = ?", cc.PurposeID)
		switch {
		case cc.State == crm.ConsentNever:
			q = q.Where(col("number")+" NOT IN (?)", holding)
		case cc.State == crm.ConsentNotWithdrawn && pageOrder:
			// A probe of the state index per customer of the page: NOT IN
			// would collect every withdrawn customer for every page.
			q = q.Where("NOT EXISTS (?"+s.dialect.probeFence+")", s.db.NewSelect().TableExpr("customer_consents AS nw").ColumnExpr("1").
				Where("nw.org_id = "+col("org_id")).Where("nw.purpose_id = ?", cc.PurposeID).
				Where("nw.state = ?", crm.ConsentWithdrawn).Where("nw.number = "+col("number")))
		case cc.State == crm.ConsentNotWithdrawn:
			q = q.Where(col("number")+" NOT IN (?)", holding.Where("state = ?", crm.ConsentWithdrawn))
		default:
			q = q.Where(col("number")+" IN (?)", holding.Where("state = ?", cc.State))
		}
	}
	if p.ExcludeAnonymised {
		q = q.Where(col("anonymised_at") + " IS NULL")
	}
	switch p.Reachable {
	case crm.ChannelEmail:
		q = q.Where("(" + col("email_key") + " IS NOT NULL OR " + col("login_email_key") + " IS NOT NULL)")
	case crm.ChannelPost:
		q = q.Where(col("street") + " <> ''").Where(col("city") + " <> ''")
	case crm.ChannelSMS:
		// A number in the record (each one valid, crm checks them): the
		// phone rows have no index by customer to look this up in.
		q = q.Where(s.dialect.hasPhones(col("phones")))
	}
	if p.MembershipLabel != "" {
		day := toDate(&p.MembershipDay)
		active := func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("m.org_id = ?", p.OrgID).Where("m.label_id = ?", p.MembershipLabel).
				Where("m.cancelled_at IS NULL").Where("m.starts_on <= ?", day).Where("m.ends_on >= ?", day)
		}
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where(col("id")+" IN (?)", active(s.db.NewSelect().TableExpr("memberships AS m").Column("m.holder_id"))).
				WhereOr(col("id")+" IN (?)", active(s.db.NewSelect().TableExpr("membership_shares AS sh").Column("sh.customer_id").
					Join("JOIN memberships AS m ON m.org_id = sh.org_id AND m.id = sh.membership_id")))
		})
	}
	return q, nil
}

// qualifierFilter adds the any/all/none conditions on tags or attributes.
// By number, not id: the link index yields the numbers of a tag's customers
// in order, the order of list pages.
func (s *DB) qualifierFilter(q *bun.SelectQuery, number, orgID string, kind crm.QualifierKind, f crm.QualifierFilter) *bun.SelectQuery {
	carrying := func(ids ...string) *bun.SelectQuery {
		return s.db.NewSelect().Model((*customerQualifierRow)(nil)).Column("number").
			Where("org_id = ?", orgID).Where("kind = ?", kind).Where("qualifier_id IN (?)", bun.List(ids))
	}
	if len(f.Any) > 0 {
		q = q.Where(number+" IN (?)", carrying(f.Any...))
	}
	// One condition per id: each is an index range the database can merge
	// or probe, where counting groups would read every link first.
	for _, id := range dedupe(f.All, func(s string) string { return s }) {
		q = q.Where(number+" IN (?)", carrying(id))
	}
	if len(f.None) > 0 {
		q = q.Where(number+" NOT IN (?)", carrying(f.None...))
	}
	return q
}

// CustomerSortKeysRebuild implements crm.CustomerStore, a page of customers at a time.
func (s *DB) CustomerSortKeysRebuild(ctx context.Context, orgID string, key func(*crm.CustomerFields) []byte) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		var after int64
		for {
			var rows []customerRow
			err := db.NewSelect().Model(&rows).Column("id", "number", "first_name", "middle_name", "last_name", "company").
				Where("org_id = ?", orgID).Where("number > ?", after).OrderExpr("number").Limit(1000).Scan(ctx)
			if err != nil {
				return interpretError(err)
			}
			for _, r := range rows {
				k := key(&crm.CustomerFields{FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName, Company: r.Company})
				if _, err := db.NewUpdate().Model((*customerRow)(nil)).Set("sort_key = ?", k).
					Where("org_id = ?", orgID).Where("id = ?", r.ID).Exec(ctx); err != nil {
					return interpretError(err)
				}
			}
			if len(rows) < 1000 {
				return nil
			}
			after = rows[len(rows)-1].Number
		}
	})
}

// searchIndexInserts are the statements that write the rows under which
// c is found: the name keys given (crm.NameKeys, or none when they stay),
// alternative e-mails and phone numbers, one statement per table that has
// rows for c (the contains-search text is written by CustomerInsert and
// CustomerUpdate).
func searchIndexInserts(db bun.IDB, c *crm.Customer, nameKeys []string) []*bun.InsertQuery {
	names := nameKeyRows(c.OrgID, c.Number, nameKeys)
	emailKeys, numbers := indexedContacts(&c.CustomerFields)
	var emails []emailRow
	for _, e := range emailKeys {
		emails = append(emails, emailRow{OrgID: c.OrgID, CustomerID: c.ID, EmailKey: e})
	}
	var phones []phoneRow
	for _, n := range numbers {
		phones = append(phones, phoneRow{OrgID: c.OrgID, Number: n, CustomerNumber: c.Number})
	}
	var queries []*bun.InsertQuery
	if len(names) > 0 { // bun refuses an empty slice
		queries = append(queries, db.NewInsert().Model(&names))
	}
	if len(emails) > 0 {
		queries = append(queries, db.NewInsert().Model(&emails))
	}
	if len(phones) > 0 {
		queries = append(queries, db.NewInsert().Model(&phones))
	}
	return queries
}

// pgSearchIndexUpdate sets the customer's search text to text (when
// textChanged) and makes its alternative e-mail and phone rows those of c
// (as searchIndexInserts writes them) in one call of a PostgreSQL
// procedure, customer_search_sync: the
// deletes take the rows c no longer has (of the phones, those among
// oldPhones, the numbers its record held), the inserts the ones it
// gained, so no row is both deleted and inserted.
func pgSearchIndexUpdate(ctx context.Context, db bun.IDB, c *crm.Customer, oldPhones []string, text string, textChanged bool) error {
	emails, phones := indexedContacts(&c.CustomerFields)
	if emails == nil {
		emails = []string{}
	}
	if phones == nil {
		phones = []string{}
	}
	gone := []string{}
	for _, n := range oldPhones {
		if !slices.Contains(phones, n) {
			gone = append(gone, n)
		}
	}
	// Deferred (conn.go): nothing reads its result, and its rows conflict
	// with nothing (ON CONFLICT DO NOTHING). A procedure (migration
	// 20261130000090) whose statements the connection plans once.
	_, err := db.NewRaw(deferredMarker+"CALL customer_search_sync(?, ?, ?, ?::text[], ?::text[], ?::text[], ?, ?)",
		c.OrgID, c.ID, c.Number, pgdialect.Array(emails), pgdialect.Array(gone), pgdialect.Array(phones), text, textChanged).Exec(ctx)
	return interpretError(err)
}

// nameKeyRows are the rows of the name keys of customer number of orgID.
func nameKeyRows(orgID string, number int64, keys []string) []nameKeyRow {
	rows := make([]nameKeyRow, len(keys))
	for i, k := range keys {
		rows[i] = nameKeyRow{OrgID: orgID, Key: k, Number: number}
	}
	return rows
}

// insertAll inserts rows in one statement; bun refuses an empty slice.
func insertAll[T any](ctx context.Context, db bun.IDB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	// RETURNING NULL: bun would otherwise return the columns it wrote as
	// NULL or DEFAULT (nullzero fields) and scan them into rows nobody
	// reads, and on SQLite a statement with RETURNING is a query, which
	// the connection runs as written (sqliterows.go).
	_, err := db.NewInsert().Model(&rows).Returning("NULL").Exec(ctx)
	return interpretError(err)
}

// deleteSearchIndex deletes the alternative e-mail and phone rows of the
// customer as it is stored, c: the phone rows of the numbers its record
// holds (its name keys: removeNameKeys, deleteNameKeys).
func deleteSearchIndex(ctx context.Context, db bun.IDB, c *crm.Customer) error {
	_, err := db.NewDelete().Comment(preparedComment).Model((*emailRow)(nil)).
		Where("org_id = ?", c.OrgID).Where("customer_id = ?", c.ID).Exec(ctx)
	if err != nil {
		return interpretError(err)
	}
	_, phones := indexedContacts(&c.CustomerFields)
	return deletePhoneRows(ctx, db, c.OrgID, c.Number, phones)
}

// deletePhoneRows removes the phone rows of the customer with number in
// orgID for the given numbers, each by its primary key.
func deletePhoneRows(ctx context.Context, db bun.IDB, orgID string, number int64, phones []string) error {
	if len(phones) == 0 {
		return nil
	}
	// Marked: a changed phone number of an interaction or an update
	// deletes rows here, and the statement's text differs only by how
	// many numbers it lists.
	_, err := db.NewDelete().Comment(preparedComment).Model((*phoneRow)(nil)).
		Where("org_id = ?", orgID).Where("number IN (?)", bun.List(phones)).Where("customer_number = ?", number).Exec(ctx)
	return interpretError(err)
}

// dedupe returns the distinct non-empty keys of values.
func dedupe(values []string, key func(string) string) []string {
	seen := make(map[string]bool, len(values))
	var out []string
	for _, v := range values {
		if k := key(v); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// atomic runs fn in the current transaction, or in a new one when s is not
// in a transaction: a multi-row write is never half done.
func (s *DB) atomic(ctx context.Context, fn func(db bun.IDB) error) error {
	if _, inTx := s.db.(bun.Tx); inTx {
		return fn(s.db)
	}
	return s.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
}

// oneRow turns "no row affected" into ErrNotFound.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return interpretError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return interpretError(err)
	}
	if n == 0 {
		return crm.ErrNotFound
	}
	return nil
}
