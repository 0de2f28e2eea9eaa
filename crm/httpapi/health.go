package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok"`
	}
}

func okHealth() *healthOutput {
	out := &healthOutput{}
	out.Body.Status = "ok"
	return out
}

// registerHealth adds the probes; they need no API key.
func (s *server) registerHealth() {
	public := []map[string][]string{}
	register(s, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Tags: []string{"Operations"},
		Summary: "Liveness: the process serves requests", Security: public,
	}, func(context.Context, *struct{}) (*healthOutput, error) {
		return okHealth(), nil
	})
	register(s, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Tags: []string{"Operations"},
		Summary: "Readiness: the database answers", Security: public,
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		if err := s.opts.Ready(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "err", err)
			return nil, newProblem(http.StatusServiceUnavailable, "the database does not answer")
		}
		return okHealth(), nil
	})
}
