//go:build dossier_s3

package main

// Amazon S3 and S3-compatible object storage (s3://) for --blob-url. The driver and its SDK are
// large, so a build takes it only when asked: go build -tags dossier_s3.
import _ "gocloud.dev/blob/s3blob"
