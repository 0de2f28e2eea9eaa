package crm

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ExportAudience says who an export is for.
type ExportAudience string

// The export audiences.
const (
	// ExportStaff is everything, including what only staff see: the
	// internal description, the assigned staff member and which staff user
	// made each change.
	ExportStaff ExportAudience = "staff"
	// ExportCustomer is what the customer gets (GDPR Art. 15 and 20, e.g.
	// from the portal): the same sections without those staff-only fields.
	ExportCustomer ExportAudience = "customer"
)

// CustomerExport is everything Dossier knows about one customer, as one
// document (GDPR Art. 15 and 20). Every table of the store that refers to
// customers feeds one of its sections; the store's tests fail when a table
// is added without being exported.
type CustomerExport struct {
	// Format is the version of this document's layout.
	Format     int            `json:"format"`
	Audience   ExportAudience `json:"audience"`
	ExportedAt time.Time      `json:"exportedAt"`
	// Organisation is the organisation's id and name.
	Organisation ExportedOrganisation `json:"organisation"`
	// Customer is the record, with alternative e-mails and custom field values.
	Customer Customer `json:"customer"`
	// CustomFields describe the record's custom field values with their labels.
	CustomFields []ExportedCustomField `json:"customFields"`
	Tags         []Qualifier           `json:"tags"`
	Attributes   []Qualifier           `json:"attributes"`
	// Labels are the labels assigned directly to the customer.
	Labels []ExportedLabel `json:"labels"`
	// Memberships are the memberships the customer holds or shares, active or not.
	Memberships []Membership `json:"memberships"`
	BenefitUses []BenefitUse `json:"benefitUses"`
	// Consents is the current state per purpose; ConsentLog the full proof.
	Consents   []CustomerConsent `json:"consents"`
	ConsentLog []ConsentRecord   `json:"consentLog"`
	// Points is the loyalty points balance and ledger (oldest first).
	Points ExportedPoints `json:"points"`
	// Documents describe the customer's documents; PrivacyService.WriteZip
	// adds their contents.
	Documents []Document `json:"documents"`
	// Mails are the mails queued or sent to the customer, with their text.
	Mails []ExportedMail `json:"mails"`
	// History is the timeline, oldest first.
	History []HistoryEvent `json:"history"`
	// Bookings are the bookings the customer leads, oldest first, with
	// the payment reminders recorded on them.
	Bookings []Booking `json:"bookings"`
	// BookingReminders are the payment reminders of those bookings.
	BookingReminders []PaymentReminder `json:"bookingReminders"`
	// Participations are the bookings the customer takes part in that
	// another customer leads, oldest first: what was booked, when and
	// where, without the lead, the other participants or the payments.
	Participations []Booking `json:"participations"`
	// Imports are the file imports that changed the record, with its
	// values before each (kept so that the import can be reverted).
	Imports []ExportedImportChange `json:"imports"`
	// Interactions are the reservations, forms, sign-ups and reviews that
	// came in for the customer, with what they carried, newest first.
	Interactions []Interaction `json:"interactions"`
	// FieldOrigins say where each field's value came from.
	FieldOrigins []FieldOrigin `json:"fieldOrigins"`
	// SourceIDs are the ids connected platforms know the customer by.
	SourceIDs []SourceID `json:"sourceIds"`
	// MatchConflicts are other records the customer's e-mail or phone also
	// pointed at (staff only).
	MatchConflicts []MatchConflict `json:"matchConflicts,omitempty"`
	// Duplicates are the customer's candidate pairs (other customers that
	// may be the same person) and the pairs dismissed as not the same
	// person (staff only).
	Duplicates *ExportedDuplicates `json:"duplicates,omitempty"`
	// Inquiries are the customer's inquiries with their history, newest
	// first: those the exporting staff user may see (see
	// InquiryVisibility); the system actor (the command line) and the
	// customer's own export see every one.
	Inquiries []ExportedInquiry `json:"inquiries"`
	// PortalAccount is the customer's portal login (never its password).
	PortalAccount *PortalAccount `json:"portalAccount,omitempty"`
	// Itineraries are the trips the customer saved in the portal.
	Itineraries []Itinerary `json:"itineraries"`
	// ContestEntries are the customer's contest entries.
	ContestEntries []ContestEntry `json:"contestEntries"`
	// BrochureRequests are the brochures the customer asked for.
	BrochureRequests []BrochureRequest `json:"brochureRequests"`
	// Mailings are the mailings the customer received, with unsubscriptions.
	Mailings []MailingRecipientRow `json:"mailings"`
	// Notes are the notes of typed events on the customer, newest first
	// (staff audience only: they are the staff's working notes).
	Notes []Note `json:"notes"`
	// Tasks are the tasks about the customer, by due date (staff audience only).
	Tasks []Task `json:"tasks"`
}

// ExportedImportChange is an import's change of the customer in an export.
type ExportedImportChange struct {
	ImportID string         `json:"importId"`
	Before   CustomerFields `json:"before"`
}

// ExportedInquiry is an inquiry in an export, with its history.
type ExportedInquiry struct {
	Inquiry
	History []InquiryEvent `json:"history"`
}

// ExportedPoints is a customer's points in an export.
type ExportedPoints struct {
	Balance      PointBalance       `json:"balance"`
	Transactions []PointTransaction `json:"transactions"`
}

// ExportedMail is a mail to the customer in an export.
type ExportedMail struct {
	ID        string       `json:"id"`
	Template  string       `json:"template"`
	Language  string       `json:"language"`
	ToEmail   string       `json:"toEmail"`
	Subject   string       `json:"subject"`
	Text      string       `json:"text"`
	Status    OutboxStatus `json:"status"`
	CreatedAt time.Time    `json:"createdAt"`
	SentAt    *time.Time   `json:"sentAt,omitempty"`
}

// ExportedOrganisation names the organisation an export comes from.
type ExportedOrganisation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ExportedCustomField is one custom field value with its definition's label.
type ExportedCustomField struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Value any    `json:"value"`
}

// ExportedLabel is a label assigned to the customer.
type ExportedLabel struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Benefits string    `json:"benefits,omitempty"`
	AddedAt  time.Time `json:"addedAt"`
}

// Export returns everything known about a customer, for staff or for the
// customer (see ExportAudience). The organisation's Permissions say
// whether the actor may (else a *ForbiddenError). It reads in one transaction, so the
// sections agree with each other.
func (s *PrivacyService) Export(ctx context.Context, customerID string, audience ExportAudience) (*CustomerExport, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if audience != ExportStaff && audience != ExportCustomer {
		v := newValidation(sc.lang)
		v.add("audience", "oneof", "staff, customer")
		return nil, v.err()
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var out *CustomerExport
	err = s.store.InTx(ctx, func(tx Store) error {
		org, err := s.organisation(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := allowed(ctx, org, ActionExport, customerID); err != nil {
			return err
		}
		out, err = s.export(ctx, tx, sc, customerID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if audience == ExportCustomer {
		out.forCustomer()
	}
	out.Audience = audience
	return out, nil
}

func (s *PrivacyService) export(ctx context.Context, tx Store, sc scope, customerID string) (*CustomerExport, error) {
	cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
	if err != nil {
		return nil, err
	}
	org, err := s.organisation(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	e := &CustomerExport{
		Format: 1, ExportedAt: s.now(), Customer: *cust,
		Organisation: ExportedOrganisation{ID: org.ID, Name: org.Name},
	}
	defs, err := tx.CustomFieldList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	e.CustomFields = []ExportedCustomField{}
	for _, key := range sortedKeys(cust.CustomFields) {
		label := key
		if i := slices.IndexFunc(defs, func(d CustomFieldDefinition) bool { return d.Key == key }); i >= 0 {
			label = defs[i].Label
		}
		e.CustomFields = append(e.CustomFields, ExportedCustomField{Key: key, Label: label, Value: cust.CustomFields[key]})
	}
	if e.Tags, err = s.tags.of(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	if e.Attributes, err = s.attributes.of(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	labels, err := tx.LabelList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	links, err := tx.CustomerLabelList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	e.Labels = []ExportedLabel{}
	for _, l := range links {
		if i := slices.IndexFunc(labels, func(d Label) bool { return d.ID == l.LabelID }); i >= 0 {
			e.Labels = append(e.Labels, ExportedLabel{ID: l.LabelID, Name: labels[i].Name, Benefits: labels[i].Benefits, AddedAt: l.AddedAt})
		}
	}
	if e.Memberships, err = tx.MembershipList(ctx, sc.org, customerID); err != nil {
		return nil, err
	}
	if e.BenefitUses, err = tx.BenefitUseList(ctx, sc.org, customerID); err != nil {
		return nil, err
	}
	if e.Consents, err = s.consents.states(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	if e.ConsentLog, err = tx.ConsentRecordList(ctx, sc.org, customerID); err != nil {
		return nil, err
	}
	if e.History, err = s.history(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	if err := exportInteractions(ctx, tx, sc, cust, e); err != nil {
		return nil, err
	}
	if e.Points, err = s.pointsOf(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	if e.Documents, err = tx.DocumentList(ctx, sc.org, customerID, false); err != nil {
		return nil, err
	}
	if e.Inquiries, err = s.inquiriesOf(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	e.Duplicates = &ExportedDuplicates{}
	if e.Duplicates.Candidates, err = tx.DuplicatePairsOf(ctx, sc.org, customerID); err != nil {
		return nil, err
	}
	if e.Duplicates.Dismissed, err = tx.DuplicateDismissed(ctx, sc.org, customerID); err != nil {
		return nil, err
	}
	e.Documents = nonNil(e.Documents)
	changes, err := tx.ImportChangeListByCustomer(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	e.Imports = []ExportedImportChange{}
	for _, ch := range changes {
		e.Imports = append(e.Imports, ExportedImportChange{ImportID: ch.ImportID, Before: ch.Before})
	}
	e.Mails = []ExportedMail{}
	for before := ""; ; {
		page, err := tx.OutboxList(ctx, sc.org, customerID, before, MaxPageLimit)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			// A link's secret in a mail not yet delivered is for the mail's
			// reader only: an export never shows it.
			text, _ := scrubSecrets(m.Text)
			e.Mails = append(e.Mails, ExportedMail{ID: m.ID, Template: m.Template, Language: m.Language, ToEmail: m.ToEmail,
				Subject: m.Subject, Text: text, Status: m.Status, CreatedAt: m.CreatedAt, SentAt: m.SentAt})
		}
		if len(page) < MaxPageLimit {
			break
		}
		before = page[len(page)-1].ID
	}
	if e.Bookings, e.BookingReminders, err = bookingsOf(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	if e.Participations, err = participationsOf(ctx, tx, sc, customerID); err != nil {
		return nil, err
	}
	if err := s.exportPortal(ctx, tx, sc, customerID, e); err != nil {
		return nil, err
	}
	e.Notes = []Note{}
	for p := (NoteListParams{OrgID: sc.org, CustomerID: customerID, Limit: MaxPageLimit}); ; {
		page, err := tx.NoteList(ctx, p)
		if err != nil {
			return nil, err
		}
		e.Notes = append(e.Notes, page...)
		if len(page) < MaxPageLimit {
			break
		}
		p.After = &page[len(page)-1]
	}
	e.Tasks = []Task{}
	for p := (TaskListParams{OrgID: sc.org, TaskFilter: TaskFilter{CustomerID: customerID}, Limit: MaxPageLimit}); ; {
		page, err := tx.TaskList(ctx, p)
		if err != nil {
			return nil, err
		}
		e.Tasks = append(e.Tasks, page...)
		if len(page) < MaxPageLimit {
			break
		}
		last := page[len(page)-1]
		p.AfterDue, p.AfterID = &last.DueOn, last.ID
	}
	e.Memberships = nonNil(e.Memberships)
	e.BenefitUses = nonNil(e.BenefitUses)
	e.ConsentLog = nonNil(e.ConsentLog)
	return e, nil
}

// history reads the whole timeline, oldest first.
func (s *PrivacyService) history(ctx context.Context, tx HistoryStore, sc scope, customerID string) ([]HistoryEvent, error) {
	p := HistoryListParams{OrgID: sc.org, CustomerID: customerID, Limit: MaxPageLimit}
	var all []HistoryEvent
	for {
		page, err := tx.HistoryList(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < p.Limit {
			break
		}
		last := page[len(page)-1]
		p.BeforeAt, p.BeforeID = last.At, last.ID
	}
	slices.Reverse(all)
	return nonNil(all), nil
}

// pointsOf reads the balance and the whole ledger, oldest first. Points
// kept while the feature was on stay in the export after it is switched off.
func (s *PrivacyService) pointsOf(ctx context.Context, tx Store, sc scope, customerID string) (ExportedPoints, error) {
	b, err := s.points.balance(ctx, tx, sc, customerID)
	if err != nil {
		return ExportedPoints{}, err
	}
	out := ExportedPoints{Balance: *b}
	var beforeAt time.Time
	beforeID := ""
	for {
		page, err := tx.PointTransactionList(ctx, sc.org, customerID, beforeAt, beforeID, MaxPageLimit)
		if err != nil {
			return ExportedPoints{}, err
		}
		out.Transactions = append(out.Transactions, page...)
		if len(page) < MaxPageLimit {
			break
		}
		beforeAt, beforeID = page[len(page)-1].At, page[len(page)-1].ID
	}
	slices.Reverse(out.Transactions)
	out.Transactions = nonNil(out.Transactions)
	return out, nil
}

// staffOnlyFields are the customer fields only staff see: their changes are
// left out of the customer's export.
var staffOnlyFields = map[string]bool{"internalDescription": true, "assignedTo": true}

// changeValue returns the value of a field in changes: the new one, else the old one.
func changeValue(changes []FieldChange, field string) any {
	for _, c := range changes {
		if c.Field == field {
			if c.New != nil {
				return c.New
			}
			return c.Old
		}
	}
	return nil
}

// forCustomer leaves out what only staff see: the internal description, the
// assigned staff member, which staff user acted, and the internal documents
// with their timeline events.
func (e *CustomerExport) forCustomer() {
	e.MatchConflicts = nil
	e.Duplicates = nil
	e.Customer.InternalDescription = ""
	e.Customer.AssignedTo = ""
	for i := range e.Imports {
		e.Imports[i].Before.InternalDescription, e.Imports[i].Before.AssignedTo = "", ""
	}
	hide := func(a Actor) Actor {
		if a.Kind == ActorStaff {
			return Actor{Kind: ActorStaff}
		}
		return a
	}
	for i := range e.Interactions {
		e.Interactions[i].Actor = hide(e.Interactions[i].Actor)
	}
	for i := range e.FieldOrigins {
		if e.FieldOrigins[i].Kind == OriginStaff {
			e.FieldOrigins[i].Source = ""
		}
	}
	// The events of a document are the customer's when the customer sees
	// the document: in the portal now, or, for a deleted one, when it was
	// deleted. Events that name no document (written before events named
	// them) are left out: whose they are cannot be told.
	visible := map[string]bool{}
	for _, d := range e.Documents {
		visible[d.ID] = d.Visibility == VisibilityPortal
	}
	for _, h := range e.History {
		if h.Kind == EventDocumentDeleted {
			id, _ := changeValue(h.Changes, "document.id").(string)
			vis, _ := changeValue(h.Changes, "document.visibility").(string)
			visible[id] = vis == string(VisibilityPortal)
		}
	}
	// Notes and tasks are the staff's working notes, with their events.
	e.Notes, e.Tasks = []Note{}, []Task{}
	history := e.History[:0]
	for _, h := range e.History {
		if strings.HasPrefix(string(h.Kind), "note.") || strings.HasPrefix(string(h.Kind), "task.") {
			continue
		}
		if strings.HasPrefix(string(h.Kind), "document.") {
			if id, _ := changeValue(h.Changes, "document.id").(string); id == "" || !visible[id] {
				continue
			}
		}
		h.Actor = hide(h.Actor)
		h.Changes = slices.DeleteFunc(slices.Clone(h.Changes), func(c FieldChange) bool {
			return staffOnlyFields[c.Field]
		})
		history = append(history, h)
	}
	e.History = history
	for i := range e.ConsentLog {
		e.ConsentLog[i].Actor = hide(e.ConsentLog[i].Actor)
	}
	for i := range e.BenefitUses {
		e.BenefitUses[i].Actor = hide(e.BenefitUses[i].Actor)
	}
	for i := range e.Points.Transactions {
		e.Points.Transactions[i].Actor = hide(e.Points.Transactions[i].Actor)
	}
	e.Documents = slices.DeleteFunc(e.Documents, func(d Document) bool { return d.Visibility != VisibilityPortal })
	for i := range e.Documents {
		e.Documents[i].AddedBy = hide(e.Documents[i].AddedBy)
	}
	e.hideBookingStaff(hide)
	for i := range e.Bookings {
		e.Bookings[i].Participants = nil // other customers' ids
	}
	for i := range e.BrochureRequests {
		e.BrochureRequests[i].Actor = hide(e.BrochureRequests[i].Actor)
	}
}

// WriteZip writes the export as a zip archive of CSV files, one per section
// (customer.csv holds the record as field/value rows), plus the JSON
// document itself as export.json.
func (e *CustomerExport) WriteZip(w io.Writer) error {
	z := zip.NewWriter(w)
	if err := e.writeZip(z); err != nil {
		return err
	}
	return z.Close()
}

// WriteZip writes the export like CustomerExport.WriteZip, with the
// contents of the customer's documents added under documents/ (the
// customer's audience gets only those visible in the portal).
func (s *PrivacyService) WriteZip(ctx context.Context, e *CustomerExport, w io.Writer) error {
	sc, err := readScope(ctx)
	if err != nil {
		return err
	}
	if len(e.Documents) > 0 && s.cfg.Blobs == nil {
		return errors.New("crm: exporting documents needs Config.Blobs")
	}
	z := zip.NewWriter(w)
	if err := e.writeZip(z); err != nil {
		return err
	}
	for _, d := range e.Documents {
		f, err := z.Create("documents/" + d.ID + "-" + d.FileName)
		if err != nil {
			return err
		}
		rc, err := s.cfg.Blobs.Open(ctx, blobKey(sc.org, d.SHA256))
		if err != nil {
			return fmt.Errorf("crm: export document %s: %w", d.ID, err)
		}
		_, err = io.Copy(f, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return z.Close()
}

func (e *CustomerExport) writeZip(z *zip.Writer) error {
	add := func(name string, header []string, rows [][]string) error {
		f, err := z.Create(name)
		if err != nil {
			return err
		}
		cw := csv.NewWriter(f)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	}
	c := e.Customer
	record := [][]string{
		{"id", c.ID}, {"number", strconv.FormatInt(c.Number, 10)},
		{"firstName", c.FirstName}, {"middleName", c.MiddleName}, {"lastName", c.LastName}, {"company", c.Company},
		{"street", c.Address.Street}, {"houseNumber", c.Address.HouseNumber}, {"postalCode", c.Address.PostalCode},
		{"city", c.Address.City}, {"country", c.Address.Country},
		{"birthDate", dateText(c.BirthDate)}, {"passportExpiry", dateText(c.PassportExpiry)},
		{"status", string(c.Status)}, {"origin", c.Origin}, {"firstContact", dateText(c.FirstContact)},
		{"loginEmail", c.LoginEmail}, {"email", c.Email}, {"language", c.Language},
		{"remarks", c.Remarks}, {"noPost", strconv.FormatBool(c.NoPost)}, {"noMailings", strconv.FormatBool(c.NoMailings)},
		{"createdAt", timeText(c.CreatedAt)}, {"updatedAt", timeText(c.UpdatedAt)}, {"lastActivityAt", timeText(c.LastActivityAt)},
	}
	if e.Audience == ExportStaff {
		record = append(record, []string{"internalDescription", c.InternalDescription}, []string{"assignedTo", c.AssignedTo})
	}
	if c.AnonymisedAt != nil {
		record = append(record, []string{"anonymisedAt", timeText(*c.AnonymisedAt)})
	}
	sections := []struct {
		name   string
		header []string
		rows   [][]string
	}{
		{"customer.csv", []string{"field", "value"}, record},
		{"phones.csv", []string{"kind", "number"}, rowsOf(c.Phones, func(p Phone) []string { return []string{string(p.Kind), p.Number} })},
		{"alt_emails.csv", []string{"email"}, rowsOf(c.AltEmails, func(s string) []string { return []string{s} })},
		{"custom_fields.csv", []string{"key", "label", "value"}, rowsOf(e.CustomFields, func(f ExportedCustomField) []string {
			return []string{f.Key, f.Label, valueText(f.Value)}
		})},
		{"tags.csv", []string{"id", "name"}, rowsOf(e.Tags, func(q Qualifier) []string { return []string{q.ID, q.Name} })},
		{"attributes.csv", []string{"id", "name"}, rowsOf(e.Attributes, func(q Qualifier) []string { return []string{q.ID, q.Name} })},
		{"labels.csv", []string{"id", "name", "benefits", "addedAt"}, rowsOf(e.Labels, func(l ExportedLabel) []string {
			return []string{l.ID, l.Name, l.Benefits, timeText(l.AddedAt)}
		})},
		{"memberships.csv", []string{"id", "labelId", "holderId", "startsOn", "endsOn", "cancelledAt"}, rowsOf(e.Memberships, func(m Membership) []string {
			cancelled := ""
			if m.CancelledAt != nil {
				cancelled = timeText(*m.CancelledAt)
			}
			return []string{m.ID, m.LabelID, m.HolderID, m.StartsOn.String(), m.EndsOn.String(), cancelled}
		})},
		{"benefit_uses.csv", []string{"id", "labelId", "membershipId", "note", "at", "actor"}, rowsOf(e.BenefitUses, func(u BenefitUse) []string {
			return []string{u.ID, u.LabelID, u.MembershipID, u.Note, timeText(u.At), u.Actor.String()}
		})},
		{"consents.csv", []string{"purpose", "state", "at", "pending"}, rowsOf(e.Consents, func(c CustomerConsent) []string {
			return []string{c.Purpose, string(c.State), timeText(c.At), strconv.FormatBool(c.Pending)}
		})},
		{"consent_log.csv", []string{"id", "purpose", "state", "source", "actor", "at", "wordingId", "confirms", "ip", "userAgent"},
			rowsOf(e.ConsentLog, func(r ConsentRecord) []string {
				return []string{r.ID, r.Purpose, string(r.State), string(r.Source), r.Actor.String(), timeText(r.At), r.WordingID, r.Confirms, r.IP, r.UserAgent}
			})},
		{"points.csv", []string{"id", "at", "kind", "points", "availableFrom", "expiresOn", "reason", "reference", "reverses", "actor"},
			rowsOf(e.Points.Transactions, func(p PointTransaction) []string {
				return []string{p.ID, timeText(p.At), string(p.Kind), strconv.FormatInt(p.Points, 10), dateText(p.AvailableFrom),
					dateText(p.ExpiresOn), p.Reason, p.Reference, p.Reverses, p.Actor.String()}
			})},
		{"documents.csv", []string{"id", "title", "fileName", "contentType", "size", "sha256", "visibility", "origin", "addedAt", "sentAt"},
			rowsOf(e.Documents, func(d Document) []string {
				sent := ""
				if d.SentAt != nil {
					sent = timeText(*d.SentAt)
				}
				return []string{d.ID, d.Title, d.FileName, d.ContentType, strconv.FormatInt(d.Size, 10), d.SHA256,
					string(d.Visibility), string(d.Origin), timeText(d.AddedAt), sent}
			})},
		{"mails.csv", []string{"id", "template", "language", "toEmail", "subject", "status", "createdAt", "sentAt", "text"},
			rowsOf(e.Mails, func(m ExportedMail) []string {
				sent := ""
				if m.SentAt != nil {
					sent = timeText(*m.SentAt)
				}
				return []string{m.ID, m.Template, m.Language, m.ToEmail, m.Subject, string(m.Status), timeText(m.CreatedAt), sent, m.Text}
			})},
		{"history.csv", []string{"id", "at", "kind", "actor", "changes"}, rowsOf(e.History, func(h HistoryEvent) []string {
			return []string{h.ID, timeText(h.At), string(h.Kind), h.Actor.String(), valueText(h.Changes)}
		})},
		bookingsCSV(e.Bookings),
		remindersCSV(e.BookingReminders),
		participationsCSV(e.Participations),
		{"inquiries.csv", []string{"id", "title", "destination", "period", "duration", "budget", "travellers", "board", "notes", "fields",
			"status", "plannedOn", "handlerId", "visibility", "createdAt", "closedAt", "history"},
			rowsOf(e.Inquiries, func(q ExportedInquiry) []string {
				closed := ""
				if q.ClosedAt != nil {
					closed = timeText(*q.ClosedAt)
				}
				return []string{q.ID, q.Title, q.Destination, q.Period, strconv.Itoa(q.Duration), valueText(q.Budget),
					strconv.Itoa(q.Travellers), q.Board, q.Notes, valueText(q.Fields), string(q.Status), dateText(q.PlannedOn),
					q.HandlerID, string(q.Visibility), timeText(q.CreatedAt), closed, valueText(q.History)}
			})},
	}
	for _, sec := range e.portalSections() {
		sections = append(sections, struct {
			name   string
			header []string
			rows   [][]string
		}(sec))
	}
	for _, sec := range sections {
		if err := add(sec.name, sec.header, sec.rows); err != nil {
			return fmt.Errorf("crm: export %s: %w", sec.name, err)
		}
	}
	f, err := z.Create("export.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

func rowsOf[T any](items []T, row func(T) []string) [][]string {
	out := make([][]string, len(items))
	for i, it := range items {
		out[i] = row(it)
	}
	return out
}

func dateText(d *Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// valueText writes a value as CSV cell: strings as they are, others as JSON.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inquiriesOf returns the customer's inquiries the reader of the export
// may see, with their history. A staff actor that is not (or no longer) a
// staff user of the organisation sees only the company's inquiries.
func (s *PrivacyService) inquiriesOf(ctx context.Context, tx Store, sc scope, customerID string) ([]ExportedInquiry, error) {
	viewer := Viewer{All: true}
	if actor, err := ActorFrom(ctx); err == nil && actor.Kind == ActorStaff {
		sc.actor = actor
		u, err := s.actingStaff(ctx, tx, sc)
		switch {
		case err == nil:
			viewer = Viewer{StaffID: u.ID, Departments: u.Departments}
		case errors.Is(err, ErrForbidden):
			viewer = Viewer{StaffID: actor.ID}
		default:
			return nil, err
		}
	}
	out := []ExportedInquiry{}
	p := InquiryListParams{OrgID: sc.org, Viewer: viewer, InquiryFilter: InquiryFilter{CustomerID: customerID}, Today: DateOf(s.now()), Limit: 500}
	for {
		page, err := tx.InquiryList(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, q := range page {
			q.Overdue = overdue(&q, p.Today)
			events, err := tx.InquiryEvents(ctx, sc.org, q.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, ExportedInquiry{Inquiry: q, History: nonNil(events)})
		}
		if len(page) < p.Limit {
			return out, nil
		}
		p.After = page[len(page)-1].ID
	}
}
