package crm

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// InteractionKind says what kind of contact an interaction was.
type InteractionKind string

// The interaction kinds.
const (
	InteractionReservation InteractionKind = "reservation"
	InteractionContactForm InteractionKind = "contact_form"
	// InteractionTool is anything else a connected tool reports.
	InteractionTool       InteractionKind = "tool"
	InteractionNewsletter InteractionKind = "newsletter"
	// InteractionReview is a review (a score and a text) from a connected tool.
	InteractionReview InteractionKind = "review"
)

// EventInteractionRecorded: an interaction came in (what, from where); the
// interaction itself is in the customer's interactions.
const EventInteractionRecorded EventKind = "interaction.recorded"

// Review is a review's score, out of Max, and its text.
type Review struct {
	Score int `json:"score" validate:"min=0"`
	// Max is the best score; 5 when not given.
	Max  int    `json:"max,omitempty" validate:"min=0,max=100"`
	Text string `json:"text,omitempty" validate:"max=10000" text:"multiline"`
}

// CustomerReview is the latest review score of a customer, shown with the
// customer record.
type CustomerReview struct {
	Score         int       `json:"score"`
	Max           int       `json:"max"`
	Source        string    `json:"source"`
	At            time.Time `json:"at"`
	InteractionID string    `json:"interactionId"`
}

// InteractionContent is what an interaction carries about the person.
type InteractionContent struct {
	FirstName  string `json:"firstName,omitempty" validate:"max=100"`
	MiddleName string `json:"middleName,omitempty" validate:"max=100"`
	LastName   string `json:"lastName,omitempty" validate:"max=100"`
	Company    string `json:"company,omitempty" validate:"max=200"`
	// Emails: the first is the correspondence address for a new customer,
	// the others alternative addresses.
	Emails []string `json:"emails,omitempty" validate:"max=5,dive,max=254"`
	// Phones in any format the organisation's country understands.
	Phones    []string `json:"phones,omitempty" validate:"max=5,dive,max=40"`
	Language  string   `json:"language,omitempty"`
	Address   *Address `json:"address,omitempty"`
	BirthDate *Date    `json:"birthDate,omitempty"`
	// CustomFields are values of the organisation's custom fields by key.
	CustomFields map[string]any `json:"customFields,omitempty" text:"multiline"`
	// Consents given in the interaction. Source defaults to "booking" for a
	// reservation and "web_form" otherwise; a double opt-in purpose from a
	// web form becomes a pending consent with its confirmation mail.
	Consents []ConsentInput `json:"consents,omitempty" validate:"max=20"`
	// Data is anything else the source sends (party size, the message of a
	// contact form); kept with the interaction, not on the customer.
	Data map[string]any `json:"data,omitempty" text:"multiline"`
}

// NewInteraction is an interaction to record.
type NewInteraction struct {
	Kind InteractionKind `json:"kind" validate:"required,oneof=reservation contact_form tool newsletter review"`
	// Source names where it comes from: a booking platform, "website".
	Source string `json:"source" validate:"required,max=60"`
	// SourceID is the source's own id of the person, matched first.
	SourceID string `json:"sourceId,omitempty" validate:"max=200"`
	// Form is the key of one of the organisation's forms: the interaction
	// is checked against it (Forms).
	Form string `json:"form,omitempty" validate:"max=40"`
	// At is when it happened; now when not given. It may not be in the future.
	At *time.Time `json:"at,omitempty"`
	InteractionContent
	// Review is the score and text of a review (kind "review" only).
	Review *Review `json:"review,omitempty"`
}

// Interaction is a recorded interaction.
type Interaction struct {
	ID         string          `json:"id"`
	OrgID      string          `json:"-"`
	CustomerID string          `json:"customerId"`
	Kind       InteractionKind `json:"kind"`
	Source     string          `json:"source"`
	SourceID   string          `json:"sourceId,omitempty"`
	Form       string          `json:"form,omitempty"`
	At         time.Time       `json:"at"`
	// Created says the interaction made its customer; MatchedBy otherwise
	// names the key that found it.
	Created   bool               `json:"created"`
	MatchedBy MatchBy            `json:"matchedBy,omitempty"`
	Content   InteractionContent `json:"content"`
	Review    *Review            `json:"review,omitempty"`
	Actor     Actor              `json:"actor"`
	// RecordedAt is when Dossier recorded it.
	RecordedAt time.Time `json:"recordedAt"`
}

// InteractionResult says what recording an interaction did.
type InteractionResult struct {
	Interaction Interaction `json:"interaction"`
	// Customer is the customer as it is after the interaction.
	Customer *Customer `json:"customer"`
	// Created: a new customer was made. Otherwise MatchedBy names the key
	// that found the customer.
	Created   bool    `json:"created"`
	MatchedBy MatchBy `json:"matchedBy,omitempty"`
	// UpdatedFields are the customer's fields the interaction set.
	UpdatedFields []string `json:"updatedFields,omitempty"`
	// Conflicts are other customers the interaction's keys pointed at.
	Conflicts []MatchConflict `json:"conflicts,omitempty"`
}

// InteractionListParams selects a page of a customer's interactions,
// newest first.
type InteractionListParams struct {
	OrgID      string
	CustomerID string
	// BeforeAt and BeforeID are the keyset position (exclusive).
	BeforeAt time.Time
	BeforeID string
	Limit    int
}

// InteractionStore keeps interactions.
type InteractionStore interface {
	InteractionInsert(ctx context.Context, it *Interaction) error
	// InteractionGet returns one interaction or ErrNotFound.
	InteractionGet(ctx context.Context, orgID, id string) (*Interaction, error)
	InteractionList(ctx context.Context, p InteractionListParams) ([]Interaction, error)
	// ReviewSet keeps r as the customer's latest review unless the one
	// kept is newer.
	ReviewSet(ctx context.Context, orgID, customerID string, r CustomerReview) error
	// ReviewGet returns the customer's latest review, or ErrNotFound.
	ReviewGet(ctx context.Context, orgID, customerID string) (*CustomerReview, error)
	// InteractionTarget locks the customer's row until the transaction
	// ends and returns the customer, with its latest review (LatestReview,
	// nil for none), and its fields' origins (as FieldOriginList): one
	// statement on PostgreSQL where CustomerGet, ReviewGet and
	// FieldOriginList are three. It writes nothing: the interaction's
	// activity goes into the customer's update, or CustomerTouch when the
	// interaction changes no field, so that the row is written once. An
	// anonymised customer is ErrAnonymised, an absent one ErrNotFound.
	InteractionTarget(ctx context.Context, orgID, id string) (*Customer, []FieldOrigin, error)
	// InteractionsAnonymise erases what the customer's interactions
	// carried, its platform ids, its fields' origins, the conflicts that
	// name it and its latest review, for Privacy.Anonymise.
	InteractionsAnonymise(ctx context.Context, orgID, customerID string) error
}

// InteractionService records interactions: reservations, contact forms,
// newsletter sign-ups, reviews and whatever else connected tools report.
// Each finds its customer (see MatchCustomer) or makes one, fills the
// customer's fields by the field-origin rule (MergeFields), and goes on the
// timeline (C3).
type InteractionService struct {
	*core
	customers *CustomerService
	consents  *ConsentService
	forms     *FormService
}

var sourcePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

// Record records an interaction and says which customer it found or made.
// Matching order: the source's own id, the login e-mail, a correspondence
// or alternative e-mail, a phone number. An interaction from a form is
// checked against the form first; the missing fields are named in the
// *ValidationError. An interaction that matches nobody needs a name, a
// company or an e-mail address to make a customer.
func (s *InteractionService) Record(ctx context.Context, in NewInteraction) (*InteractionResult, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Source, in.SourceID, in.Form = strings.TrimSpace(in.Source), strings.TrimSpace(in.SourceID), strings.TrimSpace(in.Form)
	v.addStruct(s.validate, in)
	if in.Source != "" && !v.has("source") && !sourcePattern.MatchString(in.Source) {
		v.add("source", "invalid", "")
	}
	at := now
	if in.At != nil {
		at = in.At.UTC().Truncate(time.Microsecond)
		switch {
		case at.After(now.Add(time.Minute)):
			v.add("at", "future", "")
		case at.After(now):
			at = now // clocks differ a little
		}
	}
	if in.Review != nil {
		if in.Review.Max == 0 {
			in.Review.Max = 5
		}
		if !v.has("review.score") && in.Review.Score > in.Review.Max {
			v.add("review.score", "maxValue", strconv.Itoa(in.Review.Max))
		}
	}
	switch {
	case in.Kind == InteractionReview && in.Review == nil:
		v.add("review", "required", "")
	case in.Kind != InteractionReview && in.Review != nil && !v.has("kind"):
		v.add("kind", "oneof", string(InteractionReview))
	}
	defaultSource := SourceWebForm
	if in.Kind == InteractionReservation {
		defaultSource = SourceBooking
	}
	for i := range in.Consents {
		if in.Consents[i].Source == "" {
			in.Consents[i].Source = defaultSource
		}
	}
	org, defs, err := s.customers.rules(ctx, sc)
	if err != nil {
		return nil, err
	}
	// Every fault at once: the input's, the form's and the fields'.
	merge := func(err error) error {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, f := range ve.Fields {
				if !v.has(f.Field) {
					v.fields = append(v.fields, f)
				}
			}
			return nil
		}
		return err
	}
	if in.Form != "" && !v.has("form") {
		form, err := s.store.FormGet(ctx, sc.org, in.Form)
		switch {
		case errors.Is(err, ErrNotFound):
			v.add("form", "unknown", "")
		case err != nil:
			return nil, err
		default:
			if err := merge(form.check(sc, &in)); err != nil {
				return nil, err
			}
		}
	}
	incoming, err := s.incoming(sc, org, defs, &in, at)
	if err := merge(err); err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var emails []string
	if incoming.Email != "" {
		emails = append(emails, incoming.Email)
	}
	emails = append(emails, incoming.AltEmails...)
	phones := make([]string, len(incoming.Phones))
	for i, p := range incoming.Phones {
		phones[i] = p.Number
	}
	keys := NewMatchKeys(in.Source, in.SourceID, emails, phones, org.DefaultCountry)

	var res *InteractionResult
	err = s.store.InTx(ctx, func(tx Store) error {
		res = &InteractionResult{}
		// Services called from here (consents) join this transaction.
		txCtx := context.WithValue(ctx, txKey{}, tx)
		m, err := MatchCustomer(ctx, tx, sc.org, keys)
		if err != nil {
			return err
		}
		it := &Interaction{
			ID: newID(), OrgID: sc.org, Kind: in.Kind, Source: in.Source, SourceID: in.SourceID, Form: in.Form,
			At: at, Content: in.InteractionContent, Review: in.Review, Actor: sc.actor, RecordedAt: now,
		}
		var cust *Customer
		// The events are written together, in one statement.
		var events []HistoryEvent
		if m.CustomerID == "" {
			cust, res.UpdatedFields, err = s.create(ctx, tx, sc, org, defs, incoming, it, now, &events)
			res.Created = true
		} else {
			cust, res.UpdatedFields, err = s.update(ctx, tx, sc, org, defs, m.CustomerID, incoming, it, now, &events)
			res.MatchedBy = m.By
		}
		if err != nil {
			return err
		}
		it.CustomerID, it.Created, it.MatchedBy = cust.ID, res.Created, res.MatchedBy
		if err := tx.InteractionInsert(ctx, it); err != nil {
			return err
		}
		changes := []FieldChange{{Field: "kind", New: it.Kind}, {Field: "source", New: it.Source}, {Field: "interactionId", New: it.ID}}
		if it.Form != "" {
			changes = append(changes, FieldChange{Field: "form", New: it.Form})
		}
		if it.MatchedBy != "" {
			changes = append(changes, FieldChange{Field: "matchedBy", New: it.MatchedBy})
		}
		events = append(events, s.event(sc, cust.ID, EventInteractionRecorded, now, changes))
		if err := tx.HistoryAppend(ctx, events...); err != nil {
			return err
		}
		if err := RecordMatch(ctx, tx, sc.org, keys, m, cust.ID, it.ID, now); err != nil {
			return err
		}
		for _, c := range m.Conflicts {
			if c.OtherCustomerID != cust.ID {
				c.CustomerID, c.InteractionID, c.At = cust.ID, it.ID, now
				res.Conflicts = append(res.Conflicts, c)
			}
		}
		if len(res.Conflicts) > 0 {
			// A conflict is a reason for a candidate pair.
			if err := enqueueDuplicateCheck(ctx, tx, sc.org, cust.ID); err != nil {
				return err
			}
		}
		for i, c := range in.Consents {
			if err := s.consent(txCtx, tx, sc, cust.ID, c); err != nil {
				return prefixValidation(err, "consents["+strconv.Itoa(i)+"].")
			}
		}
		// The latest review as InteractionTarget read it (a new customer
		// has none), unless this interaction brings one.
		review := cust.LatestReview
		if len(in.Consents) > 0 {
			// The consents may have set the contact flags.
			if cust, err = tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: cust.ID}); err != nil {
				return err
			}
		}
		cust.LatestReview = review
		if it.Review != nil {
			if err := tx.ReviewSet(ctx, sc.org, cust.ID, CustomerReview{Score: it.Review.Score, Max: it.Review.Max,
				Source: it.Source, At: it.At, InteractionID: it.ID}); err != nil {
				return err
			}
			if cust.LatestReview, err = latestReview(ctx, tx, sc.org, cust.ID); err != nil {
				return err
			}
		}
		res.Interaction, res.Customer = *it, cust
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// incoming turns what the interaction carries into normalised customer
// fields, with the error fields named as the interaction names them.
func (s *InteractionService) incoming(sc scope, org *Organisation, defs []CustomFieldDefinition, in *NewInteraction, at time.Time) (CustomerFields, error) {
	c := &in.InteractionContent
	f := CustomerFields{
		FirstName: c.FirstName, MiddleName: c.MiddleName, LastName: c.LastName, Company: c.Company,
		Language: c.Language, BirthDate: c.BirthDate, CustomFields: c.CustomFields, Status: StatusCustomer,
	}
	if c.Address != nil {
		f.Address = *c.Address
	}
	for i, e := range c.Emails {
		if i == 0 {
			f.Email = e
		} else {
			f.AltEmails = append(f.AltEmails, e)
		}
	}
	for _, p := range c.Phones {
		f.Phones = append(f.Phones, Phone{Kind: PhoneMobile, Number: p})
	}
	if f.Language == "" {
		f.Language = org.DefaultLanguage // to pass the check; not taken
	}
	out, err := s.customers.check(sc, org, defs, f, &Customer{})
	if strings.TrimSpace(c.Language) == "" {
		out.Language = ""
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve = renameFields(ve)
		if len(ve.Fields) > 0 {
			return out, ve
		}
	} else if err != nil {
		return out, err
	}
	out.Status = "" // never taken from an interaction (see create)
	d := DateOf(at)
	out.FirstContact = &d
	return out, nil
}

// renameFields names the errors of an interaction's fields as the
// interaction does (emails[i], phones[i]), and drops the rule that a
// customer needs a name: that is checked when one is made.
func renameFields(ve *ValidationError) *ValidationError {
	out := &ValidationError{}
	for _, f := range ve.Fields {
		switch {
		case f.Field == "lastName" && f.Code == "required":
			continue
		case f.Field == "email":
			f.Field = "emails[0]"
		case strings.HasPrefix(f.Field, "altEmails["):
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f.Field, "altEmails["), "]"))
			f.Field = "emails[" + strconv.Itoa(n+1) + "]"
		case strings.HasPrefix(f.Field, "phones[") && strings.HasSuffix(f.Field, "].number"):
			f.Field = strings.TrimSuffix(f.Field, ".number")
		}
		f.Message = f.Field + strings.TrimPrefix(f.Message, strings.SplitN(f.Message, " ", 2)[0])
		out.Fields = append(out.Fields, f)
	}
	return out
}

// prefixValidation names the fields of a validation error under prefix.
func prefixValidation(err error, prefix string) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &ValidationError{}
	for _, f := range ve.Fields {
		f.Field = prefix + f.Field
		f.Message = prefix + f.Message
		out.Fields = append(out.Fields, f)
	}
	return out
}

// create makes the customer of an interaction that matched nobody.
func (s *InteractionService) create(ctx context.Context, tx Store, sc scope, org *Organisation, defs []CustomFieldDefinition, incoming CustomerFields, it *Interaction, now time.Time, events *[]HistoryEvent) (*Customer, []string, error) {
	fields, set := MergeFields(nil, nil, &incoming, OriginInteraction)
	// A contact form or a sign-up is a lead; the rest have booked or used
	// the business. Status stays staff's to change afterwards.
	fields.Status = StatusCustomer
	if it.Kind == InteractionContactForm || it.Kind == InteractionNewsletter {
		fields.Status = StatusLead
	}
	if fields.Language == "" {
		fields.Language = org.DefaultLanguage
		set = append(set, "language")
	}
	if fields.Origin == "" {
		fields.Origin = it.Source
		set = append(set, "origin")
	}
	fields, err := s.customers.check(sc, org, defs, fields, &Customer{})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			if ve.Has("lastName", "required") {
				// Nothing to make a customer of: say what is missing in
				// the interaction's words.
				v := newValidation(sc.lang)
				v.add("lastName", "required", "")
				return nil, nil, v.err()
			}
			return nil, nil, renameFields(ve)
		}
		return nil, nil, err
	}
	c := &Customer{
		ID: newID(), OrgID: sc.org, CustomerFields: fields, CreatedAt: now, UpdatedAt: now, LastActivityAt: now,
		Version: 1, SortKey: SortKey(org.DefaultLanguage, &fields),
	}
	if c.Number, err = tx.OrganisationNextCustomerNumber(ctx, sc.org); err != nil {
		return nil, nil, err
	}
	if err := tx.CustomerInsert(ctx, c); err != nil {
		return nil, nil, err
	}
	*events = append(*events, s.event(sc, c.ID, EventCustomerCreated, now, diffCustomer(nil, c)))
	// The job before the origins, as in update.
	if err := enqueueDuplicateCheck(ctx, tx, sc.org, c.ID); err != nil {
		return nil, nil, err
	}
	origins := make([]CustomerFieldOrigin, len(set))
	for i, o := range NewOrigins(set, OriginInteraction, it.Source, now) {
		origins[i] = CustomerFieldOrigin{CustomerID: c.ID, FieldOrigin: o}
	}
	if err := tx.FieldOriginInsertMany(ctx, sc.org, origins); err != nil {
		return nil, nil, err
	}
	return c, set, nil
}

// update fills the matched customer's fields by the field-origin rule and
// counts the interaction as activity.
func (s *InteractionService) update(ctx context.Context, tx Store, sc scope, org *Organisation, defs []CustomFieldDefinition, id string, incoming CustomerFields, it *Interaction, now time.Time, events *[]HistoryEvent) (*Customer, []string, error) {
	// The row's lock and the customer as it then is; the activity is
	// written with the change, or on its own when nothing changes.
	old, list, err := tx.InteractionTarget(ctx, sc.org, id)
	if err != nil {
		return nil, nil, err
	}
	fields, set := MergeFields(&old.CustomerFields, originsOf(list), &incoming, OriginInteraction)
	next := *old
	if len(set) > 0 {
		if fields, err = s.customers.check(sc, org, defs, fields, old); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return nil, nil, renameFields(ve)
			}
			return nil, nil, err
		}
		next.CustomerFields = fields
		next.SortKey = SortKey(org.DefaultLanguage, &fields)
	}
	changes := diffCustomer(old, &next)
	if len(changes) == 0 {
		if err := tx.CustomerTouch(ctx, sc.org, id, now); err != nil {
			return nil, nil, err
		}
		old.LastActivityAt = now
		return old, nil, nil
	}
	next.UpdatedAt, next.LastActivityAt, next.Version = now, now, old.Version+1
	// The job first: on PostgreSQL River's insert is sent on its own (its
	// arguments are pgdriver's to format), and the writes after the
	// customer's UPDATE that need no answer (its search rows, the origins,
	// the interaction, the history) then all go with the COMMIT.
	if duplicateFieldsChanged(changes) {
		if err := enqueueDuplicateCheck(ctx, tx, sc.org, id); err != nil {
			return nil, nil, err
		}
	}
	if err := tx.CustomerUpdate(ctx, &next, old); err != nil {
		return nil, nil, err
	}
	*events = append(*events, s.event(sc, id, EventCustomerUpdated, now, changes))
	if err := tx.FieldOriginSet(ctx, sc.org, id, NewOrigins(set, OriginInteraction, it.Source, now)); err != nil {
		return nil, nil, err
	}
	return &next, set, nil
}

// consent records one consent given in an interaction, in its transaction
// (ctx carries it): a double opt-in purpose from the customer's own side
// becomes a pending consent, everything else a grant.
func (s *InteractionService) consent(ctx context.Context, tx Store, sc scope, customerID string, in ConsentInput) error {
	p, err := s.consents.purpose(ctx, tx, sc, in.Purpose)
	if errors.Is(err, ErrNotFound) {
		v := newValidation(sc.lang)
		v.add("purpose", "unknown", "")
		return v.err()
	}
	if err != nil {
		return err
	}
	if p.DoubleOptIn && (in.Source == SourceWebForm || in.Source == SourcePortal) {
		_, err = s.consents.RequestConfirmation(ctx, customerID, in)
		return err
	}
	_, err = s.consents.Give(ctx, customerID, in)
	return err
}

// Get returns one interaction.
func (s *InteractionService) Get(ctx context.Context, id string) (*Interaction, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "interaction " + id}
	}
	return s.store.InteractionGet(ctx, sc.org, id)
}

// List returns a page of the customer's interactions, newest first.
func (s *InteractionService) List(ctx context.Context, customerID string, page PageRequest) (Page[Interaction], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[Interaction]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (cur.ID == "" || cur.Time == 0)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[Interaction]{}, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return Page[Interaction]{}, err
	}
	p := InteractionListParams{OrgID: sc.org, CustomerID: customerID, Limit: limit + 1}
	if page.Cursor != "" {
		p.BeforeAt, p.BeforeID = time.UnixMicro(cur.Time).UTC(), cur.ID
	}
	items, err := s.store.InteractionList(ctx, p)
	if err != nil {
		return Page[Interaction]{}, err
	}
	out := Page[Interaction]{Items: nonNil(items)}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.Next = cursor{Time: last.At.UnixMicro(), ID: last.ID}.encode()
	}
	return out, nil
}

// Origins returns where each of the customer's fields that holds a value
// got it: the recorded origins, and staff at the customer's creation for
// the others.
func (s *InteractionService) Origins(ctx context.Context, customerID string) ([]FieldOrigin, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	cust, err := s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
	if err != nil {
		return nil, err
	}
	list, err := s.store.FieldOriginList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	return originsWithDefaults(cust, list), nil
}

// originsWithDefaults lists an origin for every field of cust that holds
// a value, in field order.
func originsWithDefaults(cust *Customer, list []FieldOrigin) []FieldOrigin {
	known := originsOf(list)
	out := []FieldOrigin{}
	flat := flatFields(&cust.CustomerFields)
	for _, field := range sortedKeys(flat) {
		if mergeSkipped[field] || emptyValue(flat[field]) {
			continue
		}
		if o, ok := known[field]; ok {
			out = append(out, o)
			continue
		}
		out = append(out, FieldOrigin{Field: field, Kind: OriginStaff, At: cust.CreatedAt})
	}
	return out
}

// Conflicts returns the match conflicts that name the customer on either
// side, oldest first: the duplicates work reads them.
func (s *InteractionService) Conflicts(ctx context.Context, customerID string) ([]MatchConflict, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	list, err := s.store.MatchConflictList(ctx, sc.org, customerID)
	return nonNil(list), err
}

// exportInteractions fills the export's sections of C3: interactions,
// field origins, platform ids and match conflicts.
func exportInteractions(ctx context.Context, tx Store, sc scope, cust *Customer, e *CustomerExport) error {
	e.Interactions = []Interaction{}
	p := InteractionListParams{OrgID: sc.org, CustomerID: cust.ID, Limit: MaxPageLimit}
	for {
		page, err := tx.InteractionList(ctx, p)
		if err != nil {
			return err
		}
		e.Interactions = append(e.Interactions, page...)
		if len(page) < p.Limit {
			break
		}
		last := page[len(page)-1]
		p.BeforeAt, p.BeforeID = last.At, last.ID
	}
	list, err := tx.FieldOriginList(ctx, sc.org, cust.ID)
	if err != nil {
		return err
	}
	e.FieldOrigins = originsWithDefaults(cust, list)
	ids, err := tx.SourceIDList(ctx, sc.org, cust.ID)
	if err != nil {
		return err
	}
	e.SourceIDs = nonNil(ids)
	conflicts, err := tx.MatchConflictList(ctx, sc.org, cust.ID)
	if err != nil {
		return err
	}
	e.MatchConflicts = nonNil(conflicts)
	e.Customer.LatestReview, err = latestReview(ctx, tx, sc.org, cust.ID)
	return err
}

// latestReview returns the customer's latest review, nil when it has none.
func latestReview(ctx context.Context, st InteractionStore, orgID, customerID string) (*CustomerReview, error) {
	r, err := st.ReviewGet(ctx, orgID, customerID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return r, err
}
