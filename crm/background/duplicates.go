package background

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/dossiercrm/dossier/crm"
)

// duplicatesWorker checks new and changed customers against their
// organisation's base (crm.CheckDuplicates, enqueued by the change).
type duplicatesWorker struct {
	river.WorkerDefaults[crm.CheckDuplicates]
	c   *crm.CRM
	log *slog.Logger
}

// Work implements river.Worker.
func (w *duplicatesWorker) Work(ctx context.Context, job *river.Job[crm.CheckDuplicates]) error {
	ctx = crm.WithActor(crm.WithOrg(ctx, job.Args.OrgID), crm.System())
	if err := w.c.Merges.CheckDuplicates(ctx, job.Args.CustomerIDs...); err != nil {
		if ctx.Err() != nil {
			return river.JobSnooze(0) // stopping: handed back
		}
		return err
	}
	return nil
}
