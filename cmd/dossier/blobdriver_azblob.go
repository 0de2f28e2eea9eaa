//go:build dossier_azblob

package main

// Azure Blob Storage (azblob://) for --blob-url. The driver and its SDK are
// large, so a build takes it only when asked: go build -tags dossier_azblob.
import _ "gocloud.dev/blob/azureblob"
