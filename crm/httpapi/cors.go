package httpapi

import (
	"net/http"

	"github.com/rs/cors"
)

// corsHandler answers CORS preflights and adds the CORS headers for the
// allowed origins (rs/cors, which follows the Fetch standard's rules for
// preflights, Vary and credentials). The API authenticates with a bearer
// key, not cookies, so credentials are not allowed.
func corsHandler(origins []string, next http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept-Language", "If-Match", "If-None-Match",
			"Idempotency-Key", "X-Request-Id"},
		ExposedHeaders: []string{"ETag", "Location", "Retry-After", "X-Request-Id", "Idempotent-Replayed", "Content-Disposition"},
		MaxAge:         600,
	}).Handler(next)
}
