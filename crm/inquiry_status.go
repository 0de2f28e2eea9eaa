package crm

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PipelineKind says where a pipeline status leaves an inquiry: still
// open, or closed as won or lost (final). Reports count won and lost by
// kind; an inquiry in a final status is no longer flagged overdue.
type PipelineKind string

// The kinds of pipeline status.
const (
	PipelineOpen PipelineKind = "open"
	PipelineWon  PipelineKind = "won"
	PipelineLost PipelineKind = "lost"
)

// Final reports whether the kind closes the inquiry.
func (k PipelineKind) Final() bool { return k == PipelineWon || k == PipelineLost }

// PipelineStatus is a status of the organisation's inquiry pipeline: a
// built-in one (InquiryStatuses) or one the organisation added.
type PipelineStatus struct {
	// ID is the status an inquiry carries: a built-in key ("offer_sent")
	// or the organisation's own key ("deposit_paid").
	ID InquiryStatus `json:"id"`
	// Names are the status's name per language (BCP 47 → name).
	Names    map[string]string `json:"names"`
	Kind     PipelineKind      `json:"kind"`
	BuiltIn  bool              `json:"builtIn"`
	Position int               `json:"position"`
	// Archived statuses stay on the inquiries that have them and are
	// offered for no new inquiry and no change.
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// NewPipelineStatus is the input of InquiryService.DefineStatus.
type NewPipelineStatus struct {
	// ID is the key inquiries carry: lower-case letters, digits and _,
	// starting with a letter, at most 40; not a built-in key.
	ID InquiryStatus `json:"id"`
	// Names per language (BCP 47 → name); at least one.
	Names map[string]string `json:"names" validate:"required,min=1,max=20,dive,required,max=100"`
	// Kind is open, won or lost; it cannot change later (inquiries in the
	// status were closed or left open by it).
	Kind PipelineKind `json:"kind"`
}

// PipelineStatusPatch changes an organisation's own status; nil fields
// stay. Names replace all names.
type PipelineStatusPatch struct {
	Names    map[string]string `json:"names,omitempty" validate:"omitempty,min=1,max=20,dive,required,max=100"`
	Archived *bool             `json:"archived,omitempty"`
}

// PipelineStatusStore keeps the statuses organisations add to the
// inquiry pipeline (the built-in ones are not stored).
type PipelineStatusStore interface {
	// PipelineStatusInsert stores a status; a taken id is a *ConflictError.
	PipelineStatusInsert(ctx context.Context, orgID string, st *PipelineStatus) error
	// PipelineStatusList returns the organisation's own statuses by position.
	PipelineStatusList(ctx context.Context, orgID string) ([]PipelineStatus, error)
	// PipelineStatusUpdate stores a changed status, or ErrNotFound.
	PipelineStatusUpdate(ctx context.Context, orgID string, st *PipelineStatus) error
}

var pipelineKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// builtInStatuses returns the built-in pipeline, in order.
func builtInStatuses() []PipelineStatus {
	names := []map[string]string{
		{"en": "New", "nl": "Nieuw", "de": "Neu", "pl": "Nowe"},
		{"en": "In progress", "nl": "In behandeling", "de": "In Bearbeitung", "pl": "W toku"},
		{"en": "Offer sent", "nl": "Offerte verstuurd", "de": "Angebot verschickt", "pl": "Oferta wysłana"},
		{"en": "Won", "nl": "Gewonnen", "de": "Gewonnen", "pl": "Wygrane"},
		{"en": "Lost", "nl": "Verloren", "de": "Verloren", "pl": "Przegrane"},
	}
	kinds := []PipelineKind{PipelineOpen, PipelineOpen, PipelineOpen, PipelineWon, PipelineLost}
	out := make([]PipelineStatus, len(names))
	for i, id := range InquiryStatuses() {
		out[i] = PipelineStatus{ID: id, Names: names[i], Kind: kinds[i], BuiltIn: true, Position: i + 1}
	}
	return out
}

// pipeline returns the organisation's pipeline: the built-in statuses,
// then its own by position.
func (c *core) pipeline(ctx context.Context, st PipelineStatusStore, sc scope) ([]PipelineStatus, error) {
	own, err := st.PipelineStatusList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	return append(builtInStatuses(), own...), nil
}

// statusKinds maps every status of a pipeline to its kind.
func statusKinds(p []PipelineStatus) map[InquiryStatus]PipelineKind {
	out := make(map[InquiryStatus]PipelineKind, len(p))
	for _, s := range p {
		out[s.ID] = s.Kind
	}
	return out
}

// statusChoices lists the statuses offered for new inquiries and changes.
func statusChoices(p []PipelineStatus) string {
	var ids []string
	for _, s := range p {
		if !s.Archived {
			ids = append(ids, string(s.ID))
		}
	}
	return strings.Join(ids, ", ")
}

// Statuses returns the organisation's inquiry pipeline: the built-in
// statuses, then its own (archived ones included).
func (s *InquiryService) Statuses(ctx context.Context) ([]PipelineStatus, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.pipeline(ctx, s.store, sc)
}

// DefineStatus adds a status of the organisation's own to the inquiry
// pipeline, open or final (won or lost); only an administrator (or the
// system) may.
func (s *InquiryService) DefineStatus(ctx context.Context, in NewPipelineStatus) (*PipelineStatus, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	v.addStruct(s.validate, in)
	names := checkNames(v, in.Names)
	switch {
	case in.ID == "":
		v.add("id", "required", "")
	case !pipelineKey.MatchString(string(in.ID)):
		v.add("id", "key", "")
	}
	if in.Kind != PipelineOpen && !in.Kind.Final() {
		v.add("kind", "oneof", "open, won, lost")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *PipelineStatus
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		p, err := s.pipeline(ctx, tx, sc)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(p, func(x PipelineStatus) bool { return x.ID == in.ID }) {
			return &ConflictError{Field: "id", Reason: "the pipeline already has the status " + string(in.ID)}
		}
		st := &PipelineStatus{ID: in.ID, Names: names, Kind: in.Kind, Position: len(p) + 1, CreatedAt: s.now()}
		st.UpdatedAt = st.CreatedAt
		if err := tx.PipelineStatusInsert(ctx, sc.org, st); err != nil {
			return err
		}
		out = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateStatus renames or archives one of the organisation's own
// statuses; only an administrator (or the system) may. Built-in statuses
// cannot be changed (ErrForbidden); a status's kind never changes.
func (s *InquiryService) UpdateStatus(ctx context.Context, id InquiryStatus, p PipelineStatusPatch) (*PipelineStatus, error) {
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
	var out *PipelineStatus
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		if slices.Contains(InquiryStatuses(), id) {
			return &ForbiddenError{Reason: "the built-in status " + string(id) + " cannot be changed"}
		}
		own, err := tx.PipelineStatusList(ctx, sc.org)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(own, func(x PipelineStatus) bool { return x.ID == id })
		if i < 0 {
			return &notFoundError{what: "inquiry status " + string(id)}
		}
		st := own[i]
		if names != nil {
			st.Names = names
		}
		if p.Archived != nil {
			st.Archived = *p.Archived
		}
		st.UpdatedAt = s.now()
		if err := tx.PipelineStatusUpdate(ctx, sc.org, &st); err != nil {
			return err
		}
		out = &st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
