package crm

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
)

// The history events of notes (C12): notes are part of the customer's timeline.
const (
	// EventNoteAdded: a note was written; the change holds its type and text.
	EventNoteAdded EventKind = "note.added"
	// EventNoteEdited: a note was changed; the changes hold the earlier
	// and the new text, type, time or pin, so no earlier text is lost.
	EventNoteEdited EventKind = "note.edited"
)

// NoteType is a kind of typed event a note records: a phone call, a
// complaint, a catalogue sent. Every organisation has the built-in types
// (BuiltInNoteTypes) and adds its own.
type NoteType struct {
	// ID is the built-in type's key ("phone_call") or a UUID.
	ID string `json:"id"`
	// Names are the type's name per language (BCP 47 → name).
	Names    map[string]string `json:"names"`
	BuiltIn  bool              `json:"builtIn"`
	Position int               `json:"position"`
	// Archived types are kept for the notes that have them, and offered
	// for no new note.
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Name returns the type's name in lang, else in its base language, else in
// English, else any.
func (t *NoteType) Name(lang string) string {
	if n, ok := t.Names[lang]; ok {
		return n
	}
	base, _, _ := strings.Cut(lang, "-")
	if n, ok := t.Names[base]; ok {
		return n
	}
	if n, ok := t.Names["en"]; ok {
		return n
	}
	for _, k := range slices.Sorted(maps.Keys(t.Names)) {
		return t.Names[k]
	}
	return t.ID
}

// The built-in note types' ids.
const (
	NotePhoneCall       = "phone_call"
	NoteEmail           = "email"
	NoteVisit           = "visit"
	NoteComplaint       = "complaint"
	NoteCatalogueSent   = "catalogue_sent"
	NotePaymentReminder = "payment_reminder"
)

// BuiltInNoteTypes returns the types every organisation starts with.
func BuiltInNoteTypes(at time.Time) []NoteType {
	names := []map[string]string{
		{"en": "Phone call", "nl": "Telefoongesprek", "de": "Telefonat", "pl": "Rozmowa telefoniczna"},
		{"en": "E-mail", "nl": "E-mail", "de": "E-Mail", "pl": "E-mail"},
		{"en": "Visit", "nl": "Bezoek", "de": "Besuch", "pl": "Wizyta"},
		{"en": "Complaint", "nl": "Klacht", "de": "Beschwerde", "pl": "Reklamacja"},
		{"en": "Catalogue sent", "nl": "Brochure verstuurd", "de": "Katalog verschickt", "pl": "Wysłano katalog"},
		{"en": "Payment reminder", "nl": "Betalingsherinnering", "de": "Zahlungserinnerung", "pl": "Przypomnienie o płatności"},
	}
	ids := []string{NotePhoneCall, NoteEmail, NoteVisit, NoteComplaint, NoteCatalogueSent, NotePaymentReminder}
	out := make([]NoteType, len(ids))
	for i, id := range ids {
		out[i] = NoteType{ID: id, Names: names[i], BuiltIn: true, Position: i + 1, CreatedAt: at, UpdatedAt: at}
	}
	return out
}

// NewNoteType is the input of NoteService.DefineType.
type NewNoteType struct {
	// Names per language (BCP 47 → name); at least one.
	Names map[string]string `json:"names" validate:"required,min=1,max=20,dive,required,max=100"`
}

// NoteTypePatch changes a note type; nil fields stay. Names replace all names.
type NoteTypePatch struct {
	Names    map[string]string `json:"names,omitempty" validate:"omitempty,min=1,max=20,dive,required,max=100"`
	Archived *bool             `json:"archived,omitempty"`
}

// Note records a typed event about a customer (and optionally one of its
// bookings): what happened, when, who wrote it.
type Note struct {
	ID         string `json:"id"`
	CustomerID string `json:"customerId"`
	// BookingID is the platform's booking the note is about, if any.
	BookingID string    `json:"bookingId,omitempty"`
	TypeID    string    `json:"typeId"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
	// AuthorID is the staff user who wrote the note.
	AuthorID  string    `json:"authorId"`
	Pinned    bool      `json:"pinned"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int       `json:"version"`
}

// NewNote is the input of NoteService.Add.
type NewNote struct {
	TypeID string `json:"typeId" validate:"required,max=100"`
	Text   string `json:"text" text:"multiline" validate:"required,max=20000"`
	// At is when the event happened; default now.
	At        *time.Time `json:"at,omitempty"`
	BookingID string     `json:"bookingId,omitempty" validate:"max=100"`
	Pinned    bool       `json:"pinned,omitempty"`
}

// NotePatch changes a note; nil fields stay. The earlier values stay in
// the customer's timeline.
type NotePatch struct {
	TypeID *string    `json:"typeId,omitempty" validate:"omitempty,max=100"`
	Text   *string    `json:"text,omitempty" text:"multiline" validate:"omitempty,max=20000"`
	At     *time.Time `json:"at,omitempty"`
	Pinned *bool      `json:"pinned,omitempty"`
}

// NoteListParams selects a page of a customer's notes: pinned ones first,
// then newest first.
type NoteListParams struct {
	OrgID      string
	CustomerID string
	// PinnedOnly keeps the pinned notes.
	PinnedOnly bool
	// After is the keyset position (the last note of the previous page).
	After *Note
	Limit int
}

// NoteStore keeps note types and notes.
type NoteStore interface {
	// NoteTypeInsert stores note types of an organisation; a taken id is ErrConflict.
	NoteTypeInsert(ctx context.Context, orgID string, types ...NoteType) error
	// NoteTypeList returns the organisation's note types by position, then id.
	NoteTypeList(ctx context.Context, orgID string) ([]NoteType, error)
	// NoteTypeUpdate stores a changed type, or ErrNotFound.
	NoteTypeUpdate(ctx context.Context, orgID string, t *NoteType) error
	// NoteInsert stores a note.
	NoteInsert(ctx context.Context, orgID string, n *Note) error
	// NoteGet returns one note, or ErrNotFound.
	NoteGet(ctx context.Context, orgID, id string) (*Note, error)
	// NoteList returns up to Limit notes: pinned first, then by At and ID, newest first.
	NoteList(ctx context.Context, p NoteListParams) ([]Note, error)
	// NoteLatest returns the customer's newest note (by At), or ErrNotFound.
	NoteLatest(ctx context.Context, orgID, customerID string) (*Note, error)
	// NoteUpdate stores a changed note if its stored version is
	// n.Version-1 (else ErrStaleVersion), or ErrNotFound.
	NoteUpdate(ctx context.Context, orgID string, n *Note) error
}

// NoteService keeps notes of typed events on customers (C12) and the
// organisation's note types.
type NoteService struct {
	*core
}

// Types returns the organisation's note types, archived ones included, by position.
func (s *NoteService) Types(ctx context.Context) ([]NoteType, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.NoteTypeList(ctx, sc.org)
}

// checkNames validates names per language and returns them canonical.
func checkNames(v *validation, names map[string]string) map[string]string {
	out := make(map[string]string, len(names))
	for _, lang := range slices.Sorted(maps.Keys(names)) {
		tag := checkLanguage(v, "names."+lang, lang)
		name := strings.TrimSpace(names[lang])
		if name == "" {
			v.add("names."+lang, "required", "")
		}
		out[tag] = name
	}
	return out
}

// DefineType adds a note type of the organisation's own; only an
// administrator (or the system) may.
func (s *NoteService) DefineType(ctx context.Context, in NewNoteType) (*NoteType, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	v.addStruct(s.validate, in)
	names := checkNames(v, in.Names)
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *NoteType
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		types, err := tx.NoteTypeList(ctx, sc.org)
		if err != nil {
			return err
		}
		t := NoteType{ID: newID(), Names: names, Position: len(types) + 1, CreatedAt: s.now()}
		t.UpdatedAt = t.CreatedAt
		if err := tx.NoteTypeInsert(ctx, sc.org, t); err != nil {
			return err
		}
		out = &t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateType renames or archives a note type (built-in ones too); only an
// administrator (or the system) may.
func (s *NoteService) UpdateType(ctx context.Context, id string, p NoteTypePatch) (*NoteType, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	var names map[string]string
	if p.Names != nil {
		names = checkNames(v, p.Names)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *NoteType
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		t, err := s.noteType(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if names != nil {
			t.Names = names
		}
		if p.Archived != nil {
			t.Archived = *p.Archived
		}
		t.UpdatedAt = s.now()
		if err := tx.NoteTypeUpdate(ctx, sc.org, t); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *NoteService) noteType(ctx context.Context, tx Store, sc scope, id string) (*NoteType, error) {
	types, err := tx.NoteTypeList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(types, func(t NoteType) bool { return t.ID == id })
	if i < 0 {
		return nil, &notFoundError{what: "note type " + id}
	}
	return &types[i], nil
}

// Add writes a note on a customer, by the acting staff user (ErrForbidden
// for an actor that is not one), and puts it on the customer's timeline.
func (s *NoteService) Add(ctx context.Context, customerID string, in NewNote) (*Note, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Text, in.BookingID = strings.TrimSpace(in.Text), strings.TrimSpace(in.BookingID)
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	now := s.now()
	n := &Note{ID: newID(), CustomerID: customerID, BookingID: in.BookingID, TypeID: in.TypeID, Text: in.Text, At: now,
		Pinned: in.Pinned, CreatedAt: now, UpdatedAt: now, Version: 1}
	if in.At != nil {
		n.At = in.At.UTC().Truncate(time.Microsecond)
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		author, err := s.actingStaff(ctx, tx, sc)
		if err != nil {
			return err
		}
		n.AuthorID = author.ID
		if err := tx.CustomerLock(ctx, sc.org, customerID); err != nil {
			return err
		}
		if err := s.checkNoteType(ctx, tx, sc, v, "typeId", n.TypeID); err != nil {
			return err
		}
		if err := tx.NoteInsert(ctx, sc.org, n); err != nil {
			return err
		}
		changes := []FieldChange{{Field: "note", New: n.ID}, {Field: "type", New: n.TypeID}, {Field: "text", New: n.Text}}
		if n.BookingID != "" {
			changes = append(changes, FieldChange{Field: "booking", New: n.BookingID})
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, EventNoteAdded, now, changes))
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// checkNoteType requires a type of the organisation that is not archived.
func (s *NoteService) checkNoteType(ctx context.Context, tx Store, sc scope, v *validation, field, id string) error {
	t, err := s.noteType(ctx, tx, sc, id)
	if errors.Is(err, ErrNotFound) || (err == nil && t.Archived) {
		v.add(field, "unknown", "")
		return v.err()
	}
	return err
}

// Get returns one note.
func (s *NoteService) Get(ctx context.Context, id string) (*Note, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "note " + id}
	}
	return s.store.NoteGet(ctx, sc.org, id)
}

// Latest returns the customer's newest note (the one shown on the
// customer), or ErrNotFound when it has none.
func (s *NoteService) Latest(ctx context.Context, customerID string) (*Note, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	return s.store.NoteLatest(ctx, sc.org, customerID)
}

// List returns a page of the customer's notes: pinned ones first, then the
// newest first. An unknown customer is ErrNotFound.
func (s *NoteService) List(ctx context.Context, customerID string, pinnedOnly bool, page PageRequest) (Page[Note], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[Note]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (cur.ID == "" || cur.Sort != "note")) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[Note]{}, err
	}
	if !validID(customerID) {
		return Page[Note]{}, &notFoundError{what: "customer " + customerID}
	}
	p := NoteListParams{OrgID: sc.org, CustomerID: customerID, PinnedOnly: pinnedOnly, Limit: limit + 1}
	if page.Cursor != "" {
		p.After = &Note{ID: cur.ID, At: time.UnixMicro(cur.Time).UTC(), Pinned: cur.Number == 1}
	}
	var notes []Note
	err = s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID}); err != nil {
			return err
		}
		notes, err = tx.NoteList(ctx, p)
		return err
	})
	if err != nil {
		return Page[Note]{}, err
	}
	out := Page[Note]{Items: nonNil(notes)}
	if len(notes) > limit {
		out.Items = notes[:limit]
		last := out.Items[limit-1]
		pinned := int64(0)
		if last.Pinned {
			pinned = 1
		}
		out.Next = cursor{Sort: "note", Time: last.At.UnixMicro(), ID: last.ID, Number: pinned}.encode()
	}
	return out, nil
}

// Update changes a note, based on version (ErrStaleVersion when stale).
// The customer's timeline keeps the earlier text, type, time and pin.
func (s *NoteService) Update(ctx context.Context, id string, version int, p NotePatch) (*Note, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	if p.Text != nil {
		if t := strings.TrimSpace(*p.Text); t == "" {
			v.add("text", "required", "")
		} else {
			p.Text = &t
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "note " + id}
	}
	var out *Note
	err = s.store.InTx(ctx, func(tx Store) error {
		if _, err := s.actingStaff(ctx, tx, sc); err != nil {
			return err
		}
		n, err := tx.NoteGet(ctx, sc.org, id)
		if err != nil {
			return err
		}
		if err := tx.CustomerLock(ctx, sc.org, n.CustomerID); err != nil {
			return err
		}
		if version != 0 && n.Version != version {
			return ErrStaleVersion
		}
		changes := []FieldChange{{Field: "note", Old: n.ID, New: n.ID}}
		if p.TypeID != nil && *p.TypeID != n.TypeID {
			if err := s.checkNoteType(ctx, tx, sc, v, "typeId", *p.TypeID); err != nil {
				return err
			}
			changes = append(changes, FieldChange{Field: "type", Old: n.TypeID, New: *p.TypeID})
			n.TypeID = *p.TypeID
		}
		if p.Text != nil && *p.Text != n.Text {
			changes = append(changes, FieldChange{Field: "text", Old: n.Text, New: *p.Text})
			n.Text = *p.Text
		}
		if p.At != nil {
			at := p.At.UTC().Truncate(time.Microsecond)
			if !at.Equal(n.At) {
				changes = append(changes, FieldChange{Field: "at", Old: n.At, New: at})
				n.At = at
			}
		}
		if p.Pinned != nil && *p.Pinned != n.Pinned {
			changes = append(changes, FieldChange{Field: "pinned", Old: n.Pinned, New: *p.Pinned})
			n.Pinned = *p.Pinned
		}
		if len(changes) == 1 {
			out = n
			return nil
		}
		now := s.now()
		n.Version++
		n.UpdatedAt = now
		if err := tx.NoteUpdate(ctx, sc.org, n); err != nil {
			return err
		}
		out = n
		return tx.HistoryAppend(ctx, s.event(sc, n.CustomerID, EventNoteEdited, now, changes))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
