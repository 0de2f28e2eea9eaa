package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type noteTypeOutput = bodyOutput[*crm.NoteType]

type noteTypeListOutput struct {
	Body struct {
		Items []crm.NoteType `json:"items"`
	}
}

type defineNoteTypeInput struct {
	Body crm.NewNoteType
}

type updateNoteTypeInput struct {
	ID   string `path:"id" maxLength:"100" doc:"The note type's id (a built-in key such as phone_call, or a UUID)."`
	Body crm.NoteTypePatch
}

type noteTypePath struct {
	ID string `path:"id" maxLength:"100" doc:"The note type's id."`
}

type noteOutput struct {
	// ETag is the note's version, to send back in If-Match when changing it.
	ETag string `header:"ETag"`
	Body *crm.Note
}

func noteReply(n *crm.Note, err error) (*noteOutput, error) {
	if err != nil {
		return nil, err
	}
	return &noteOutput{ETag: etag(n.Version), Body: n}, nil
}

type addNoteInput struct {
	ID   string `path:"id" doc:"The customer's id."`
	Body crm.NewNote
}

type notePath struct {
	ID string `path:"id" doc:"The note's id."`
}

type customerNotesInput struct {
	ID     string `path:"id" doc:"The customer's id."`
	Pinned bool   `query:"pinned" doc:"Only pinned notes."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type notePageOutput = bodyOutput[crm.Page[crm.Note]]

type updateNoteInput struct {
	ID      string `path:"id" doc:"The note's id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version the change is based on, or *. A stale one gets 412."`
	Body    crm.NotePatch
}

type taskOutput struct {
	// ETag is the task's version, to send back in If-Match when changing it.
	ETag string `header:"ETag"`
	Body *crm.Task
}

func taskReply(t *crm.Task, err error) (*taskOutput, error) {
	if err != nil {
		return nil, err
	}
	return &taskOutput{ETag: etag(t.Version), Body: t}, nil
}

type createTaskInput struct {
	Body crm.NewTask
}

type taskPath struct {
	ID string `path:"id" doc:"The task's id."`
}

type updateTaskInput struct {
	ID      string `path:"id" doc:"The task's id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version the change is based on, or *. A stale one gets 412."`
	Body    crm.TaskPatch
}

type listTasksInput struct {
	OwnerID    string `query:"ownerId" maxLength:"100" doc:"Only this staff user's tasks."`
	CustomerID string `query:"customerId" doc:"Only tasks about this customer."`
	Status     string `query:"status" doc:"open or done."`
	DueFrom    string `query:"dueFrom" format:"date" doc:"Due on or after this day, YYYY-MM-DD."`
	DueTo      string `query:"dueTo" format:"date" doc:"Due on or before this day, YYYY-MM-DD."`
	Cursor     string `query:"cursor" doc:"The next value of the previous page."`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type taskPageOutput = bodyOutput[crm.Page[crm.Task]]

type remindersOutput = bodyOutput[*crm.Reminders]

// taskStatusSchema is how crm.TaskStatus appears in the OpenAPI document.
type taskStatusSchema struct{}

// Schema implements huma.SchemaProvider.
func (taskStatusSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.TaskOpen, crm.TaskDone)
}

func (s *server) registerNotesAndTasks() {
	notes, tasks := s.crm.Notes, s.crm.Tasks
	ntags := []string{"Notes"}
	register(s, huma.Operation{
		OperationID: "listNoteTypes", Method: http.MethodGet, Path: "/v1/note-types", Tags: ntags,
		Summary: "List the organisation's note types (built-in and own, archived ones included)",
	}, func(ctx context.Context, _ *struct{}) (*noteTypeListOutput, error) {
		ts, err := notes.Types(ctx)
		if err != nil {
			return nil, err
		}
		out := &noteTypeListOutput{}
		out.Body.Items = nonNil(ts)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "defineNoteType", Method: http.MethodPost, Path: "/v1/note-types", Tags: ntags,
		Summary: "Add a note type with its names per language (administrators only)",
	}, func(o *noteTypeOutput) string { return "/v1/note-types/" + o.Body.ID },
		func(ctx context.Context, in *defineNoteTypeInput) (*noteTypeOutput, error) {
			return reply(notes.DefineType(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getNoteType", Method: http.MethodGet, Path: "/v1/note-types/{id}", Tags: ntags,
		Summary: "Get a note type",
	}, func(ctx context.Context, in *noteTypePath) (*noteTypeOutput, error) {
		ts, err := notes.Types(ctx)
		return reply(find(ts, err, func(t *crm.NoteType) bool { return t.ID == in.ID }))
	})
	register(s, huma.Operation{
		OperationID: "updateNoteType", Method: http.MethodPatch, Path: "/v1/note-types/{id}", Tags: ntags,
		Summary: "Rename or archive a note type (administrators only); an archived type is offered for no new note",
	}, func(ctx context.Context, in *updateNoteTypeInput) (*noteTypeOutput, error) {
		return reply(notes.UpdateType(ctx, in.ID, in.Body))
	})
	create(s, huma.Operation{
		OperationID: "addCustomerNote", Method: http.MethodPost, Path: "/v1/customers/{id}/notes", Tags: ntags,
		Summary:     "Write a note of a typed event on the customer",
		Description: "The author is the API key's staff user; the note goes on the customer's timeline. bookingId names a booking of the platform.",
	}, func(o *noteOutput) string { return "/v1/notes/" + o.Body.ID },
		func(ctx context.Context, in *addNoteInput) (*noteOutput, error) {
			return noteReply(notes.Add(ctx, in.ID, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "listCustomerNotes", Method: http.MethodGet, Path: "/v1/customers/{id}/notes", Tags: ntags,
		Summary: "The customer's notes: pinned ones first, then the newest first",
	}, func(ctx context.Context, in *customerNotesInput) (*notePageOutput, error) {
		return reply(notes.List(ctx, in.ID, in.Pinned, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "getCustomerLatestNote", Method: http.MethodGet, Path: "/v1/customers/{id}/notes/latest", Tags: ntags,
		Summary: "The customer's latest note (404 when it has none)",
	}, func(ctx context.Context, in *notePath) (*noteOutput, error) {
		return noteReply(notes.Latest(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "getNote", Method: http.MethodGet, Path: "/v1/notes/{id}", Tags: ntags,
		Summary: "Get a note",
	}, func(ctx context.Context, in *notePath) (*noteOutput, error) {
		return noteReply(notes.Get(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "updateNote", Method: http.MethodPatch, Path: "/v1/notes/{id}", Tags: ntags,
		Summary:     "Change a note's type, text or time, or pin it",
		Description: "The customer's timeline keeps the earlier values.",
	}, func(ctx context.Context, in *updateNoteInput) (*noteOutput, error) {
		version, err := ifMatchVersion(ctx, "the note's", func() (int, error) {
			n, err := notes.Get(ctx, in.ID)
			if err != nil {
				return 0, err
			}
			return n.Version, nil
		})
		if err != nil {
			return nil, err
		}
		return noteReply(notes.Update(ctx, in.ID, version, in.Body))
	})

	ttags := []string{"Tasks"}
	create(s, huma.Operation{
		OperationID: "createTask", Method: http.MethodPost, Path: "/v1/tasks", Tags: ttags,
		Summary: "Make a task (a reminder), for yourself or another staff user, about a customer, a booking, or internal",
	}, func(o *taskOutput) string { return "/v1/tasks/" + o.Body.ID },
		func(ctx context.Context, in *createTaskInput) (*taskOutput, error) {
			return taskReply(tasks.Create(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "listTasks", Method: http.MethodGet, Path: "/v1/tasks", Tags: ttags,
		Summary: "Find tasks by owner, customer, status and due date, by due date",
	}, func(ctx context.Context, in *listTasksInput) (*taskPageOutput, error) {
		f := crm.TaskFilter{OwnerID: in.OwnerID, CustomerID: in.CustomerID, Status: crm.TaskStatus(in.Status)}
		var bad []crm.FieldError
		for _, d := range []struct {
			field, value string
			dst          **crm.Date
		}{{"dueFrom", in.DueFrom, &f.DueFrom}, {"dueTo", in.DueTo, &f.DueTo}} {
			if d.value == "" {
				continue
			}
			date, err := crm.ParseDate(d.value)
			if err != nil {
				bad = append(bad, crm.FieldError{Field: d.field, Code: "date", Message: d.field + " is not a date (YYYY-MM-DD)"})
				continue
			}
			*d.dst = &date
		}
		if bad != nil {
			return nil, &crm.ValidationError{Fields: bad}
		}
		return reply(tasks.List(ctx, f, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "getMyReminders", Method: http.MethodGet, Path: "/v1/tasks/reminders", Tags: ttags,
		Summary: "My reminders: my open tasks overdue, due today, tomorrow and the day after",
		Description: "\"Today\" is the day in the API key's staff user's time zone, else the organisation's (UTC unless set). " +
			"Done tasks are not reminders.",
	}, func(ctx context.Context, _ *struct{}) (*remindersOutput, error) {
		return reply(tasks.Mine(ctx))
	})
	register(s, huma.Operation{
		OperationID: "getTask", Method: http.MethodGet, Path: "/v1/tasks/{id}", Tags: ttags,
		Summary: "Get a task",
	}, func(ctx context.Context, in *taskPath) (*taskOutput, error) {
		return taskReply(tasks.Get(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "updateTask", Method: http.MethodPatch, Path: "/v1/tasks/{id}", Tags: ttags,
		Summary:     "Change a task: reassign it (ownerId), complete or reopen it (status), or change its text and due date",
		Description: "For a task about a customer, creating, reassigning and completing it go on the customer's timeline.",
	}, func(ctx context.Context, in *updateTaskInput) (*taskOutput, error) {
		version, err := ifMatchVersion(ctx, "the task's", func() (int, error) {
			t, err := tasks.Get(ctx, in.ID)
			if err != nil {
				return 0, err
			}
			return t.Version, nil
		})
		if err != nil {
			return nil, err
		}
		return taskReply(tasks.Update(ctx, in.ID, version, in.Body))
	})
}
