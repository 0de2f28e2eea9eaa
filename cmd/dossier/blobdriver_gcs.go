//go:build dossier_gcs

package main

// Google Cloud Storage (gs://) for --blob-url. The driver and its SDK are
// large, so a build takes it only when asked: go build -tags dossier_gcs.
import _ "gocloud.dev/blob/gcsblob"
