package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"gocloud.dev/blob"

	"github.com/dossiercrm/dossier/crm/store/cloudblob"
)

// defaultDataDir is where serve keeps its files unless told otherwise,
// relative to the working directory.
const defaultDataDir = "dossier-data"

// blobFlags defines --data-dir and --blob-url, where documents' contents go.
func (fs *flagSet) blobFlags(dataDir, blobURL *string) {
	fs.envString(dataDir, "data-dir", "DOSSIER_DATA_DIR", defaultDataDir,
		"`directory` for files: without --blob-url, documents' contents go to its blobs directory, which every server and command on the same database must share")
	fs.envString(blobURL, "blob-url", "DOSSIER_BLOB_URL", "",
		"`URL` of the bucket for documents' contents, opened the way gocloud.dev/blob opens buckets: file:///path, "+
			"s3://bucket?region=..., gs://bucket or azblob://container (object storage when built with its tag, see docs/documents-and-mail.md); "+
			"default: the blobs directory of --data-dir")
}

// cloudSchemes are the object stores whose drivers a build may leave out
// (blobdrivers_*.go), with the build tag that puts each in.
var cloudSchemes = map[string]string{"s3": "dossier_s3", "gs": "dossier_gcs", "azblob": "dossier_azblob"}

// openBlobs opens the store of document contents: the bucket at blobURL,
// or else the blobs directory under dataDir (created if missing). It
// returns a description for the log.
func openBlobs(ctx context.Context, dataDir, blobURL string) (*cloudblob.Store, string, error) {
	if blobURL == "" {
		if dataDir == "" {
			return nil, "", usageErrorf("--data-dir must not be empty")
		}
		dir := filepath.Join(dataDir, "blobs")
		blobs, err := cloudblob.OpenDir(dir)
		return blobs, dir, err
	}
	u, err := url.Parse(blobURL)
	if err != nil || u.Scheme == "" {
		return nil, "", usageErrorf("--blob-url %q is not a URL such as file:///var/lib/dossier/blobs or s3://bucket", blobURL)
	}
	if !blob.DefaultURLMux().ValidBucketScheme(u.Scheme) {
		if tag, ok := cloudSchemes[u.Scheme]; ok {
			return nil, "", usageErrorf("--blob-url %s://: this dossier was built without that driver; build it with -tags %s", u.Scheme, tag)
		}
		return nil, "", usageErrorf("--blob-url: unknown scheme %q (file, s3, gs or azblob)", u.Scheme)
	}
	blobs, err := cloudblob.Open(ctx, blobURL)
	if err != nil {
		return nil, "", fmt.Errorf("--blob-url: %w", err)
	}
	// The bucket, without its query (options, never credentials, but long).
	return blobs, u.Scheme + "://" + u.Host + u.Path, nil
}
