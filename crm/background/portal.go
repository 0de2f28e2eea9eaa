package background

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/dossiercrm/dossier/crm"
)

// ItineraryExpiryEvery is how often the leader removes itineraries saved
// more than crm.ItineraryTTL ago (crm.ItineraryService.ExpireDue).
const ItineraryExpiryEvery = time.Hour

// itineraryWorker removes expired itineraries in every organisation.
type itineraryWorker struct {
	river.WorkerDefaults[crm.ExpireItineraries]
	c   *crm.CRM
	log *slog.Logger
}

// Work implements river.Worker.
func (w *itineraryWorker) Work(ctx context.Context, job *river.Job[crm.ExpireItineraries]) error {
	return eachOrg(ctx, w.c, w.log, "itinerary expiry", func(ctx context.Context, org crm.Organisation) error {
		n, err := w.c.Itineraries.ExpireDue(ctx, time.Now())
		switch {
		case err != nil:
			w.log.Error("itinerary expiry failed", "org", org.ID, "removed", n, "err", err)
		case n > 0:
			w.log.Info("itineraries removed", "org", org.ID, "removed", n)
		}
		return err
	})
}

// mailingWorker queues a mailing's recipients a batch at a time until it
// is done. Every batch commits with its position, so a stop (or a crash,
// after which River runs the job again) continues where it was.
type mailingWorker struct {
	river.WorkerDefaults[crm.SendMailing]
	c   *crm.CRM
	log *slog.Logger
}

// Timeout implements river.Worker: a mailing takes as long as its batches.
func (w *mailingWorker) Timeout(*river.Job[crm.SendMailing]) time.Duration { return -1 }

// Work implements river.Worker.
func (w *mailingWorker) Work(ctx context.Context, job *river.Job[crm.SendMailing]) error {
	ctx = crm.WithActor(crm.WithOrg(ctx, job.Args.OrgID), crm.System())
	for {
		if ctx.Err() != nil {
			return river.JobSnooze(0) // stopping: taken up again where it stopped
		}
		done, err := w.c.Mailings.Continue(ctx, job.Args.MailingID)
		if err != nil {
			if ctx.Err() != nil {
				return river.JobSnooze(0)
			}
			return err
		}
		if done {
			w.log.Info("mailing queued", "org", job.Args.OrgID, "mailing", job.Args.MailingID)
			return nil
		}
	}
}
