package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// defaultPointsExpiryEvery is how often serve expires loyalty points.
const defaultPointsExpiryEvery = 24 * time.Hour

// pointsExpiryRound is one scheduled run of serve: it expires the points
// past their date in every organisation with points on, as the system, and
// logs one line per organisation where points expired. Running it again
// the same day changes nothing.
func pointsExpiryRound(ctx context.Context, c *crm.CRM, log *slog.Logger, now time.Time) {
	orgs, err := c.Organisations.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("points expiry failed", "err", err)
		}
		return
	}
	for _, org := range orgs {
		if ctx.Err() != nil {
			return
		}
		if !org.PointsEnabled {
			continue
		}
		octx := crm.WithActor(crm.WithOrg(ctx, org.ID), crm.System())
		r, err := c.Points.ExpireDue(octx, now)
		switch {
		case errors.Is(err, crm.ErrFeatureOff): // switched off meanwhile
		case err != nil && ctx.Err() != nil:
			log.Info("points expiry interrupted by shutdown", "org", org.ID)
		case err != nil:
			log.Error("points expiry failed", "org", org.ID, "err", err)
		case r.Customers > 0:
			log.Info("points expired", "org", org.ID, "customers", r.Customers, "points", r.Points)
		default:
			log.Debug("no points due to expire", "org", org.ID)
		}
	}
}
