package crm

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The history events of tasks linked to a customer.
const (
	// EventTaskCreated: a task about the customer was made.
	EventTaskCreated EventKind = "task.created"
	// EventTaskReassigned: the task got another owner.
	EventTaskReassigned EventKind = "task.reassigned"
	// EventTaskCompleted: the task was done.
	EventTaskCompleted EventKind = "task.completed"
	// EventTaskReopened: a done task was opened again.
	EventTaskReopened EventKind = "task.reopened"
	// EventTaskUpdated: the task's title, description or due date changed.
	EventTaskUpdated EventKind = "task.updated"
)

// TaskStatus says whether a task is still to be done.
type TaskStatus string

// The statuses of tasks.
const (
	TaskOpen TaskStatus = "open"
	TaskDone TaskStatus = "done"
)

// Task is a reminder (C14): something a staff user (its owner) has to do
// by a date, about a customer or a booking, or internal.
type Task struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	DueOn       Date   `json:"dueOn"`
	// DueTime is the time of day ("14:30") on DueOn, in the owner's time
	// zone; empty for the whole day.
	DueTime string `json:"dueTime,omitempty"`
	// OwnerID is the staff user who has to do it; CreatorID who made it.
	OwnerID    string     `json:"ownerId"`
	CreatorID  string     `json:"creatorId"`
	Status     TaskStatus `json:"status"`
	CustomerID string     `json:"customerId,omitempty"`
	// BookingID is the platform's booking the task is about, if any.
	BookingID string     `json:"bookingId,omitempty"`
	DoneAt    *time.Time `json:"doneAt,omitempty"`
	DoneBy    string     `json:"doneBy,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	Version   int        `json:"version"`
}

// NewTask is the input of TaskService.Create.
type NewTask struct {
	Title       string `json:"title" validate:"required,max=200"`
	Description string `json:"description,omitempty" text:"multiline" validate:"max=20000"`
	DueOn       Date   `json:"dueOn"`
	DueTime     string `json:"dueTime,omitempty"`
	// OwnerID defaults to the acting staff user.
	OwnerID    string `json:"ownerId,omitempty" validate:"max=100"`
	CustomerID string `json:"customerId,omitempty" validate:"max=36"`
	BookingID  string `json:"bookingId,omitempty" validate:"max=100"`
}

// TaskPatch changes a task; nil fields stay. OwnerID reassigns it, Status
// completes or reopens it.
type TaskPatch struct {
	Title       *string     `json:"title,omitempty" validate:"omitempty,max=200"`
	Description *string     `json:"description,omitempty" text:"multiline" validate:"omitempty,max=20000"`
	DueOn       *Date       `json:"dueOn,omitempty"`
	DueTime     *string     `json:"dueTime,omitempty"`
	OwnerID     *string     `json:"ownerId,omitempty" validate:"omitempty,max=100"`
	Status      *TaskStatus `json:"status,omitempty"`
}

// TaskFilter selects tasks; every set field must match.
type TaskFilter struct {
	OwnerID    string     `json:"ownerId,omitempty"`
	CustomerID string     `json:"customerId,omitempty"`
	Status     TaskStatus `json:"status,omitempty"`
	// DueFrom and DueTo bound the due date, both included.
	DueFrom *Date `json:"dueFrom,omitempty"`
	DueTo   *Date `json:"dueTo,omitempty"`
}

// TaskListParams selects a page of tasks by due date, then id.
type TaskListParams struct {
	OrgID string
	TaskFilter
	// AfterDue and AfterID are the keyset position.
	AfterDue *Date
	AfterID  string
	Limit    int
}

// TaskStore keeps tasks.
type TaskStore interface {
	// TaskInsert stores a task.
	TaskInsert(ctx context.Context, orgID string, t *Task) error
	// TaskGet returns one task, or ErrNotFound.
	TaskGet(ctx context.Context, orgID, id string) (*Task, error)
	// TaskUpdate stores a changed task if its stored version is
	// t.Version-1 (else ErrStaleVersion), or ErrNotFound.
	TaskUpdate(ctx context.Context, orgID string, t *Task) error
	// TaskList returns up to Limit tasks matching the filter, by due date
	// (then due time, empty first), then id.
	TaskList(ctx context.Context, p TaskListParams) ([]Task, error)
}

// TaskService keeps tasks and reminders (C14).
type TaskService struct {
	*core
}

var dueTimePattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func checkDueTime(v *validation, field, s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !dueTimePattern.MatchString(s) {
		v.add(field, "invalid", "")
	}
	return s
}

func checkDueOn(v *validation, field string, d Date) {
	if d.IsZero() {
		v.add(field, "required", "")
	} else if code := validDate(d); code != "" {
		v.add(field, code, "")
	}
}

// Create makes a task. Its owner is an active staff user of the
// organisation (by default the acting one, who must be a staff user); a
// task about a customer goes on the customer's timeline.
func (s *TaskService) Create(ctx context.Context, in NewTask) (*Task, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Title, in.OwnerID, in.CustomerID, in.BookingID = strings.TrimSpace(in.Title), strings.TrimSpace(in.OwnerID),
		strings.TrimSpace(in.CustomerID), strings.TrimSpace(in.BookingID)
	v.addStruct(s.validate, in)
	checkDueOn(v, "dueOn", in.DueOn)
	in.DueTime = checkDueTime(v, "dueTime", in.DueTime)
	if in.CustomerID != "" && !v.has("customerId") && !validID(in.CustomerID) {
		v.add("customerId", "unknown", "")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Task{ID: newID(), Title: in.Title, Description: in.Description, DueOn: in.DueOn, DueTime: in.DueTime,
		Status: TaskOpen, CustomerID: in.CustomerID, BookingID: in.BookingID, CreatedAt: now, UpdatedAt: now, Version: 1}
	err = s.store.InTx(ctx, func(tx Store) error {
		me, err := s.actingStaff(ctx, tx, sc)
		if err != nil {
			return err
		}
		t.CreatorID, t.OwnerID = me.ID, me.ID
		if in.OwnerID != "" && in.OwnerID != me.ID {
			if err := s.checkOwner(ctx, tx, sc, v, in.OwnerID); err != nil {
				return err
			}
			t.OwnerID = in.OwnerID
		}
		if t.CustomerID != "" {
			if err := s.lockCustomer(ctx, tx, sc, v, t.CustomerID); err != nil {
				return err
			}
		}
		if err := tx.TaskInsert(ctx, sc.org, t); err != nil {
			return err
		}
		if t.CustomerID == "" {
			return nil
		}
		return tx.HistoryAppend(ctx, s.event(sc, t.CustomerID, EventTaskCreated, now, []FieldChange{
			{Field: "task", New: t.ID}, {Field: "title", New: t.Title}, {Field: "dueOn", New: t.DueOn.String()}, {Field: "owner", New: t.OwnerID}}))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// checkOwner requires an active staff user of the organisation.
func (s *TaskService) checkOwner(ctx context.Context, tx Store, sc scope, v *validation, id string) error {
	if !validStaffID(id) {
		v.add("ownerId", "unknown", "")
		return v.err()
	}
	u, err := tx.StaffGet(ctx, sc.org, id)
	if errors.Is(err, ErrNotFound) || (err == nil && !u.Active) {
		v.add("ownerId", "unknown", "")
		return v.err()
	}
	return err
}

// lockCustomer locks a customer a task refers to; an unknown one is a
// validation error on customerId.
func (s *TaskService) lockCustomer(ctx context.Context, tx Store, sc scope, v *validation, id string) error {
	err := tx.CustomerLock(ctx, sc.org, id)
	if errors.Is(err, ErrNotFound) {
		v.add("customerId", "unknown", "")
		return v.err()
	}
	return err
}

// Get returns one task.
func (s *TaskService) Get(ctx context.Context, id string) (*Task, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "task " + id}
	}
	return s.store.TaskGet(ctx, sc.org, id)
}

// Update changes a task based on version (ErrStaleVersion when stale):
// OwnerID reassigns it, Status done completes it (open reopens it). For a
// task about a customer, each of these goes on its timeline.
func (s *TaskService) Update(ctx context.Context, id string, version int, p TaskPatch) (*Task, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	if p.Title != nil {
		if t := strings.TrimSpace(*p.Title); t == "" {
			v.add("title", "required", "")
		} else {
			p.Title = &t
		}
	}
	if p.DueOn != nil {
		checkDueOn(v, "dueOn", *p.DueOn)
	}
	if p.DueTime != nil {
		t := checkDueTime(v, "dueTime", *p.DueTime)
		p.DueTime = &t
	}
	if p.Status != nil && *p.Status != TaskOpen && *p.Status != TaskDone {
		v.add("status", "oneof", "open, done")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "task " + id}
	}
	var out *Task
	err = s.store.InTx(ctx, func(tx Store) error {
		me, err := s.actingStaff(ctx, tx, sc)
		if err != nil {
			return err
		}
		t, err := tx.TaskGet(ctx, sc.org, id)
		if err != nil {
			return err
		}
		if t.CustomerID != "" {
			if err := tx.CustomerLock(ctx, sc.org, t.CustomerID); err != nil {
				return err
			}
		}
		if version != 0 && t.Version != version {
			return ErrStaleVersion
		}
		now := s.now()
		var events []HistoryEvent
		add := func(kind EventKind, changes ...FieldChange) {
			if t.CustomerID != "" {
				changes = append([]FieldChange{{Field: "task", Old: t.ID, New: t.ID}}, changes...)
				events = append(events, s.event(sc, t.CustomerID, kind, now, changes))
			}
		}
		var edits []FieldChange
		if p.Title != nil && *p.Title != t.Title {
			edits = append(edits, FieldChange{Field: "title", Old: t.Title, New: *p.Title})
			t.Title = *p.Title
		}
		if p.Description != nil && *p.Description != t.Description {
			edits = append(edits, FieldChange{Field: "description", Old: t.Description, New: *p.Description})
			t.Description = *p.Description
		}
		if p.DueOn != nil && *p.DueOn != t.DueOn {
			edits = append(edits, FieldChange{Field: "dueOn", Old: t.DueOn.String(), New: p.DueOn.String()})
			t.DueOn = *p.DueOn
		}
		if p.DueTime != nil && *p.DueTime != t.DueTime {
			edits = append(edits, FieldChange{Field: "dueTime", Old: t.DueTime, New: *p.DueTime})
			t.DueTime = *p.DueTime
		}
		changed := len(edits) > 0
		if changed {
			add(EventTaskUpdated, edits...)
		}
		if p.OwnerID != nil && *p.OwnerID != t.OwnerID {
			if err := s.checkOwner(ctx, tx, sc, v, *p.OwnerID); err != nil {
				return err
			}
			add(EventTaskReassigned, FieldChange{Field: "owner", Old: t.OwnerID, New: *p.OwnerID})
			t.OwnerID, changed = *p.OwnerID, true
		}
		if p.Status != nil && *p.Status != t.Status {
			if *p.Status == TaskDone {
				t.DoneAt, t.DoneBy = &now, me.ID
				add(EventTaskCompleted, FieldChange{Field: "status", Old: string(TaskOpen), New: string(TaskDone)})
			} else {
				t.DoneAt, t.DoneBy = nil, ""
				add(EventTaskReopened, FieldChange{Field: "status", Old: string(TaskDone), New: string(TaskOpen)})
			}
			t.Status, changed = *p.Status, true
		}
		out = t
		if !changed {
			return nil
		}
		t.Version++
		t.UpdatedAt = now
		if err := tx.TaskUpdate(ctx, sc.org, t); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		return tx.HistoryAppend(ctx, events...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Complete marks a task done (whatever its version); a done task stays done.
func (s *TaskService) Complete(ctx context.Context, id string) (*Task, error) {
	done := TaskDone
	return s.Update(ctx, id, 0, TaskPatch{Status: &done})
}

// List returns a page of the organisation's tasks matching f, by due date,
// then id: done tasks stay searchable by due date, owner, customer and status.
func (s *TaskService) List(ctx context.Context, f TaskFilter, page PageRequest) (Page[Task], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[Task]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	var after *Date
	if ok && page.Cursor != "" {
		d, err := ParseDate(string(cur.Key))
		if err != nil || cur.ID == "" || cur.Sort != "task" {
			ok = false
		} else {
			after = &d
		}
	}
	if !ok {
		v.add("cursor", "cursor", "")
	}
	if f.Status != "" && f.Status != TaskOpen && f.Status != TaskDone {
		v.add("status", "oneof", "open, done")
	}
	if f.OwnerID != "" && !validStaffID(f.OwnerID) {
		v.add("ownerId", "invalid", "")
	}
	if f.CustomerID != "" && !validID(f.CustomerID) {
		v.add("customerId", "unknown", "")
	}
	for field, d := range map[string]*Date{"dueFrom": f.DueFrom, "dueTo": f.DueTo} {
		if d != nil {
			if code := validDate(*d); code != "" {
				v.add(field, code, "")
			}
		}
	}
	if err := v.err(); err != nil {
		return Page[Task]{}, err
	}
	tasks, err := s.store.TaskList(ctx, TaskListParams{OrgID: sc.org, TaskFilter: f, AfterDue: after, AfterID: cur.ID, Limit: limit + 1})
	if err != nil {
		return Page[Task]{}, err
	}
	out := Page[Task]{Items: nonNil(tasks)}
	if len(tasks) > limit {
		out.Items = tasks[:limit]
		last := out.Items[limit-1]
		out.Next = cursor{Sort: "task", Key: []byte(last.DueOn.String()), ID: last.ID}.encode()
	}
	return out, nil
}

// Reminders are a staff user's open tasks due soon or overdue, by the day
// they are due in the user's time zone.
type Reminders struct {
	// Today is the day it is now for the user, in TimeZone.
	Today Date `json:"today"`
	// TimeZone is the user's own, else the organisation's.
	TimeZone string `json:"timeZone"`
	// Overdue are the open tasks due before today, oldest first (at most
	// MaxReminders; Truncated says there are more).
	Overdue     []Task `json:"overdue"`
	DueToday    []Task `json:"dueToday"`
	DueTomorrow []Task `json:"dueTomorrow"`
	DueDayAfter []Task `json:"dueDayAfterTomorrow"`
	// Truncated says that a list holds only its first MaxReminders tasks.
	Truncated bool `json:"truncated"`
	// Inquiries are the open inquiries the user handles planned up to the
	// day after tomorrow, soonest first; those planned before today are
	// flagged Overdue until their status is final.
	Inquiries []Inquiry `json:"inquiries"`
}

// MaxReminders bounds the reminders of one call.
const MaxReminders = 100

// Mine returns the acting staff user's reminders: open tasks overdue, due
// today, tomorrow and the day after. "Today" is the day it is now in the
// user's time zone (StaffUser.TimeZone), else the organisation's
// (Organisation.TimeZone, UTC by default). Done tasks are not reminders.
func (s *TaskService) Mine(ctx context.Context) (*Reminders, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.actor, err = ActorFrom(ctx); err != nil {
		return nil, err
	}
	me, err := s.actingStaff(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	today, tz, err := s.localToday(ctx, s.store, sc, me)
	if err != nil {
		return nil, err
	}
	yesterday, tomorrow, dayAfter := addDays(today, -1), addDays(today, 1), addDays(today, 2)
	r := &Reminders{Today: today, TimeZone: tz}
	list := func(from, to *Date) ([]Task, error) {
		tasks, err := s.store.TaskList(ctx, TaskListParams{OrgID: sc.org,
			TaskFilter: TaskFilter{OwnerID: me.ID, Status: TaskOpen, DueFrom: from, DueTo: to}, Limit: MaxReminders + 1})
		if len(tasks) > MaxReminders {
			tasks, r.Truncated = tasks[:MaxReminders], true
		}
		return nonNil(tasks), err
	}
	if r.Overdue, err = list(nil, &yesterday); err != nil {
		return nil, err
	}
	soon, err := list(&today, &dayAfter)
	if err != nil {
		return nil, err
	}
	r.DueToday, r.DueTomorrow, r.DueDayAfter = []Task{}, []Task{}, []Task{}
	for _, t := range soon {
		switch t.DueOn {
		case today:
			r.DueToday = append(r.DueToday, t)
		case tomorrow:
			r.DueTomorrow = append(r.DueTomorrow, t)
		default:
			r.DueDayAfter = append(r.DueDayAfter, t)
		}
	}
	inquiries, err := s.store.InquiryList(ctx, InquiryListParams{OrgID: sc.org, Today: today, Limit: MaxReminders,
		Viewer:        Viewer{StaffID: me.ID, Departments: me.Departments},
		InquiryFilter: InquiryFilter{HandlerID: me.ID, Open: true, PlannedTo: &dayAfter}})
	if err != nil {
		return nil, err
	}
	for i := range inquiries {
		inquiries[i].Overdue = overdue(&inquiries[i], today)
	}
	slices.SortStableFunc(inquiries, func(a, b Inquiry) int { return a.PlannedOn.Time().Compare(b.PlannedOn.Time()) })
	r.Inquiries = nonNil(inquiries)
	return r, nil
}

func addDays(d Date, n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }
